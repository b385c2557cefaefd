"""What every broker transport gives the consumer: batches of message bodies, acknowledged once stored.

A transport (one module per broker: `stomp` for ActiveMQ; Kafka would be one more) receives
Fineract's messages, hands them to `handle` in small batches and acknowledges each message of a
batch only after `handle` returned: what a message produced is stored by then, so a crash at any
point leaves it unacknowledged and the broker delivers it again. When `handle` raises, nothing of
the batch is acknowledged; the transport reconnects after a pause and the broker redelivers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Delivery:
    """One message from the broker."""

    body: bytes
    message_id: str  # the broker's id, for logs and the dead-letter list
    redelivered: bool = False


Handler = Callable[[Sequence[Delivery]], None]
"""Stores what the deliveries produce and returns; raising refuses the whole batch (it comes again)."""


class EventSource(Protocol):
    """A broker subscription."""

    def run(self, handle: Handler, stop: threading.Event) -> None:
        """Consume until `stop` is set, reconnecting (with a growing pause) whenever the broker is lost."""
        ...
