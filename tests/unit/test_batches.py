"""Batches: an item that sets off an error fails alone; the items batched with it are stored and answered."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from herald.errors import HeraldError
from herald.services.batches import Batches, Then


class Store:
    """Stores strings in upper case; "bug" raises a TypeError (a defect), "busy" a HeraldError, for its whole batch."""

    def __init__(self) -> None:
        self.stored: list[str] = []
        self.batches: list[list[str]] = []
        self.release = threading.Event()

    def __call__(self, items: Sequence[str]) -> tuple[list[str | HeraldError], Then]:
        self.release.wait(5)
        self.batches.append(list(items))
        if "bug" in items:
            raise TypeError("a defect set off by one item")
        if "busy" in items and len(items) > 1:
            raise HeraldError("the database is busy")
        self.stored += items
        return [item.upper() for item in items], None


@pytest.mark.parametrize("odd", ["bug", "busy"])
def test_an_item_that_fails_its_batch_fails_alone_and_the_others_are_stored_once(odd: str) -> None:
    store = Store()

    async def run() -> list[object]:
        batches: Batches[str, str] = Batches(store)
        first = asyncio.create_task(batches.store("first"))  # being stored while the rest arrive
        await asyncio.sleep(0.05)
        rest = [asyncio.create_task(batches.store(item)) for item in ["a", "b", odd, "d", "e"]]
        await asyncio.sleep(0.05)
        store.release.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    answers = asyncio.run(run())
    assert store.batches[:2] == [["first"], ["a", "b", odd, "d", "e"]], "the rest went as one batch"
    assert answers[:3] == ["FIRST", "A", "B"] and answers[4:] == ["D", "E"]
    if odd == "bug":
        assert isinstance(answers[3], TypeError)
        assert sorted(store.stored) == ["a", "b", "d", "e", "first"]
    else:  # alone it goes through
        assert answers[3] == "BUSY"
        assert sorted(store.stored) == ["a", "b", "busy", "d", "e", "first"]
