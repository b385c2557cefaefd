"""Every code in every adapter's mapping tables means what the provider's documentation says it means.

The documented facts are written out here, in the documentation's own words, from
/work/shared/reference/providers.md (Twilio §1.3 statuses and §1.6 error codes; Infobip §2.6 status
groups and ids, §2.7 error groups and ids, §2.8-2.9 whole-request answers; SMPP 3.4 §3.4
message_state and §3.6 command_status), and Africa's Talking's from its SMS documentation (the
reference has no section on it yet). Each fact is turned into the herald outcome it implies;
where the documentation says nothing (or herald deliberately reads more into a code), the
decision is listed under HERALD with its reason. A table must equal exactly what follows: a
wrong outcome, a documented code missing from the table or a code nobody decided all fail.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import pytest

from herald.domain.message import MessageStatus
from herald.errors import ProviderOutcome as O
from herald.providers.infobip_codes import ErrorClass

pytestmark = pytest.mark.contract

NEWS_NONE = MessageStatus.WAITING_FOR_DELIVERY_REPORT  # Twilio: "nothing new", the message already waits
SENT, DELIVERED, FAILED = MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED

RETRY_ADVICE = {
    # Twilio's "retry?" column and SMPP's "handling" column, read as herald outcomes.
    "no": O.PERMANENT,
    "permanent": O.PERMANENT,
    "never: mark the contact opted out": O.OPTED_OUT,
    "retry": O.TRANSIENT,
    "later": O.TRANSIENT,
    "maybe, later": O.TRANSIENT,
    "maybe once": O.TRANSIENT,
    # Asked to go slower: pause the provider, use up no attempt.
    "slow down": O.THROTTLED,
    "yes, slower": O.THROTTLED,
    "yes, with exponential backoff": O.THROTTLED,
    "retry later": O.THROTTLED,
    "back off and retry": O.THROTTLED,
    "bind: bad password": O.MISCONFIGURED,
    "bind: bad system id": O.MISCONFIGURED,
}

# -- Twilio -------------------------------------------------------------------------------------

TWILIO_STATUSES = {  # §1.3: status -> what Twilio says it means
    "queued": (NEWS_NONE, "accepted by the API, queued for a specific sender"),
    "accepted": (NEWS_NONE, "Messaging Service is choosing a sender"),
    "scheduled": (NEWS_NONE, "scheduled"),
    "sending": (NEWS_NONE, "being handed to the nearest upstream carrier (transient)"),
    "sent": (SENT, "the nearest upstream carrier accepted it"),
    "delivered": (DELIVERED, "carrier (and handset where available) confirmed delivery"),
    "undelivered": (FAILED, "the delivery receipt says not delivered"),
    "failed": (FAILED, "could not be sent"),
    "canceled": (FAILED, "a scheduled message was canceled before SendAt: terminal, never delivered"),
    "read": (DELIVERED, "RCS/WhatsApp read receipt, after delivered"),
    "receiving": (NEWS_NONE, "inbound only"),
    "received": (NEWS_NONE, "inbound only"),
    "partially_delivered": (DELIVERED, "deprecated; herald: it reached the handset, polling tells no more"),
}

TWILIO_ERRORS = {  # §1.6: code -> (when, retry?)
    "20429": ("HTTP 429 on any API call", "yes, with exponential backoff"),
    "20003": ("401", "no"),
    "20404": ("404", "no"),
    "21211": ("400 on create", "no"),
    "21212": ("400", "no"),
    "21408": ("400", "no"),
    "21602": ("400", "no"),
    "21603": ("400", "no"),
    "21604": ("400", "no"),
    "21606": ("400", "no"),
    "21610": ("400 on create", "never: mark the contact opted out"),
    "21611": ("400", "slow down"),
    "21612": ("400", "no"),
    "21614": ("400", "no"),
    "14107": ("message becomes failed", "later"),
    "30001": ("async failed", "yes, slower"),
    "30002": ("async", "no"),
    "30003": ("async undelivered", "maybe, later"),
    "30004": ("async", "no"),
    "30005": ("async", "no"),
    "30006": ("async", "no"),
    "30007": ("async", "no"),
    "30008": ("async", "maybe once"),
    "30009": ("async", None),  # the reference gives no retry advice
    "30010": ("async", None),
}

TWILIO_HTTP = {  # §1.6: the HTTP status each documented code comes with
    "400": "no",  # every 400 code is "no" but 21610 and 21611, which the body's code refines
    "401": "no",
    "404": "no",
    "429": "yes, with exponential backoff",
}

# -- Infobip ------------------------------------------------------------------------------------

INFOBIP_GROUPS = {  # §2.6: groupId -> (groupName, final?, outcome)
    0: ("ACCEPTED", False, None),
    1: ("PENDING", False, None),
    2: ("UNDELIVERABLE", True, "failure"),
    3: ("DELIVERED", True, "success"),
    4: ("EXPIRED", True, "failure"),
    5: ("REJECTED", True, "failure"),
}
INFOBIP_GROUP_STATUS = {None: "accepted", "success": DELIVERED, "failure": FAILED}

INFOBIP_STATUS_IDS = {  # §2.6: id -> (name, groupId)
    1: ("PENDING_TIME_VIOLATION", 1),
    2: ("DELIVERED_TO_OPERATOR", 3),
    3: ("PENDING_WAITING_DELIVERY", 1),
    4: ("UNDELIVERABLE_REJECTED_OPERATOR", 2),
    5: ("DELIVERED_TO_HANDSET", 3),
    6: ("REJECTED_NETWORK", 5),
    7: ("PENDING_ENROUTE", 1),
    8: ("REJECTED_PREFIX_MISSING", 5),
    9: ("UNDELIVERABLE_NOT_DELIVERED", 2),
    10: ("REJECTED_DND", 5),
    11: ("REJECTED_SOURCE", 5),
    12: ("REJECTED_NOT_ENOUGH_CREDITS", 5),
    13: ("REJECTED_SENDER", 5),
    14: ("REJECTED_DESTINATION", 5),
    15: ("EXPIRED_EXPIRED", 4),
    16: ("REJECTED_NOT_REACHABLE", 5),
    17: ("REJECTED_PREPAID_PACKAGE_EXPIRED", 5),
    18: ("REJECTED_DESTINATION_NOT_REGISTERED", 5),
    19: ("REJECTED_ROUTE_NOT_AVAILABLE", 5),
    20: ("REJECTED_FLOODING_FILTER", 5),
    21: ("REJECTED_SYSTEM_ERROR", 5),
    22: ("EXPIRED_UNKNOWN", 4),
    23: ("REJECTED_DUPLICATE_MESSAGE_ID", 5),
    24: ("REJECTED_INVALID_UDH", 5),
    25: ("REJECTED_MESSAGE_TOO_LONG", 5),
    26: ("PENDING_ACCEPTED", 1),
}

INFOBIP_STATUS_ADVICE = {  # Infobip's status code documentation, where it says what to do
    21: "Retry the submission or contact Support for more details.",  # REJECTED_SYSTEM_ERROR
}

INFOBIP_ERROR_GROUPS = {0: "OK", 1: "HANDSET_ERRORS", 2: "USER_ERRORS", 3: "OPERATOR_ERRORS"}  # §2.7

INFOBIP_ERROR_IDS = {  # §2.7: id -> (name, permanent)
    0: ("NO_ERROR", False),
    1: ("EC_UNKNOWN_SUBSCRIBER", True),
    6: ("EC_ABSENT_SUBSCRIBER_SM", False),
    9: ("EC_ILLEGAL_SUBSCRIBER", True),
    11: ("EC_TELESERVICE_NOT_PROVISIONED", True),
    13: ("EC_CALL_BARRED", False),
    27: ("EC_ABSENT_SUBSCRIBER", False),
    31: ("EC_SUBSCRIBER_BUSY_FOR_MT_SMS", False),
    32: ("EC_SM_DELIVERY_FAILURE", False),
    33: ("EC_MESSAGE_WAITING_LIST_FULL", False),
    34: ("EC_SYSTEM_FAILURE", False),
    255: ("EC_UNKNOWN_ERROR", False),  # Infobip's error code reference: permanent false (the mirror had true)
    2048: ("EC_TIME_OUT", False),
    2049: ("EC_IMSI_BLACKLISTED", True),
    2050: ("EC_DEST_ADDRESS_BLACKLISTED", True),
    4101: ("EC_ValidityExpired", True),
}

PERMANENCE = {True: ErrorClass.PERMANENT, False: ErrorClass.TRANSIENT}  # `error.permanent`: can retrying help?

INFOBIP_HTTP = {  # §2.8-2.9: whole-request answers
    "400": O.PERMANENT,  # BAD_REQUEST / E400: the request itself is wrong
    "401": O.MISCONFIGURED,  # UNAUTHORIZED / E401: the API key
    "403": O.MISCONFIGURED,  # FORBIDDEN / E403: the key's scopes
    "429": O.THROTTLED,  # TOO_MANY_REQUESTS / E429: "back off exponentially"
}

# -- SMPP 3.4 -----------------------------------------------------------------------------------

SMPP_COMMAND_STATUS = {  # §3.6: command_status -> (name, handling)
    0x01: ("ESME_RINVMSGLEN", "permanent"),
    0x04: ("ESME_RINVBNDSTS", "session state error (rebind)"),
    0x05: ("ESME_RALYBND", "already bound"),
    0x08: ("ESME_RSYSERR", "retry"),
    0x0A: ("ESME_RINVSRCADR", "permanent"),
    0x0B: ("ESME_RINVDSTADR", "permanent"),
    0x0D: ("ESME_RBINDFAIL", "bind failed"),
    0x0E: ("ESME_RINVPASWD", "bind: bad password"),
    0x0F: ("ESME_RINVSYSID", "bind: bad system id"),
    0x14: ("ESME_RMSGQFUL", "retry later"),
    0x43: ("ESME_RINVESMCLASS", "permanent"),
    0x45: ("ESME_RSUBMITFAIL", "submit failed"),
    0x48: ("ESME_RINVSRCTON", "permanent"),
    0x49: ("ESME_RINVSRCNPI", "permanent"),
    0x50: ("ESME_RINVDSTTON", "permanent"),
    0x51: ("ESME_RINVDSTNPI", "permanent"),
    0x58: ("ESME_RTHROTTLED", "back off and retry"),
    0x61: ("ESME_RINVSCHED", "invalid schedule time"),
    0x62: ("ESME_RINVEXPIRY", "invalid validity period"),
    0xC0: ("ESME_RINVOPTPARSTREAM", "permanent"),
    0xC1: ("ESME_ROPTPARNOTALLWD", "permanent"),
    0xC2: ("ESME_RINVPARLEN", "permanent"),
    0xC3: ("ESME_RMISSINGOPTPARAM", "permanent"),
    0xC4: ("ESME_RINVOPTPARAMVAL", "permanent"),
    0xFE: ("ESME_RDELIVERYFAILURE", "delivery failure"),
    0xFF: ("ESME_RUNKNOWNERR", "unknown"),
}
SMPP_REBIND = {0x04}  # "session state error (rebind)"

SMPP_MESSAGE_STATES = {  # §3.4: message_state -> (stat, meaning)
    1: ("ENROUTE", "in transit"),
    2: ("DELIVRD", "delivered"),
    3: ("EXPIRED", "validity expired"),
    4: ("DELETED", "deleted"),
    5: ("UNDELIV", "undeliverable"),
    6: ("ACCEPTD", "accepted (e.g. manually)"),
    7: ("UNKNOWN", "unknown"),
    8: ("REJECTD", "rejected"),
}
SMPP_STATE_STATUS = {"in transit": SENT, "delivered": DELIVERED, "validity expired": FAILED, "deleted": FAILED}
SMPP_STATE_STATUS |= {"undeliverable": FAILED, "rejected": FAILED}

# -- Africa's Talking ----------------------------------------------------------------------------
# Restated from Africa's Talking's SMS documentation ("Sending messages": the per-recipient status
# codes; "Delivery reports": statuses and failure reasons). It gives names and meanings, not advice:
# what each meaning implies is read with the words below.

AT_RECIPIENT_CODES = {  # statusCode -> (status, meaning)
    100: ("Processed", "accepted"),
    101: ("Sent", "accepted"),
    102: ("Queued", "accepted"),
    401: ("RiskHold", "refused"),
    402: ("InvalidSenderId", "refused"),
    403: ("InvalidPhoneNumber", "refused"),
    404: ("UnsupportedNumberType", "refused"),
    405: ("InsufficientBalance", "refused"),
    406: ("UserInBlacklist", "refused"),
    407: ("CouldNotRoute", "refused"),
    409: ("DoNotDisturbRejection", "refused"),
    500: ("InternalServerError", "server error"),
    501: ("GatewayError", "server error"),
    502: ("RejectedByGateway", "refused"),
}
AT_RECIPIENT_OUTCOME = {"accepted": None, "refused": O.PERMANENT, "server error": O.TRANSIENT}

AT_REPORT_STATUSES = {  # status -> what AT says it means
    "Sent": "successfully sent by our network",
    "Submitted": "successfully submitted to the MSP",
    "Buffered": "queued by the MSP",
    "Rejected": "rejected by the MSP; final",
    "Success": "delivered to the receiver's handset; final",
    "Failed": "could not be delivered to the receiver's handset; final",
    "AbsentSubscriber": "not delivered: the SIM card was not reachable; final",
    "Expired": "not delivered and expired; final",
}
AT_REPORT_MEANING = {
    "successfully sent by our network": SENT,
    "successfully submitted to the MSP": SENT,
    "queued by the MSP": SENT,
    "delivered to the receiver's handset; final": DELIVERED,
}

AT_FAILURE_REASONS = {  # failureReason -> (what AT says, the subscriber's own refusal, passes)
    "InsufficientCredit": ("the subscriber lacks airtime for a premium message", False, False),
    "InvalidLinkId": ("the premium message's linkId is invalid or expired", False, False),
    "UserIsInactive": ("the subscriber is inactive or deactivated by the MSP", False, False),
    "UserInBlackList": ("the user blacklisted the service (short code or keyword)", True, False),
    "UserAccountSuspended": ("the subscriber was suspended by the MSP", False, False),
    "NotNetworkSubscriber": ("the subscriber does not belong to the MSP", False, False),
    "UserNotSubscribedToProduct": ("not subscribed to the subscription product", False, False),
    "UserDoesNotExist": ("a non-existent mobile number", False, False),
    "DeliveryFailure": ("delivery failed for a reason not listed, or the MSP gave none", False, False),
}

# -- herald's own decisions, where the reference says nothing or herald reads more into a code ----

HERALD: dict[str, dict[str, dict[str, object]]] = {
    "twilio": {
        "errors": {
            "20003": O.MISCONFIGURED,  # "no" retry, and it is herald's credentials: held, never failed
            "20500": O.TRANSIENT,  # internal server error; not in the reference
            "30009": O.TRANSIENT,  # missing inbound segment: no advice documented
            "30010": O.PERMANENT,  # price exceeds max price: no advice documented
        },
        "whole-request HTTP": {
            "401": O.MISCONFIGURED,  # 20003: herald's credentials, not the message
            "403": O.MISCONFIGURED,  # the account refuses herald
            **{status: O.TRANSIENT for status in ("408", "500", "503")},
            # A gateway's 502/504 gives up on the answer, not the request: asked about (a lookup)
            # before it goes again, never sent twice blind.
            **{status: O.OUTCOME_UNKNOWN for status in ("502", "504")},
        },
    },
    "infobip": {
        "status ids": {
            "2": ("DELIVERED_TO_OPERATOR", SENT),  # "in group DELIVERED but is not handset delivery"
            "3": ("PENDING_WAITING_DELIVERY", SENT),  # pending at the operator: handed on, herald's "Sent"
            "7": ("PENDING_ENROUTE", SENT),
        },
        # Infobip's error code reference, beyond the mirrored table: the recipient refused this sender
        # themselves ("must not be sent unless the end user opts in again"; "user opt-out (MO: STOP)").
        "error ids": {
            "573": ("EC_SC_BLOCKED_BY_END_USER", ErrorClass.OPT_OUT),
            "603": ("EC_CONTENT_BLOCKED", ErrorClass.OPT_OUT),
        },
        "whole-request HTTP": {
            "404": O.PERMANENT,  # NOT_FOUND: no retry advice documented
            **{status: O.TRANSIENT for status in ("408", "425", "500", "503")},
            **{status: O.OUTCOME_UNKNOWN for status in ("502", "504")},  # looked up in the logs first
        },
    },
    "africastalking": {
        "recipient codes": {
            # The account, not the message: held (or failed over) until the balance is topped up.
            "405": ("InsufficientBalance", O.MISCONFIGURED),
            # AT's blacklist holds the subscriber's own opt-out from this sender: their word, kept.
            "406": ("UserInBlacklist", O.OPTED_OUT),
        },
        "failure reasons": {
            # Nothing listed: often a handset away or full; a later re-send may reach it.
            "DeliveryFailure": (False, True),
            "InsufficientCredit": (False, True),  # the subscriber may top up
        },
        "whole-request HTTP": {
            "400": O.PERMANENT,
            "401": O.MISCONFIGURED,  # "The supplied authentication is invalid": herald's key, not the message
            "403": O.MISCONFIGURED,
            "404": O.PERMANENT,
            "429": O.THROTTLED,
            **{status: O.TRANSIENT for status in ("408", "500", "503")},
            # A gateway gave up on the answer: AT may have sent them, and cannot be asked; FAILED, never resent.
            **{status: O.OUTCOME_UNKNOWN for status in ("502", "504")},
        },
    },
    "smpp": {
        "command_status": {
            "0x02": ("ESME_RINVCMDLEN", O.TRANSIENT),  # not in the reference: our PDU, the SMSC misread it
            "0x03": ("ESME_RINVCMDID", O.TRANSIENT),
            "0x04": ("ESME_RINVBNDSTS", O.TRANSIENT),  # rebind, then retry
            "0x05": ("ESME_RALYBND", O.TRANSIENT),  # the SMSC's view of the bind is off: rebind, then retry
            "0x0D": ("ESME_RBINDFAIL", O.TRANSIENT),  # may clear up
            "0x45": ("ESME_RSUBMITFAIL", O.TRANSIENT),
            "0x61": ("ESME_RINVSCHED", O.PERMANENT),  # the same submit is refused again
            "0x62": ("ESME_RINVEXPIRY", O.PERMANENT),
            "0xFE": ("ESME_RDELIVERYFAILURE", O.PERMANENT),
            "0xFF": ("ESME_RUNKNOWNERR", O.TRANSIENT),  # no verdict on the message; herald's retry policy bounds it
            "0x401": ("VENDOR_RBARRED", O.OPTED_OUT),  # herald's vendor code for a barred or unsubscribed recipient
        },
        "rebind": {"0x05": "ESME_RALYBND"},
        "message_state": {
            "6": ("ACCEPTD", SENT),  # read on behalf of the subscriber: not handset delivery
            "7": ("UNKNOWN", SENT),  # the SMSC lost track: nothing to retry, nothing delivered
        },
    },
}


def documented(kind: str) -> dict[str, dict[str, object]]:
    """What each table must hold, from the documented facts above."""
    if kind == "twilio":
        errors = {code: RETRY_ADVICE[advice] for code, (_, advice) in TWILIO_ERRORS.items() if advice is not None}
        return {
            "statuses": {status: expected for status, (expected, _) in TWILIO_STATUSES.items()},
            "errors": errors,
            "whole-request HTTP": {status: RETRY_ADVICE[advice] for status, advice in TWILIO_HTTP.items()},
        }
    if kind == "infobip":
        group_status = {g: INFOBIP_GROUP_STATUS[outcome] for g, (_, _, outcome) in INFOBIP_GROUPS.items()}
        return {
            "status groups": {str(g): (name, group_status[g]) for g, (name, _, _) in INFOBIP_GROUPS.items()},
            "status ids": {str(i): (name, group_status[g]) for i, (name, g) in INFOBIP_STATUS_IDS.items()},
            # A final failure at send time: Infobip decided, the same request meets the same answer.
            "send-time rejections": {
                str(i): O.TRANSIENT if INFOBIP_STATUS_ADVICE.get(i, "").startswith("Retry") else O.PERMANENT
                for i, (_, g) in INFOBIP_STATUS_IDS.items()
                if group_status[g] is FAILED
            },
            "error groups": {str(g): name for g, name in INFOBIP_ERROR_GROUPS.items()},
            "error ids": {
                str(i): (
                    name,
                    ErrorClass.NONE if i == 0 else ErrorClass.PERMANENT if permanent else ErrorClass.TRANSIENT,
                )
                for i, (name, permanent) in INFOBIP_ERROR_IDS.items()
            },
            "whole-request HTTP": dict(INFOBIP_HTTP),
        }
    if kind == "africastalking":
        return {
            "recipient codes": {
                str(code): (name, AT_RECIPIENT_OUTCOME[meaning]) for code, (name, meaning) in AT_RECIPIENT_CODES.items()
            },
            "report statuses": {status: AT_REPORT_MEANING.get(m, FAILED) for status, m in AT_REPORT_STATUSES.items()},
            "failure reasons": {reason: (opted, passes) for reason, (_, opted, passes) in AT_FAILURE_REASONS.items()},
            "whole-request HTTP": {},
        }
    if kind == "smpp":
        return {
            "command_status": {
                f"0x{code:02X}": (name, RETRY_ADVICE[handling])
                for code, (name, handling) in SMPP_COMMAND_STATUS.items()
                if handling in RETRY_ADVICE
            },
            "rebind": {f"0x{code:02X}": SMPP_COMMAND_STATUS[code][0] for code in SMPP_REBIND},
            "message_state": {
                str(state): (stat, SMPP_STATE_STATUS[meaning])
                for state, (stat, meaning) in SMPP_MESSAGE_STATES.items()
                if meaning in SMPP_STATE_STATUS
            },
        }
    raise AssertionError(kind)


def _tables(kind: str) -> dict[str, dict[str, object]]:
    async def main() -> dict[str, dict[str, object]]:
        module: Any = importlib.import_module(f"tests.contract.harness_{kind}")
        harness = await module.make()
        try:
            tables: dict[str, dict[str, object]] = harness.code_tables()
            return tables
        finally:
            await harness.close()

    return asyncio.run(main())


@pytest.mark.parametrize("kind", ["twilio", "infobip", "africastalking", "smpp"])
def test_every_code_maps_to_the_outcome_the_provider_documents(kind: str) -> None:
    tables = _tables(kind)
    expected = documented(kind)
    assert set(tables) == set(expected), "a table of the adapter is not checked against the documentation"
    for name, table in tables.items():
        want = expected[name] | HERALD[kind].get(name, {})
        wrong = {code: (table.get(code), want.get(code)) for code in table.keys() | want.keys()}
        wrong = {code: pair for code, pair in wrong.items() if pair[0] != pair[1]}
        assert not wrong, f"{kind} {name}: code -> (adapter's, documented): {wrong}"


def test_herald_only_overrides_what_the_documentation_leaves_open_or_refines_on_purpose() -> None:
    """An override of a documented code must keep its sense: never turn "do not retry" into a retry."""
    no_retry = {O.PERMANENT, O.OPTED_OUT, O.MISCONFIGURED}
    for kind in ("twilio", "infobip", "africastalking", "smpp"):
        facts = documented(kind)
        for name, decisions in HERALD[kind].items():
            for code, decision in decisions.items():
                fact = facts.get(name, {}).get(code)
                if isinstance(fact, O) and fact in no_retry:
                    assert decision in no_retry, (kind, name, code)


def test_the_simulator_fails_messages_only_with_codes_twilio_documents_as_delivery_failures() -> None:
    codes = _tables("simulator")["failure codes"]
    delivery_failures = {code for code, (when, _) in TWILIO_ERRORS.items() if when.startswith("async")}
    assert codes and set(codes) <= delivery_failures
