"""Twilio's codes and what they mean to herald: message statuses, error codes, and whole-request HTTP answers.

The facts come from Twilio's documentation (tests/contract/test_documented_codes.py holds them
against these tables); the adapter in providers/twilio.py reads them.
"""

from __future__ import annotations

from typing import NamedTuple

from herald.domain.message import MessageStatus
from herald.errors import ProviderOutcome

STATUSES: dict[str, MessageStatus] = {
    # Still inside Twilio: not news for herald, whose message already waits for a report.
    "queued": MessageStatus.WAITING_FOR_DELIVERY_REPORT,
    "accepted": MessageStatus.WAITING_FOR_DELIVERY_REPORT,
    "scheduled": MessageStatus.WAITING_FOR_DELIVERY_REPORT,
    "sending": MessageStatus.WAITING_FOR_DELIVERY_REPORT,
    # Inbound-only statuses; an outbound message never has them, so they carry no news either.
    "receiving": MessageStatus.WAITING_FOR_DELIVERY_REPORT,
    "received": MessageStatus.WAITING_FOR_DELIVERY_REPORT,
    "sent": MessageStatus.SENT,  # the upstream carrier took it
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,  # a read receipt comes after delivery
    "partially_delivered": MessageStatus.DELIVERED,  # deprecated; it reached the handset, polling tells no more
    "undelivered": MessageStatus.FAILED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,  # only scheduled messages are canceled, and herald schedules none itself
}
"""Twilio message status -> herald status; WAITING_FOR_DELIVERY_REPORT means "nothing new"."""


class TwilioCode(NamedTuple):
    outcome: ProviderOutcome
    title: str


_T, _P = ProviderOutcome.TRANSIENT, ProviderOutcome.PERMANENT
ERRORS: dict[str, TwilioCode] = {
    "20003": TwilioCode(ProviderOutcome.MISCONFIGURED, "Authentication failed"),  # herald's credentials
    "20404": TwilioCode(_P, "Resource not found"),
    "20500": TwilioCode(_T, "Internal server error"),
    "20429": TwilioCode(ProviderOutcome.THROTTLED, "Too many concurrent requests"),
    "21211": TwilioCode(_P, "Invalid 'To' phone number"),
    "21212": TwilioCode(_P, "Invalid 'From' phone number"),
    "21408": TwilioCode(_P, "Sending to this region is not enabled"),
    "21602": TwilioCode(_P, "Message body is required"),
    "21603": TwilioCode(_P, "'From' phone number is required"),
    "21604": TwilioCode(_P, "'To' phone number is required"),
    "21606": TwilioCode(_P, "'From' is not an SMS-capable number of this account"),
    "21610": TwilioCode(ProviderOutcome.OPTED_OUT, "The recipient unsubscribed (replied STOP)"),
    "21611": TwilioCode(ProviderOutcome.THROTTLED, "The sender's queue is full"),  # Twilio: slow down
    "21612": TwilioCode(_P, "The 'To' and 'From' combination cannot be routed"),
    "21614": TwilioCode(_P, "'To' is not a mobile number"),
    "14107": TwilioCode(_T, "Loop protection between the same two numbers"),
    "30001": TwilioCode(ProviderOutcome.THROTTLED, "Queue overflow"),  # Twilio: retry, slower
    "30002": TwilioCode(_P, "Account suspended"),
    "30003": TwilioCode(_T, "Unreachable destination handset"),
    "30004": TwilioCode(_P, "Message blocked"),
    "30005": TwilioCode(_P, "Unknown destination handset"),
    "30006": TwilioCode(_P, "Landline or unreachable carrier"),
    "30007": TwilioCode(_P, "Message filtered by the carrier"),
    "30008": TwilioCode(_T, "Unknown error"),
    "30009": TwilioCode(_T, "Missing inbound segment"),
    "30010": TwilioCode(_P, "Message price exceeds max price"),
}
"""Twilio error code -> outcome and title. On a send the outcome decides (unless the HTTP status
overrules it: 429, 401/403, 5xx); in a report (the message is final by then) only OPTED_OUT
matters, and the title fills a missing ErrorMessage."""

ADVICE = {
    ProviderOutcome.TRANSIENT: "herald will retry it later.",
    ProviderOutcome.THROTTLED: "herald pauses the provider, then retries it.",
    ProviderOutcome.PERMANENT: "retrying will not help; fix the number, the text or the account.",
    ProviderOutcome.OPTED_OUT: "the recipient unsubscribed; herald will not send to this number again.",
    ProviderOutcome.MISCONFIGURED: "herald holds the messages until the account is fixed.",
    ProviderOutcome.OUTCOME_UNKNOWN: "Twilio may have it: herald asks before it sends it again.",
}


def http_outcome(status: int) -> ProviderOutcome:
    """The outcome of an HTTP error whose body has no known Twilio code."""
    if status == 429:
        return ProviderOutcome.THROTTLED
    if status in (401, 403):
        return ProviderOutcome.MISCONFIGURED  # Twilio refuses herald's credentials or account, not the message
    if status in SERVER_MAY_HAVE_IT:
        return ProviderOutcome.OUTCOME_UNKNOWN
    return _T if status == 408 or status >= 500 else _P


SERVER_MAY_HAVE_IT = frozenset({502, 504})
"""Answers that do not say the request was refused: a gateway (502, 504) gives up on Twilio's answer,
not on the request, which may have created the message. Sending again blind would send twice; herald
asks first. A 500 is Twilio's own refusal, and 503 and 408 say nothing was done: retried (elsewhere too)."""


RESENDABLE_FAILURES = frozenset({"30001", "30003", "30008", "14107"})
"""Error codes of an `undelivered`/`failed` message that a later re-send may get past: queue overflow,
unreachable handset (off, no signal), Twilio's unknown error ("maybe once") and loop protection.
30005/30006 (unknown or landline number) and the content or account refusals are not: the same
message would meet the same answer."""


def is_transient_failure(code: str | None) -> bool:
    """Whether a failed message's error code says the failure passes (see RESENDABLE_FAILURES)."""
    return code in RESENDABLE_FAILURES
