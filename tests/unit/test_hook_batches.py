"""HookBatches: each waiting hook gets the answer about itself, whatever happens to the batch it went in.

The store is the callable `herald serve` binds (materialize_events); here one that records the
batches it was given and fails as a real one does (the core bank down for one tenant).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from herald.errors import CoreBankError, ParameterError
from herald.services.hook_batches import HookBatches
from herald.services.hooks import FineractEvent
from herald.services.triggered import EventOutcome, Materialized


class Store:
    """Makes one message per event (id = the event's resourceId); a batch with a `down` tenant fails whole."""

    def __init__(self, down: str = "", refuse: int = 0) -> None:
        self.batches: list[list[int]] = []
        self.down, self.refuse = down, refuse
        self.release = threading.Event()
        self.release.set()

    def __call__(self, events: Sequence[FineractEvent]) -> Materialized:
        self.release.wait(5)
        self.batches.append([e.ids["resourceId"] for e in events])
        if any(e.tenant == self.down for e in events):
            raise CoreBankError(f"the core bank of {self.down} does not answer")
        outcomes = [
            EventOutcome(refused="Event id resourceId is not known.")
            if e.ids["resourceId"] == self.refuse
            else EventOutcome(created=1, campaigns=1)
            for e in events
        ]
        return Materialized(
            outcomes, pending_ids=[e.ids["resourceId"] for e in events if e.ids["resourceId"] != self.refuse]
        )


def _event(n: int, tenant: str = "default") -> FineractEvent:
    return FineractEvent(tenant, "LOAN", "REPAYMENT", {"resourceId": n})


def test_hooks_arriving_while_a_batch_is_stored_go_together_in_the_next() -> None:
    store, pending = Store(), []

    async def run() -> list[object]:
        batches = HookBatches(store, pending.extend)
        store.release.clear()
        first = asyncio.create_task(batches.store(_event(1)))
        await asyncio.sleep(0.05)  # the first is being stored when the others arrive
        rest = [asyncio.create_task(batches.store(_event(n))) for n in range(2, 12)]
        await asyncio.sleep(0.05)
        store.release.set()
        return await asyncio.gather(first, *rest)

    answers = asyncio.run(run())
    assert store.batches == [[1], list(range(2, 12))]
    assert all(a == {"campaigns": 1, "created": 1, "duplicates": 0, "too_late": 0} for a in answers)
    assert sorted(pending) == list(range(1, 12))  # every new message handed to the sender


def test_a_batch_that_fails_whole_is_stored_again_one_hook_at_a_time() -> None:
    store, pending = Store(down="kampala", refuse=5), []

    async def run() -> list[object]:
        batches = HookBatches(store, pending.extend)
        store.release.clear()
        first = asyncio.create_task(batches.store(_event(1)))
        await asyncio.sleep(0.05)
        rest = [asyncio.create_task(batches.store(_event(n, "kampala" if n == 4 else "default"))) for n in range(2, 8)]
        await asyncio.sleep(0.05)
        store.release.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    answers = asyncio.run(run())
    assert isinstance(answers[3], CoreBankError)  # hook 4: its own tenant's core bank is down
    assert isinstance(answers[4], ParameterError) and "not known" in str(answers[4])  # hook 5: its ids refused
    assert [type(a) for n, a in enumerate(answers, 1) if n not in (4, 5)] == [dict] * 5
    assert sorted(pending) == [1, 2, 3, 6, 7]


def test_a_hook_whose_caller_went_away_does_not_stop_the_others() -> None:
    store, pending = Store(), []

    async def run() -> list[object]:
        batches = HookBatches(store, pending.extend)
        store.release.clear()
        waiting = [asyncio.create_task(batches.store(_event(n))) for n in range(1, 5)]
        await asyncio.sleep(0.05)
        waiting[1].cancel()  # the client hung up; what is stored for it stays stored
        store.release.set()
        return await asyncio.gather(*waiting, return_exceptions=True)

    answers = asyncio.run(run())
    assert isinstance(answers[1], asyncio.CancelledError)
    assert [a for n, a in enumerate(answers) if n != 1] == [
        {"campaigns": 1, "created": 1, "duplicates": 0, "too_late": 0}
    ] * 3
    assert sorted(pending) == [1, 2, 3, 4]


@pytest.mark.parametrize("most", [1, 3])
def test_no_batch_is_larger_than_the_limit(most: int) -> None:
    store = Store()

    async def run() -> None:
        batches = HookBatches(store, lambda ids: None, most=most)
        store.release.clear()
        tasks = [asyncio.create_task(batches.store(_event(n))) for n in range(1, 9)]
        await asyncio.sleep(0.05)
        store.release.set()
        await asyncio.gather(*tasks)

    asyncio.run(run())
    assert [n for batch in store.batches for n in batch] == list(range(1, 9))
    assert max(len(b) for b in store.batches) == most
