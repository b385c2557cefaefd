"""SMPP 3.4 command_status values and what they mean to herald, for submit_sm and bind answers.

The facts come from the SMPP 3.4 specification (tests/contract/test_documented_codes.py holds them
against this table); the adapter in providers/smpp.py reads it.
"""

from __future__ import annotations

from herald.errors import ProviderOutcome
from herald.providers import smpp_pdu as p

_RETRY, _PERMANENT, _THROTTLED = ProviderOutcome.TRANSIENT, ProviderOutcome.PERMANENT, ProviderOutcome.THROTTLED

COMMAND_STATUS: dict[int, tuple[str, str, ProviderOutcome]] = {
    p.ESME_RINVMSGLEN: ("ESME_RINVMSGLEN", "invalid message length", _PERMANENT),
    p.ESME_RINVCMDLEN: ("ESME_RINVCMDLEN", "invalid command length", _RETRY),
    p.ESME_RINVCMDID: ("ESME_RINVCMDID", "invalid command id", _RETRY),
    p.ESME_RINVBNDSTS: ("ESME_RINVBNDSTS", "incorrect bind status", _RETRY),
    p.ESME_RALYBND: ("ESME_RALYBND", "already bound", _RETRY),
    p.ESME_RSYSERR: ("ESME_RSYSERR", "SMSC system error", _RETRY),
    p.ESME_RINVSRCADR: ("ESME_RINVSRCADR", "invalid source address", _PERMANENT),
    p.ESME_RINVDSTADR: ("ESME_RINVDSTADR", "invalid destination address", _PERMANENT),
    p.ESME_RBINDFAIL: ("ESME_RBINDFAIL", "bind failed", _RETRY),
    p.ESME_RINVPASWD: ("ESME_RINVPASWD", "invalid password", ProviderOutcome.MISCONFIGURED),
    p.ESME_RINVSYSID: ("ESME_RINVSYSID", "invalid system_id", ProviderOutcome.MISCONFIGURED),
    p.ESME_RMSGQFUL: ("ESME_RMSGQFUL", "message queue full", _THROTTLED),
    p.ESME_RINVESMCLASS: ("ESME_RINVESMCLASS", "invalid esm_class", _PERMANENT),
    p.ESME_RSUBMITFAIL: ("ESME_RSUBMITFAIL", "submit failed", _RETRY),
    p.ESME_RINVSRCTON: ("ESME_RINVSRCTON", "invalid source TON", _PERMANENT),
    p.ESME_RINVSRCNPI: ("ESME_RINVSRCNPI", "invalid source NPI", _PERMANENT),
    p.ESME_RINVDSTTON: ("ESME_RINVDSTTON", "invalid destination TON", _PERMANENT),
    p.ESME_RINVDSTNPI: ("ESME_RINVDSTNPI", "invalid destination NPI", _PERMANENT),
    p.ESME_RTHROTTLED: ("ESME_RTHROTTLED", "throttled", _THROTTLED),
    p.ESME_RINVSCHED: ("ESME_RINVSCHED", "invalid scheduled delivery time", _PERMANENT),
    p.ESME_RINVEXPIRY: ("ESME_RINVEXPIRY", "invalid validity period", _PERMANENT),
    p.ESME_RINVOPTPARSTREAM: ("ESME_RINVOPTPARSTREAM", "corrupt TLV stream", _PERMANENT),
    p.ESME_ROPTPARNOTALLWD: ("ESME_ROPTPARNOTALLWD", "TLV not allowed", _PERMANENT),
    p.ESME_RINVPARLEN: ("ESME_RINVPARLEN", "invalid TLV length", _PERMANENT),
    p.ESME_RMISSINGOPTPARAM: ("ESME_RMISSINGOPTPARAM", "missing TLV", _PERMANENT),
    p.ESME_RINVOPTPARAMVAL: ("ESME_RINVOPTPARAMVAL", "invalid TLV value", _PERMANENT),
    p.ESME_RDELIVERYFAILURE: ("ESME_RDELIVERYFAILURE", "delivery failure", _PERMANENT),
    # An unknown error is no verdict on the message: retrying is bounded by herald's retry policy.
    p.ESME_RUNKNOWNERR: ("ESME_RUNKNOWNERR", "unknown error", _RETRY),
    p.VENDOR_RBARRED: ("VENDOR_RBARRED", "recipient barred or unsubscribed", ProviderOutcome.OPTED_OUT),
}
"""submit_sm command_status -> (name, meaning, outcome); a code not listed is retried (vendor codes)."""

REBIND = frozenset({p.ESME_RINVBNDSTS, p.ESME_RALYBND})
"""Answers saying the SMSC no longer sees the bind: the link is dropped and rebound, the message retried."""

_UNKNOWN, _UNREACHABLE = ProviderOutcome.OUTCOME_UNKNOWN, ProviderOutcome.UNREACHABLE
ADVICE = {
    _RETRY: "herald will retry.",
    _THROTTLED: "herald will retry.",
    _UNREACHABLE: "herald will retry.",
    _UNKNOWN: "herald will retry.",
    _PERMANENT: "the message will not be retried.",
    ProviderOutcome.OPTED_OUT: "the message will not be retried.",
    ProviderOutcome.MISCONFIGURED: "herald holds the messages until the link is fixed.",
}
