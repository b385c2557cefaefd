"""The provider protocol: the one small port every SMS provider adapter implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from herald.domain.message import MessageStatus
from herald.errors import ProviderError


@dataclass(frozen=True)
class OutboundMessage:
    """One message handed to a provider: herald's id, the E.164 number and the text."""

    message_id: int
    to: str
    body: str
    attempt: int = 1


@dataclass(frozen=True)
class SendResult:
    """What the provider said about one message: accepted with its id, or refused with an error."""

    message_id: int
    external_id: str | None = None
    error: ProviderError | None = None

    @property
    def accepted(self) -> bool:
        return self.error is None and self.external_id is not None


@dataclass(frozen=True)
class DeliveryReport:
    """A provider's news about a message it accepted (SENT, DELIVERED or FAILED)."""

    external_id: str
    status: MessageStatus
    at: datetime
    error_code: str | None = None
    error_text: str | None = None


class Provider(Protocol):
    """Send messages and, where the provider supports it, pull their delivery reports."""

    name: str

    async def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        """Hand messages over; one result per message, in order. Never raises for one bad message."""
        ...

    async def fetch_reports(self, external_ids: Sequence[str]) -> list[DeliveryReport]:
        """Current reports for accepted messages; ids with nothing new are left out."""
        ...

    async def close(self) -> None: ...
