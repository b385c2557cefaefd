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
        return _LABELS[self]

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


_LABELS = {
    MessageStatus.INVALID: "Invalid",
    MessageStatus.PENDING: "Pending",
    MessageStatus.WAITING_FOR_DELIVERY_REPORT: "Waiting for delivery report",
    MessageStatus.SENT: "Sent",
    MessageStatus.DELIVERED: "Delivered",
    MessageStatus.FAILED: "Failed",
}

FINAL_STATUSES = frozenset({MessageStatus.INVALID, MessageStatus.DELIVERED, MessageStatus.FAILED})

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


def can_move(current: MessageStatus, new: MessageStatus) -> bool:
    """Whether a message in `current` may move to `new`."""
    return new in TRANSITIONS[current]


def sources_of(new: MessageStatus) -> frozenset[MessageStatus]:
    """The statuses from which `new` may be reached: the guard of a conditional UPDATE."""
    return frozenset(s for s, targets in TRANSITIONS.items() if new in targets)
