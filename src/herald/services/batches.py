"""Work that arrives together is stored together: one transaction for everything waiting at once.

Each caller is answered only once its own item is stored, about its own item. While one batch is
being stored (in a thread), the items that arrive meanwhile wait and go as the next batch, so a quiet
installation stores each item alone at once, and a burst costs a transaction per batch instead of
one per item (on SQLite a commit is most of what storing a hook or a report costs).

A batch that fails as a whole (HeraldError: the core bank down, the database busy; or any other
error one item sets off) is stored again one item at a time, so each caller gets its own answer and
a bad item does not take the others down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from anyio import to_thread

from herald.errors import HeraldError

Item = TypeVar("Item")
Result = TypeVar("Result")

Then = Callable[[], None] | None
"""What to do on the event loop once a batch is stored (hand its new messages to the sender), or None."""

MOST = 500
"""Items stored in one batch at most (what waits beyond goes in the next)."""


class Batches(Generic[Item, Result]):
    """Stores items in batches on this event loop; `store(item)` returns that item's result.

    `store_all` runs in a thread and returns one result per item, in order (a HeraldError for an item
    that could not be stored), and what to do on the loop afterwards.
    """

    def __init__(
        self, store_all: Callable[[Sequence[Item]], tuple[Sequence[Result | HeraldError], Then]], most: int = MOST
    ) -> None:
        self._store_all, self.most = store_all, most
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._running: asyncio.Task[None] | None = None
        self.batches = 0  # stored so far (one-by-one retries not counted)

    async def store(self, item: Item) -> Result:
        """The item's result once it is stored; raises what kept it from being stored (a HeraldError, or
        the error the item set off)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        if self._running is not None and self._running.get_loop() is not loop:
            # One Herald outlives a one-off job's event loop: what waited on a loop that is gone went with it.
            self._waiting = [(i, f) for i, f in self._waiting if f.get_loop() is loop]
            self._running = None
        self._waiting.append((item, future))
        if self._running is None or self._running.done():
            self._running = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.most], self._waiting[self.most :]
            try:
                await self._one_batch(batch)
            except BaseException as exc:  # cancelled (shutdown) or a bug: nobody may wait forever
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else HeraldError("herald is stopping"))
                if not isinstance(exc, Exception):
                    raise

    async def _one_batch(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        items = [item for item, _ in batch]
        try:
            results, then = await to_thread.run_sync(self._store_all, items)
        except Exception as exc:  # HeraldError, or a bug one item sets off: it must not fail the others
            if len(batch) == 1:
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
            for one in batch:  # each its own answer: only the ones that cannot be stored fail
                await self._one_batch([one])
            return
        self.batches += 1
        if then is not None:
            then()
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)


def _settle(future: asyncio.Future[Result], result: Result | HeraldError) -> None:
    if future.done():  # its request went away (the client hung up): what was stored stays stored
        return
    if isinstance(result, HeraldError):
        future.set_exception(result)
    else:
        future.set_result(result)
