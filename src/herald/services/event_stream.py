"""Running the external-event consumer beside the jobs: the broker's thread stores, the loop sends.

The transport's thread calls `handle` for each batch; it stores what the batch produced (the
transport acknowledges after) and hands the new messages to the immediate sender on the worker's
event loop, so a repayment's receipt goes out without waiting for the send job's next tick.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from herald.events.transport import Delivery, EventSource
from herald.services.external_events import EventConsumer, Handled
from herald.services.immediate import ImmediateSender

log = logging.getLogger(__name__)


@dataclass
class StreamState:
    """What the stream has done since this process started (for logs and the jobs page)."""

    batches: int = 0
    events: int = 0
    created: int = 0
    parked: int = 0
    last_at: datetime | None = None
    running: bool = False
    stopped: threading.Event = field(default_factory=threading.Event)


class EventStream:
    """One subscription, consumed in a thread of its own until `stop()`."""

    def __init__(self, source: EventSource, consumer: EventConsumer, immediate: ImmediateSender) -> None:
        self.source, self.consumer, self.immediate = source, consumer, immediate
        self.state = StreamState()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Consume until stopped; returns when the transport has let go of the broker."""
        loop = asyncio.get_running_loop()

        def handle(batch: Sequence[Delivery]) -> None:
            done: Handled = self.consumer.handle(batch)
            state = self.state
            state.batches += 1
            state.events += done.events
            state.created += done.created
            state.parked += done.parked
            state.last_at = self.consumer.clock.now()
            if done.pending_ids and not loop.is_closed():
                loop.call_soon_threadsafe(self.immediate.submit, list(done.pending_ids))

        self.state.running = True
        try:
            await asyncio.to_thread(self.source.run, handle, self._stop)
        finally:
            self.state.running = False
            self.state.stopped.set()
