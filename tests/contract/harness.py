"""What every provider's contract harness offers: the adapter wired to a local fake, and levers on the fake.

A harness module lives in tests/contract/ as `harness_<kind>.py` and exposes `async def make() -> Harness`.
The simulator's harness is here; Twilio's, Infobip's and SMPP's sit beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from herald.domain.message import MessageStatus
from herald.providers.base import Provider, WebhookRequest


class Fault(StrEnum):
    """Failures a fake can inject into its next send request(s)."""

    SERVER_ERROR = "5xx"  # transient
    THROTTLED = "429 / throttled / queue full"  # transient
    TIMEOUT = "no answer before the adapter's timeout"  # transient
    DISCONNECT = "connection dropped mid-request"  # transient
    MALFORMED = "a 200 whose body is not the provider's format"  # transient (unknown outcome, try again)
    INVALID_NUMBER = "the provider says the number is invalid"  # permanent
    UNSUBSCRIBED = "the recipient unsubscribed"  # permanent, opted_out
    BAD_CREDENTIALS = "401 / bind refused"  # permanent for the whole request


@dataclass(frozen=True)
class Capabilities:
    pull: bool
    push: bool
    faults: frozenset[Fault]


class Harness(Protocol):
    provider: Provider
    capabilities: Capabilities

    def inject(self, fault: Fault, times: int = 1) -> None:
        """Make the next `times` send requests fail this way."""
        ...

    async def settle(self, external_id: str, status: MessageStatus, error_code: str | None = None) -> None:
        """Move the fake's message to a final (or SENT) status, as the network would."""
        ...

    def push_request(self, external_id: str, status: MessageStatus, *, forged: bool = False) -> WebhookRequest:
        """The webhook call the provider would make for this report (signed or with its secret unless forged)."""
        ...

    def malformed_push(self) -> WebhookRequest:
        """An authentic call whose body is not the provider's format."""
        ...

    def inbound_request(self, from_number: str, text: str) -> WebhookRequest:
        """An inbound SMS (a STOP reply) as the provider would push it."""
        ...

    def code_tables(self) -> dict[str, dict[str, object]]:
        """The adapter's mapping tables (code -> herald outcome), checked in test_documented_codes."""
        ...

    async def close(self) -> None: ...
