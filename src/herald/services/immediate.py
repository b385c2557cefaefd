"""Sending triggered messages the moment they are stored, a few events' worth per provider call."""

from __future__ import annotations

import asyncio

from herald.services.send import Sender


class ImmediateSender:
    """Hands triggered messages to their providers as they come, a few hooks' worth per provider call.

    At hundreds of hooks per second, one claim-send-record round per hook spends its time in
    database commits; gathering what arrives within a few milliseconds keeps each hook's wait
    short and the commits few.
    """

    def __init__(self, sender: Sender, window: float = 0.01, most: int = 200) -> None:
        self.sender, self.window, self.most = sender, window, most
        self._queue: asyncio.Queue[int] | None = None
        self._task: asyncio.Task[None] | None = None

    def submit(self, ids: list[int]) -> None:
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.create_task(self._drain(self._queue))
        for message_id in ids:
            self._queue.put_nowait(message_id)

    async def _drain(self, queue: asyncio.Queue[int]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            ids = [await queue.get()]
            until = loop.time() + self.window
            while len(ids) < self.most and (wait := until - loop.time()) > 0:
                try:
                    ids.append(await asyncio.wait_for(queue.get(), wait))
                except TimeoutError:
                    break
            while len(ids) < self.most and not queue.empty():
                ids.append(queue.get_nowait())
            await self.sender.send_now(ids)
