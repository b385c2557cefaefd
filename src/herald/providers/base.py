"""The provider protocol: the one small port every SMS provider adapter implements.

An adapter turns herald's OutboundMessages into the provider's wire format and the provider's
answers, callbacks and receipts back into SendResults, DeliveryReports and InboundMessages. Every
foreign failure (HTTP status, socket error, SMPP command_status) leaves the adapter as a
ProviderError whose `outcome` comes from the adapter's mapping table (HTTP transport errors from
providers/http_edge.py's one table).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from herald.domain.reports import DeliveryReport, InboundMessage
from herald.errors import ProviderError


def reference(installation: str, message_id: int, attempt: int) -> str:
    """herald's own id for one attempt: `herald-<installation>-<row id>-<attempt>` (at most 56 characters).

    Row ids repeat across herald databases, so the installation id (store/installation.py) makes the
    reference unique on a provider account several installations share. Without one it is the form
    herald sent before installations had ids, `herald-<row id>-<attempt>`.
    """
    return f"herald-{installation}-{message_id}-{attempt}" if installation else f"herald-{message_id}-{attempt}"


@dataclass(frozen=True)
class OutboundMessage:
    """One message handed to a provider: herald's id, the E.164 number, the text and the attempt number.

    `reference` is herald's own id for this attempt (see `reference()`): adapters whose provider
    accepts a client reference (Infobip's messageId) send it, so a report can be matched even before
    the send call returns. The send job always sets `installation`; only tests leave it out. SMPP
    sends none: user_message_reference (TLV 0x0204) is a 2-octet number that cannot hold it, an SMSC
    may but need not echo it in a receipt, and query_sm cannot look it up, so SMPP receipts are
    matched by the SMSC's message_id alone.
    """

    message_id: int
    to: str
    body: str
    attempt: int = 1
    sender: str | None = None  # the campaign's sender id (checked by domain/senders.py); None: the provider's own
    installation: str = ""  # this installation's id, carried in the reference

    @property
    def reference(self) -> str:
        return reference(self.installation, self.message_id, self.attempt)


@dataclass(frozen=True)
class SendResult:
    """What the provider said about one message: accepted with its id, or refused with an error."""

    message_id: int
    external_id: str | None = None
    error: ProviderError | None = None
    # A long message sent as several parts with their own provider ids (SMPP): every part's id, the
    # first being external_id. herald stores them so each part's report finds the message. () otherwise.
    part_ids: tuple[str, ...] = ()
    # What the provider says it charged for this message, when its answer says (Africa's Talking's
    # "KES 0.8000"): the amount and its ISO currency. None: the answer carries no cost.
    cost: Decimal | None = None
    cost_currency: str | None = None

    @property
    def accepted(self) -> bool:
        return self.error is None and self.external_id is not None


@dataclass(frozen=True)
class WebhookRequest:
    """A provider's HTTP call to herald, as received: what signature checks and parsers need.

    `url` is the public URL the provider called (herald's configured public base URL plus the
    path), not what the proxy in front of herald forwarded; header names are lower case.
    """

    url: str
    method: str
    headers: Mapping[str, str]
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookBatch:
    reports: list[DeliveryReport] = field(default_factory=list)
    inbound: list[InboundMessage] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why each unreadable item of a batch was left out
    # Numbers the provider says opted out of this sender (Africa's Talking's opt-out notifications),
    # as the provider wrote them: herald normalises them and puts them on its opt-out list.
    optouts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WebhookAnswer:
    """The body of a 2xx answer to a webhook call, when the provider expects a particular one (Twilio: TwiML)."""

    media_type: str
    body: bytes


@dataclass(frozen=True)
class ProviderCheck:
    """The answer of `herald providers check`: reachable, credentials accepted, in one sentence."""

    ok: bool
    detail: str


@dataclass(frozen=True)
class InDoubt:
    """A message whose earlier attempt may have reached the provider: its worker died or got no answer."""

    message_id: int
    to: str
    body: str
    attempt: int  # the attempt whose outcome is unknown (its reference: see `reference()`)
    since: datetime  # when that attempt started
    sender: str | None = None  # the sender id it went out under (a lookup by sender must use the same)
    installation: str = ""  # this installation's id (store/installation.py)
    installed_since: datetime | None = None  # when it was made: attempts begun earlier carried the old form
    # Provider ids herald holds for other messages (a re-send of the same text to the same number, ...):
    # never this attempt, however alike it looks.
    taken: frozenset[str] = frozenset()

    @property
    def reference(self) -> str:
        return reference(self.installation, self.message_id, self.attempt)

    @property
    def legacy(self) -> bool:
        """Whether an attempt may have gone out under the old `herald-<id>-<attempt>` form (begun before
        the installation had an id). Such a reference may also be another installation's: check more."""
        return not self.installation or self.installed_since is None or self.since <= self.installed_since

    @property
    def references(self) -> list[str]:
        """Every reference an attempt of this message may have carried: attempt numbers 1 to `attempt`
        (an attempt given back reuses its number, so any of them may be the one the provider holds),
        in this installation's form, and in the old form too when the doubt began before it."""
        attempts = range(1, max(self.attempt, 1) + 1)
        current = [reference(self.installation, self.message_id, n) for n in attempts] if self.installation else []
        return current + ([reference("", self.message_id, n) for n in attempts] if self.legacy else [])


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), 3600.0)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(max((when - now).total_seconds(), 0.0), 3600.0)


ReportSink = Callable[[str, Sequence[DeliveryReport]], Awaitable[None]]
"""Where an adapter hands reports that arrive on its own connection (SMPP receipts): (provider name, reports)."""

InboundSink = Callable[[str, Sequence[InboundMessage]], Awaitable[None]]
"""Where an adapter hands replies that arrive on its own connection (SMPP mobile-originated messages)."""


class Provider(Protocol):
    """Send messages, pull and parse delivery reports, and say whether the provider is usable."""

    name: str
    kind: str
    max_batch: int  # how many messages one send() call should carry (1 for per-message APIs handled concurrently)
    # Whether reports arrive by themselves (callbacks, receipts on the bind): then the pull job only
    # asks about messages that have heard nothing for a while, instead of every waiting message.
    pushes_reports: bool
    # Whether fetch_reports asks about each message by a request of its own (Twilio's message resource,
    # SMPP's query_sm) or has nothing to ask (Africa's Talking): then a message is asked about less often
    # the longer its report takes (store/messages.py, ASKING), not at every run for as long as it waits.
    asks_one_by_one: bool

    async def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        """Hand messages over; one result per message, in order. Never raises for one bad message:
        a whole-request failure becomes the same error on every result."""
        ...

    async def fetch_reports(self, external_ids: Sequence[str]) -> list[DeliveryReport]:
        """Current reports for accepted messages (the pull path); ids with nothing new are left out."""
        ...

    def parse_webhook(self, request: WebhookRequest) -> WebhookBatch:
        """Authenticate and parse a push (status callback, report batch, inbound SMS).

        Raises WebhookError(status=403) for a missing or forged signature or secret and
        WebhookError(status=400) for a body that is not the provider's format.
        """
        ...

    async def check(self) -> ProviderCheck:
        """Reachability and credentials, without sending a message."""
        ...

    async def close(self) -> None:
        """Release connections; the adapter reconnects by itself if used again."""
        ...


@runtime_checkable
class AnswersWebhooks(Protocol):
    """A provider that wants a particular body in herald's 2xx answer to its webhook calls."""

    def webhook_answer(self, batch: WebhookBatch) -> WebhookAnswer | None:
        """The answer to a call whose parsed batch was stored; None: herald's JSON counts will do."""
        ...


@runtime_checkable
class Reconciling(Protocol):
    """A provider that can say whether it already holds a message (so an unknown outcome is not resent)."""

    async def lookup(self, messages: Sequence[InDoubt]) -> dict[int, str]:
        """herald message id -> the provider's id, for the messages the provider already accepted."""
        ...


@runtime_checkable
class FailsInDoubt(Protocol):
    """A provider that cannot be asked whether it holds a message and whose bulk sends must never go twice
    (Africa's Talking has no per-message lookup): a message whose send answer was lost there is FAILED as
    OUTCOME_UNKNOWN, never sent again blind (README, Exactly once)."""

    def in_doubt_reason(self) -> str:
        """Why a message in doubt at this provider is not sent again, for its error text."""
        ...


@runtime_checkable
class ReportLookup(Protocol):
    """A provider that can be asked for a message's report by herald's reference (Infobip's logs): for
    messages waiting `report_lookup_after` seconds, whose report may have been lost on the way."""

    report_lookup_after: float

    async def lookup_reports(self, wanted: Mapping[str, str]) -> list[DeliveryReport]:
        """Final reports for the messages asked (external id -> the E.164 number it went to); ids the
        provider knows nothing final about are left out."""
        ...
