"""Hooks that arrive together are stored together: one `materialize_events` for all waiting at once.

Each hook is answered only once its messages are stored, as before. While one batch is being
stored (in a thread), the hooks that arrive meanwhile wait and go as the next batch, so a quiet
installation stores each hook alone at once, and a burst costs a few transactions and rule
statements per batch instead of per hook: at 500 hooks a second, one at a time spent its time in
commits and the hooks queued behind one another for seconds.

A batch that fails as a whole (a campaign the rule cannot run, the core bank down) is stored again
one hook at a time, so each hook gets its own answer and a bad one does not take the others down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from anyio import to_thread

from herald.errors import HeraldError, ParameterError
from herald.services.hooks import FineractEvent
from herald.services.triggered import EventOutcome, Materialized

Store = Callable[[Sequence[FineractEvent]], Materialized]

MOST = 500
"""Hooks stored in one batch at most (what waits beyond goes in the next)."""


class HookBatches:
    """Stores hooks in batches on this event loop; `store(event)` returns that hook's counts."""

    def __init__(self, store: Store, on_pending: Callable[[list[int]], None], most: int = MOST) -> None:
        """`store`: materialize_events with its parts bound; `on_pending`: told each batch's new PENDING ids."""
        self._store, self._on_pending, self.most = store, on_pending, most
        self._waiting: list[tuple[FineractEvent, asyncio.Future[dict[str, Any]]]] = []
        self._running: asyncio.Task[None] | None = None
        self.batches = 0  # stored so far (one-by-one retries not counted)

    async def store(self, event: FineractEvent) -> dict[str, Any]:
        """The hook's counts (campaigns, created, duplicates, too_late) once its messages are stored;
        raises the HeraldError that kept them from being stored (ParameterError: ids the rule cannot use)."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.append((event, future))
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.most], self._waiting[self.most :]
            try:
                await self._one_batch(batch)
            except BaseException as exc:  # cancelled (shutdown) or a bug: no hook may wait forever
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else HeraldError("herald is stopping"))
                if not isinstance(exc, Exception):
                    raise

    async def _one_batch(self, batch: list[tuple[FineractEvent, asyncio.Future[dict[str, Any]]]]) -> None:
        events = [event for event, _ in batch]
        try:
            done = await to_thread.run_sync(self._store, events)
        except HeraldError as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            for one in batch:  # each hook its own answer: only the ones that cannot be stored fail
                await self._one_batch([one])
            return
        self.batches += 1
        if done.pending_ids:
            self._on_pending(list(done.pending_ids))
        for (_, future), outcome in zip(batch, done.outcomes, strict=True):
            _settle(future, _counts(outcome))


def _counts(outcome: EventOutcome) -> dict[str, Any] | HeraldError:
    if outcome.refused is not None:
        return ParameterError(outcome.refused)
    return {
        "campaigns": outcome.campaigns,
        "created": outcome.created,
        "duplicates": outcome.duplicates,
        "too_late": outcome.too_late,
    }


def _settle(future: asyncio.Future[dict[str, Any]], result: dict[str, Any] | HeraldError) -> None:
    if future.done():  # its request went away (the client hung up): what was stored stays stored
        return
    if isinstance(result, HeraldError):
        future.set_exception(result)
    else:
        future.set_result(result)
