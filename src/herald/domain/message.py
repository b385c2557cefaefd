"""Message statuses with Fineract's codes, and the one table that says which moves are allowed.

The lifecycle of a campaign message::

    INVALID (0)        never sendable: no or bad number, opted out, template error; always with a reason
    PENDING (100) ──send──▶ WAITING_FOR_DELIVERY_REPORT (150) ──report──▶ SENT (200) ──▶ DELIVERED (300)
        │                          │                                       └────────▶ FAILED (400)
        │                          ├──report──▶ DELIVERED / FAILED (a report may skip SENT)
        ├──permanent error / retries exhausted──▶ FAILED (400)
        └──number opted out before it was sent──▶ INVALID (0)

A status never moves backwards: a late "sent" after "delivered" changes nothing. DELIVERED,
FAILED and INVALID are final. (Retries keep a message PENDING with a later `not_before`.)

This module is the one place the statuses are listed: the tabs' order, their words and labels,
and the named groups (final, in flight, awaiting a report, provider outcomes, counted as failed)
that the store, the API, the UI, the statistics and the CLI use.
"""

from __future__ import annotations

from enum import IntEnum


class MessageStatus(IntEnum):
    """Fineract's `sms_messages_outbound.status_enum` codes; herald keeps them in its API."""

    INVALID = 0
    PENDING = 100
    WAITING_FOR_DELIVERY_REPORT = 150
    SENT = 200
    DELIVERED = 300
    FAILED = 400

    @property
    def label(self) -> str:
        """The tab name a Mifos user knows."""
        return _NAMES[self][0]

    @property
    def word(self) -> str:
        """The short lower-case name people type and URLs carry (pending, waiting, sent ...)."""
        return _NAMES[self][1]

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


_NAMES = {
    MessageStatus.INVALID: ("Invalid", "invalid"),
    MessageStatus.PENDING: ("Pending", "pending"),
    MessageStatus.WAITING_FOR_DELIVERY_REPORT: ("Waiting for delivery report", "waiting"),
    MessageStatus.SENT: ("Sent", "sent"),
    MessageStatus.DELIVERED: ("Delivered", "delivered"),
    MessageStatus.FAILED: ("Failed", "failed"),
}

TAB_ORDER: tuple[MessageStatus, ...] = (
    MessageStatus.PENDING,
    MessageStatus.WAITING_FOR_DELIVERY_REPORT,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.FAILED,
    MessageStatus.INVALID,
)
"""The seed's tabs in its order: every list of statuses shown to people (UI tabs, API counts, demo table)."""

FINAL_STATUSES = frozenset({MessageStatus.INVALID, MessageStatus.DELIVERED, MessageStatus.FAILED})
"""Nothing more happens to a message in these."""

IN_FLIGHT = frozenset(s for s in MessageStatus if s not in FINAL_STATUSES)
"""Still to be sent (PENDING) or still to hear of (WAITING_FOR_DELIVERY_REPORT, SENT): the worker is not idle."""

AWAITING_REPORT = frozenset({MessageStatus.WAITING_FOR_DELIVERY_REPORT, MessageStatus.SENT})
"""A provider has it and its final outcome is still to come: what the report job asks about."""

OUTCOMES = frozenset({MessageStatus.DELIVERED, MessageStatus.FAILED})
"""A provider's final word on a message that was sent: the delivery rate is delivered over these."""

COUNTED_AS_FAILED = frozenset({MessageStatus.FAILED, MessageStatus.INVALID})
"""Not delivered and never will be, whether a provider refused it or herald never could send it."""

TRANSITIONS: dict[MessageStatus, frozenset[MessageStatus]] = {
    MessageStatus.INVALID: frozenset(),
    MessageStatus.PENDING: frozenset(
        {MessageStatus.WAITING_FOR_DELIVERY_REPORT, MessageStatus.FAILED, MessageStatus.INVALID}
    ),
    MessageStatus.WAITING_FOR_DELIVERY_REPORT: frozenset(
        {MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED}
    ),
    MessageStatus.SENT: frozenset({MessageStatus.DELIVERED, MessageStatus.FAILED}),
    MessageStatus.DELIVERED: frozenset(),
    MessageStatus.FAILED: frozenset(),
}
"""Allowed moves. Anything else (backwards, out of a final status) is ignored, not an error:
delivery reports arrive late, twice and out of order, and that is normal."""


def status_named(text: str) -> MessageStatus | None:
    """The status a person means by `text`: its name (delivered, waiting_for_delivery_report) or word (waiting)."""
    name = text.strip().upper().replace(" ", "_")
    if name in MessageStatus.__members__:
        return MessageStatus[name]
    return next((s for s in MessageStatus if s.word == name.lower()), None)


def can_move(current: MessageStatus, new: MessageStatus) -> bool:
    """Whether a message in `current` may move to `new`."""
    return new in TRANSITIONS[current]


def sources_of(new: MessageStatus) -> frozenset[MessageStatus]:
    """The statuses from which `new` may be reached: the guard of a conditional UPDATE."""
    return frozenset(s for s, targets in TRANSITIONS.items() if new in targets)
