"""What providers tell herald after a send: delivery reports on accepted messages and clients' replies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from herald.domain.message import MessageStatus


@dataclass(frozen=True)
class DeliveryReport:
    """A provider's news about a message it accepted (SENT, DELIVERED or FAILED)."""

    external_id: str
    status: MessageStatus
    at: datetime
    error_code: str | None = None
    error_text: str | None = None
    opted_out: bool = False  # the failure says the recipient unsubscribed: herald adds the number to its opt-out list
    # The failure passes (handset off or out of coverage, a busy network): a re-send later may reach
    # the client. Only a FAILED report is ever transient, and never one that is an opt-out.
    transient: bool = False


@dataclass(frozen=True)
class InboundMessage:
    """A message a client sent back (a STOP, a question), as the provider delivered it."""

    from_number: str
    text: str
    at: datetime
