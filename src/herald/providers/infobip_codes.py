"""Infobip's codes and what they mean to herald: status groups and ids, error groups and ids, whole-request answers.

The facts come from Infobip's response-code documentation (tests/contract/test_documented_codes.py
holds them against these tables); the adapter in providers/infobip.py reads them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from herald.domain.message import MessageStatus
from herald.errors import ProviderOutcome


class ErrorClass(StrEnum):
    """How an Infobip error (or a failing status's send-time rejection) reads to herald."""

    NONE = "no error"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    OPT_OUT = "permanent, recipient opted out"


Outcome = MessageStatus | Literal["accepted"]
"""What a status means to herald: a report's status, or "accepted" (still with Infobip: no report)."""

STATUS_GROUPS: dict[int, tuple[str, Outcome]] = {
    0: ("ACCEPTED", "accepted"),
    1: ("PENDING", "accepted"),
    2: ("UNDELIVERABLE", MessageStatus.FAILED),
    3: ("DELIVERED", MessageStatus.DELIVERED),
    4: ("EXPIRED", MessageStatus.FAILED),
    5: ("REJECTED", MessageStatus.FAILED),
}
"""Fallback for status ids missing from STATUS_IDS."""

_P, _F = ErrorClass.PERMANENT, ErrorClass.NONE
STATUS_IDS: dict[int, tuple[str, Outcome, ErrorClass]] = {
    1: ("PENDING_TIME_VIOLATION", "accepted", _F),  # held back by a delivery time window: still Infobip's
    2: ("DELIVERED_TO_OPERATOR", MessageStatus.SENT, _F),  # not handset delivery: herald's "Sent" says exactly that
    3: ("PENDING_WAITING_DELIVERY", MessageStatus.SENT, _F),  # handed to the operator, waiting for the handset
    4: ("UNDELIVERABLE_REJECTED_OPERATOR", MessageStatus.FAILED, _P),
    5: ("DELIVERED_TO_HANDSET", MessageStatus.DELIVERED, _F),
    6: ("REJECTED_NETWORK", MessageStatus.FAILED, _P),
    7: ("PENDING_ENROUTE", MessageStatus.SENT, _F),
    8: ("REJECTED_PREFIX_MISSING", MessageStatus.FAILED, _P),
    9: ("UNDELIVERABLE_NOT_DELIVERED", MessageStatus.FAILED, _P),
    # An operator's do-not-disturb register, not the client's word to this institution: herald fails the
    # message but keeps the number (another route, or the client leaving the register, may reach it).
    10: ("REJECTED_DND", MessageStatus.FAILED, _P),
    11: ("REJECTED_SOURCE", MessageStatus.FAILED, _P),
    12: ("REJECTED_NOT_ENOUGH_CREDITS", MessageStatus.FAILED, _P),
    13: ("REJECTED_SENDER", MessageStatus.FAILED, _P),
    14: ("REJECTED_DESTINATION", MessageStatus.FAILED, _P),  # now REJECTED_DESTINATION_BLOCKLISTED: a block list
    15: ("EXPIRED_EXPIRED", MessageStatus.FAILED, _P),
    16: ("REJECTED_NOT_REACHABLE", MessageStatus.FAILED, _P),
    17: ("REJECTED_PREPAID_PACKAGE_EXPIRED", MessageStatus.FAILED, _P),
    18: ("REJECTED_DESTINATION_NOT_REGISTERED", MessageStatus.FAILED, _P),
    19: ("REJECTED_ROUTE_NOT_AVAILABLE", MessageStatus.FAILED, _P),
    20: ("REJECTED_FLOODING_FILTER", MessageStatus.FAILED, _P),
    21: ("REJECTED_SYSTEM_ERROR", MessageStatus.FAILED, ErrorClass.TRANSIENT),  # Infobip: "Retry the submission"
    22: ("EXPIRED_UNKNOWN", MessageStatus.FAILED, _P),
    23: ("REJECTED_DUPLICATE_MESSAGE_ID", MessageStatus.FAILED, _P),
    24: ("REJECTED_INVALID_UDH", MessageStatus.FAILED, _P),
    25: ("REJECTED_MESSAGE_TOO_LONG", MessageStatus.FAILED, _P),
    26: ("PENDING_ACCEPTED", "accepted", _F),
}
"""Status id -> (name, outcome, class of a send-time rejection). Group 5 at send time is not retried:
Infobip already decided (credits, sender, route); herald's retry would meet the same answer. Except
REJECTED_SYSTEM_ERROR, Infobip's own failure, which its documentation says to retry."""

ERROR_GROUPS: dict[int, tuple[str, ErrorClass]] = {
    0: ("OK", ErrorClass.NONE),
    1: ("HANDSET_ERRORS", ErrorClass.TRANSIENT),
    2: ("USER_ERRORS", ErrorClass.PERMANENT),
    3: ("OPERATOR_ERRORS", ErrorClass.PERMANENT),
}
"""Fallback for error ids missing from ERROR_IDS when the report carries no `permanent` flag: the class
most of the group's ids have in Infobip's error code reference (handset errors mostly not permanent;
user and operator errors mostly permanent)."""

_T = ErrorClass.TRANSIENT
ERROR_IDS: dict[int, tuple[str, ErrorClass]] = {
    0: ("NO_ERROR", ErrorClass.NONE),
    1: ("EC_UNKNOWN_SUBSCRIBER", _P),
    6: ("EC_ABSENT_SUBSCRIBER_SM", _T),
    9: ("EC_ILLEGAL_SUBSCRIBER", _P),
    11: ("EC_TELESERVICE_NOT_PROVISIONED", _P),
    13: ("EC_CALL_BARRED", _T),
    27: ("EC_ABSENT_SUBSCRIBER", _T),
    31: ("EC_SUBSCRIBER_BUSY_FOR_MT_SMS", _T),
    32: ("EC_SM_DELIVERY_FAILURE", _T),
    33: ("EC_MESSAGE_WAITING_LIST_FULL", _T),
    34: ("EC_SYSTEM_FAILURE", _T),
    255: ("EC_UNKNOWN_ERROR", _T),  # Infobip's table: permanent false
    2048: ("EC_TIME_OUT", _T),
    573: ("EC_SC_BLOCKED_BY_END_USER", ErrorClass.OPT_OUT),  # the client asked to block this sender: their choice
    603: ("EC_CONTENT_BLOCKED", ErrorClass.OPT_OUT),  # "content blocked by user opt-out (MO: STOP)"
    2049: ("EC_IMSI_BLACKLISTED", _P),  # the SIM is barred (stolen, fraud), not the person's choice
    # The operator's block list or DND register: permanent, yet not the client's opt-out from this institution.
    2050: ("EC_DEST_ADDRESS_BLACKLISTED", _P),
    4101: ("EC_ValidityExpired", _P),
}
"""Error id -> (name, class). OPT_OUT only where the recipient refused this sender themselves (Infobip's
error code reference: 573, 603); an operator's or account's block list fails the message, nothing more."""

REJECTION_OUTCOMES = {
    ErrorClass.TRANSIENT: ProviderOutcome.TRANSIENT,
    ErrorClass.PERMANENT: ProviderOutcome.PERMANENT,
    ErrorClass.OPT_OUT: ProviderOutcome.OPTED_OUT,
    ErrorClass.NONE: ProviderOutcome.PERMANENT,  # a failed status with no error class is still Infobip's verdict
}
"""The outcome of a send-time rejection (a status in a failing group) by the class of its status."""

HTTP_RETRYABLE = frozenset({408, 425, 500, 502, 503, 504})
"""Whole-request answers worth another attempt; any other non-2xx is permanent (401/403 = credentials)."""


def http_outcome(status: int) -> ProviderOutcome:
    """What a non-2xx answer to a whole request means: 429 pauses, 401/403 hold, HTTP_RETRYABLE retries."""
    if status == 429:  # slow down: no message is at fault, none uses up an attempt
        return ProviderOutcome.THROTTLED
    if status in (401, 403):
        return ProviderOutcome.MISCONFIGURED
    if status in SERVER_MAY_HAVE_IT:
        return ProviderOutcome.OUTCOME_UNKNOWN
    return ProviderOutcome.TRANSIENT if status in HTTP_RETRYABLE else ProviderOutcome.PERMANENT


SERVER_MAY_HAVE_IT = frozenset({502, 504})
"""Answers that do not say the request was refused: a gateway (502, 504) gives up on Infobip's answer,
not on the request, which Infobip may have taken. Retried blind, each message would go again under a
new messageId; herald looks them up in the logs first. A 500 is Infobip's own refusal: retried."""


def status_outcome(status: dict[str, Any]) -> tuple[Outcome, ErrorClass]:
    """A status object's meaning, by id when herald knows it, else by group."""
    known = STATUS_IDS.get(_int(status.get("id")))
    if known is not None:
        return known[1], known[2]
    group = STATUS_GROUPS.get(_int(status.get("groupId")))
    if group is None:
        name = str(status.get("groupName", "")).upper()  # legacy payloads spell groups loosely
        group = next((g for g in STATUS_GROUPS.values() if g[0] == name), ("UNKNOWN", MessageStatus.FAILED))
    return group[1], ErrorClass.PERMANENT if group[1] is MessageStatus.FAILED else ErrorClass.NONE


def error_class(error: dict[str, Any]) -> ErrorClass:
    known = ERROR_IDS.get(_int(error.get("id")))
    if known is not None:
        return known[1]
    if isinstance(error.get("permanent"), bool):
        return ErrorClass.PERMANENT if error["permanent"] else ErrorClass.TRANSIENT
    return ERROR_GROUPS.get(_int(error.get("groupId")), ("", ErrorClass.PERMANENT))[1]


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return -1


def is_transient_failure(status: dict[str, Any], error: dict[str, Any]) -> bool:
    """Whether a failed report's cause passes, so a re-send later may reach the client.

    The error decides (EC_ABSENT_SUBSCRIBER, EC_SUBSCRIBER_BUSY_FOR_MT_SMS, EC_TIME_OUT ...: ERROR_IDS
    marks them transient); a REJECTED status is Infobip's own verdict before sending (credits,
    sender, route, DND) and an opt-out is never re-sent, whatever the error says.
    """
    if error_class(error) is not ErrorClass.TRANSIENT:
        return False
    known = STATUS_IDS.get(_int(status.get("id")))
    if known is not None:
        return known[2] is not ErrorClass.OPT_OUT and not known[0].startswith("REJECTED")
    return _int(status.get("groupId")) in (2, 4)  # UNDELIVERABLE or EXPIRED, never REJECTED
