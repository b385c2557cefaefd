"""Africa's Talking's codes and what they mean to herald: per-recipient send statuses, report statuses, HTTP answers.

The facts come from Africa's Talking's SMS documentation (tests/contract/test_documented_codes.py
holds them against these tables); the adapter in providers/africastalking.py reads them.
"""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from herald.domain.message import MessageStatus
from herald.errors import ProviderOutcome


class RecipientCode(NamedTuple):
    name: str
    outcome: ProviderOutcome | None  # None: accepted (AT took the message and gave it an id)


_P, _T = ProviderOutcome.PERMANENT, ProviderOutcome.TRANSIENT
RECIPIENT_CODES: dict[int, RecipientCode] = {
    100: RecipientCode("Processed", None),
    101: RecipientCode("Sent", None),
    102: RecipientCode("Queued", None),
    401: RecipientCode("RiskHold", _P),  # held by AT's risk review: the same request is held again
    402: RecipientCode("InvalidSenderId", _P),
    403: RecipientCode("InvalidPhoneNumber", _P),
    404: RecipientCode("UnsupportedNumberType", _P),
    # The account, not the message: held (or failed over) until someone tops it up, never failed.
    405: RecipientCode("InsufficientBalance", ProviderOutcome.MISCONFIGURED),
    # The subscriber blacklisted this sender (AT's opt-out for bulk and premium SMS): their own choice.
    406: RecipientCode("UserInBlacklist", ProviderOutcome.OPTED_OUT),
    407: RecipientCode("CouldNotRoute", _P),
    # The operator's do-not-disturb register: fails the message, but is not the client's word to this sender.
    409: RecipientCode("DoNotDisturbRejection", _P),
    500: RecipientCode("InternalServerError", _T),  # AT says it failed this one: nothing was sent, try again
    501: RecipientCode("GatewayError", _T),
    502: RecipientCode("RejectedByGateway", _P),
}
"""Per-recipient `statusCode` of a send answer -> (name, outcome of a refusal)."""

UNKNOWN_RECIPIENT_CODE = _P
"""A statusCode AT does not document: refused, and retrying would meet the same answer."""

REPORT_STATUSES: dict[str, MessageStatus] = {
    "Sent": MessageStatus.SENT,  # left AT for the operator
    "Submitted": MessageStatus.SENT,  # the operator's gateway took it
    "Buffered": MessageStatus.SENT,  # queued at the operator (handset unreachable for now)
    "Success": MessageStatus.DELIVERED,  # delivered to the handset
    "Rejected": MessageStatus.FAILED,  # refused by the operator
    "Failed": MessageStatus.FAILED,  # could not be delivered
    "AbsentSubscriber": MessageStatus.FAILED,  # handset off or out of coverage until the message expired
    "Expired": MessageStatus.FAILED,  # the operator's validity period ran out
}
"""Delivery report `status` -> herald status."""

TRANSIENT_STATUSES = frozenset({"AbsentSubscriber", "Expired", "Buffered"})
"""Final failures whose cause passes (the handset was off or away): a re-send later may reach the client."""

FAILURE_REASONS: dict[str, tuple[str, bool, bool]] = {
    # reason -> (what it means, opted out, passes)
    "InsufficientCredit": ("the subscriber has no credit for a premium message", False, True),
    "InvalidLinkId": ("the premium message's linkId is invalid or expired", False, False),
    "UserIsInactive": ("the subscriber's number is inactive", False, False),
    "UserInBlackList": ("the subscriber blacklisted this sender", True, False),
    "UserAccountSuspended": ("the subscriber's account is suspended", False, False),
    "NotNetworkSubscriber": ("the number is not on the network's subscriber list", False, False),
    "UserNotSubscribedToProduct": ("the subscriber is not subscribed to this product", False, False),
    "UserDoesNotExist": ("the number does not exist", False, False),
    "DeliveryFailure": ("the operator could not deliver it", False, True),
}
"""A failed report's `failureReason` -> (meaning, opted out, passes)."""


def http_outcome(status: int) -> ProviderOutcome:
    """What a non-2xx answer to a whole request means: 429 pauses, 401/403 hold, 408/500/503 retry."""
    if status == 429:
        return ProviderOutcome.THROTTLED
    if status in (401, 403):
        return ProviderOutcome.MISCONFIGURED  # AT refuses the username or API key, not the messages
    if status in SERVER_MAY_HAVE_IT:
        return ProviderOutcome.OUTCOME_UNKNOWN
    return _T if status in (408, 500, 503) else _P


SERVER_MAY_HAVE_IT = frozenset({502, 504})
"""A gateway gave up on AT's answer, not on the request: AT may have sent every message of it, and AT
cannot be asked afterwards, so herald fails them as OUTCOME_UNKNOWN instead of sending them again."""


def recipient_outcome(code: int) -> ProviderOutcome | None:
    """None when AT accepted the recipient, else the outcome of its refusal."""
    known = RECIPIENT_CODES.get(code)
    return known.outcome if known is not None else UNKNOWN_RECIPIENT_CODE


def recipient_name(code: int, status: str | None) -> str:
    known = RECIPIENT_CODES.get(code)
    return known.name if known is not None else (status or f"status {code}")


def cost(text: object) -> tuple[Decimal, str] | None:
    """`"KES 0.8000"` -> (Decimal("0.8000"), "KES"); None for a missing or unreadable cost (`"0"` is 0 of nothing)."""
    if not isinstance(text, str):
        return None
    return _cost(text)


@functools.lru_cache(maxsize=256)
def _cost(text: str) -> tuple[Decimal, str] | None:
    """A bulk send's recipients mostly cost the same: each distinct text is read once."""
    parts = text.split()
    try:
        if len(parts) == 2 and parts[0].isalpha() and len(parts[0]) == 3:
            amount = Decimal(parts[1])
            return (amount, parts[0].upper()) if amount.is_finite() and abs(amount) < 10**8 else None
        if len(parts) == 1 and Decimal(parts[0]) == 0:
            return None  # AT's "0" on a refused recipient: no charge, and no currency to record
    except InvalidOperation:
        return None
    return None
