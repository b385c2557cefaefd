"""A long message sent as several parts, each with its own provider id: the message's status from its parts'.

The rule, applied whenever a part's report arrives (each step taken once, in order; the status
table refuses a step back):

    any part FAILED              -> the message FAILED (with that part's error), at once
    every part DELIVERED         -> the message DELIVERED
    some part SENT or DELIVERED  -> the message SENT (on its way, not yet complete)

so DELIVERED means the whole text reached the handset, and one lost part fails the message. A part
whose report never comes keeps the message SENT: nothing says the text is whole.
"""

from __future__ import annotations

from collections.abc import Iterable

from herald.domain.message import MessageStatus, can_move

PART_STATUSES = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED})
"""What a part can be told; a part starts with no status (accepted, nothing heard)."""


def combine(states: Iterable[MessageStatus | None]) -> MessageStatus | None:
    """The status of a multipart message from its parts' statuses (None: no part has news yet)."""
    known = list(states)
    if MessageStatus.FAILED in known:
        return MessageStatus.FAILED
    if known and all(s is MessageStatus.DELIVERED for s in known):
        return MessageStatus.DELIVERED
    if any(s in (MessageStatus.SENT, MessageStatus.DELIVERED) for s in known):
        return MessageStatus.SENT
    return None


def part_moves(current: MessageStatus | None, new: MessageStatus) -> bool:
    """Whether a part's report changes the part: forward only, like a message (a late ENROUTE after
    DELIVRD is ignored), and only to a status a part can have."""
    if new not in PART_STATUSES:
        return False
    return current is None or can_move(current, new)
