"""Infobip's JSON as the fake writes it: status and error objects, reports, error envelopes, timestamps.

Kept apart from the adapter on purpose: the fake states the wire format independently, so a
mistake in the adapter's mapping tables shows up in tests instead of being mirrored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# name -> (groupId, groupName, id, description)
STATUSES: dict[str, tuple[int, str, int, str]] = {
    "PENDING_ACCEPTED": (1, "PENDING", 26, "Message sent to next instance"),
    "PENDING_ENROUTE": (1, "PENDING", 7, "Message sent to next instance"),
    "DELIVERED_TO_OPERATOR": (3, "DELIVERED", 2, "Message delivered to operator"),
    "DELIVERED_TO_HANDSET": (3, "DELIVERED", 5, "Message delivered to handset"),
    "UNDELIVERABLE_NOT_DELIVERED": (2, "UNDELIVERABLE", 9, "Message sent not delivered"),
    "EXPIRED_EXPIRED": (4, "EXPIRED", 15, "Message expired"),
    "REJECTED_DESTINATION": (5, "REJECTED", 14, "Invalid destination address"),
    "REJECTED_DND": (5, "REJECTED", 10, "Destination is on the do-not-disturb list"),
    "REJECTED_DUPLICATE_MESSAGE_ID": (5, "REJECTED", 23, "Duplicate message id"),
    "REJECTED_SYSTEM_ERROR": (5, "REJECTED", 21, "Rejected due to a system error; retry the submission"),
}

# id -> (groupId, groupName, name, description, permanent)
ERRORS: dict[int, tuple[int, str, str, str, bool]] = {
    0: (0, "OK", "NO_ERROR", "No Error", False),
    1: (1, "HANDSET_ERRORS", "EC_UNKNOWN_SUBSCRIBER", "Unknown subscriber", True),
    27: (1, "HANDSET_ERRORS", "EC_ABSENT_SUBSCRIBER", "Absent subscriber", False),
    255: (1, "HANDSET_ERRORS", "EC_UNKNOWN_ERROR", "Unknown error", False),
    573: (1, "HANDSET_ERRORS", "EC_SC_BLOCKED_BY_END_USER", "The end user blocked this short code", True),
    603: (2, "USER_ERRORS", "EC_CONTENT_BLOCKED", "Content blocked by user opt-out (MO: STOP)", True),
    2050: (3, "OPERATOR_ERRORS", "EC_DEST_ADDRESS_BLACKLISTED", "Destination address blacklisted", True),
    4101: (3, "OPERATOR_ERRORS", "EC_ValidityExpired", "Validity expired", True),
}


def status_object(name: str) -> dict[str, Any]:
    group_id, group_name, status_id, description = STATUSES[name]
    return {"groupId": group_id, "groupName": group_name, "id": status_id, "name": name, "description": description}


def error_object(error_id: int) -> dict[str, Any]:
    group_id, group_name, name, description, permanent = ERRORS.get(
        error_id, (1, "HANDSET_ERRORS", f"EC_{error_id}", "Unlisted error", True)
    )
    return {
        "groupId": group_id,
        "groupName": group_name,
        "id": error_id,
        "name": name,
        "description": description,
        "permanent": permanent,
    }


def timestamp(at: datetime | None = None) -> str:
    """Infobip's `yyyy-MM-dd'T'HH:mm:ss.SSSZ`."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


@dataclass(slots=True)
class FakeMessage:
    """One destination the fake accepted, where it is in its life, and how its report is shaped."""

    message_id: str
    bulk_id: str
    to: str
    sender: str
    text: str
    api: str  # "v3" or "v2": decides the report shape and the pull endpoint
    notify_url: str | None
    sent_at: str
    status: str = "PENDING_ACCEPTED"
    error: int = 0


def report(message: FakeMessage, done_at: str | None = None) -> dict[str, Any]:
    """A v3 DeliveryReport, or the legacy SmsReport for messages sent through /sms/2."""
    parts = max(1, -(-len(message.text) // 153)) if len(message.text) > 160 else 1
    body: dict[str, Any] = {
        "bulkId": message.bulk_id,
        "messageId": message.message_id,
        "to": message.to,
        "sentAt": message.sent_at,
        "doneAt": done_at or timestamp(),
        "mccMnc": "63902",
        "price": {"pricePerMessage": 0.0045 * parts, "currency": "EUR"},
        "status": status_object(message.status),
        "error": error_object(message.error),
    }
    if message.api == "v2":
        body |= {"from": message.sender, "smsCount": parts}
    else:
        body |= {"sender": message.sender, "messageCount": parts}
    return body


def sms_log(message: FakeMessage) -> dict[str, Any]:
    """One `SmsLog` of GET /sms/3/logs: `destination` (not `to`), the content, `doneAt` once final."""
    parts = max(1, -(-len(message.text) // 153)) if len(message.text) > 160 else 1
    body: dict[str, Any] = {
        "sender": message.sender,
        "destination": message.to,
        "bulkId": message.bulk_id,
        "messageId": message.message_id,
        "sentAt": message.sent_at,
        "messageCount": parts,
        "price": {"pricePerMessage": 0.0045 * parts, "currency": "EUR"},
        "status": status_object(message.status),
        "error": error_object(message.error),
        "content": {"text": message.text},
        "mccMnc": "63902",
    }
    if STATUSES[message.status][1] != "PENDING":
        body["doneAt"] = timestamp()
    return body


def inbound(from_number: str, to: str, text: str, message_id: str) -> dict[str, Any]:
    """One inbound SMS result as Infobip pushes it (the keyword is the first word)."""
    keyword, _, rest = text.strip().partition(" ")
    return {
        "messageId": message_id,
        "from": from_number.lstrip("+"),
        "to": to,
        "text": text,
        "cleanText": rest,
        "keyword": keyword.upper(),
        "receivedAt": timestamp(),
        "smsCount": 1,
        "price": {"pricePerMessage": 0, "currency": "EUR"},
        "callbackData": None,
    }


V3_ERRORS = {
    400: ("E400", "Bad request."),
    401: ("E401", "Unauthorized."),
    403: ("E403", "Forbidden."),
    429: ("E429", "Too many requests sent."),
    500: ("E500", "Internal server error."),
}
LEGACY_ERRORS = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("UNAUTHORIZED", "Invalid login details"),
    403: ("FORBIDDEN", "Forbidden"),
    429: ("TOO_MANY_REQUESTS", "Too many requests"),
    500: ("GENERAL_ERROR", "Something went wrong. Please contact support."),
}


def error_envelope(status: int, legacy: bool, detail: str | None = None) -> dict[str, Any]:
    """v3 `ApiError` for /sms/3 and /account; `requestError.serviceException` for /sms/1 and /sms/2."""
    if legacy:
        code, text = LEGACY_ERRORS.get(status, LEGACY_ERRORS[500])
        return {"requestError": {"serviceException": {"messageId": code, "text": detail or text}}}
    code, text = V3_ERRORS.get(status, V3_ERRORS[500])
    return {"errorCode": code, "description": detail or text, "action": None, "violations": [], "resources": []}
