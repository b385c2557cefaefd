"""SMPP delivery receipts: parsing the receipt text and TLVs, the state table, and the report each one makes.

A multipart message has one SMSC message id per part; herald knows it by the first part's id and
keeps every part's id with the message. Each part's receipt is reported under its own id; herald
combines a message's parts (domain/multipart.py), also after a restart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport
from herald.providers import smpp_pdu as p

MESSAGE_STATES: dict[int, tuple[str, MessageStatus, str]] = {
    1: ("ENROUTE", MessageStatus.SENT, "in transit"),
    2: ("DELIVRD", MessageStatus.DELIVERED, "delivered"),
    3: ("EXPIRED", MessageStatus.FAILED, "validity period expired"),
    4: ("DELETED", MessageStatus.FAILED, "deleted by the SMSC"),
    5: ("UNDELIV", MessageStatus.FAILED, "undeliverable"),
    # ACCEPTD is "read on behalf of the subscriber" and UNKNOWN an SMSC that lost track: neither
    # says the handset got it nor gives herald anything to retry, so the message stays Sent.
    6: ("ACCEPTD", MessageStatus.SENT, "accepted on behalf of the subscriber"),
    7: ("UNKNOWN", MessageStatus.SENT, "state unknown to the SMSC"),
    8: ("REJECTD", MessageStatus.FAILED, "rejected by the SMSC"),
}
"""message_state TLV value -> (receipt `stat`, herald status, meaning); providers.md 3.4."""

STAT_STATES = {stat: state for state, (stat, _, _) in MESSAGE_STATES.items()}

PASSING_STATES = frozenset({3, 5})
"""EXPIRED and UNDELIV: the states whose failure may pass, when a temporary network error says why."""

TEMPORARY_NETWORK_ERRORS = frozenset({6, 27, 31, 32, 33, 34})
"""GSM MAP errors that pass (the same codes Infobip reports as EC_*): absent subscriber (SM), subscriber
busy for MT SMS, SM delivery failure, message waiting list full, system failure. Unknown or illegal
subscriber, teleservice not provisioned and barring are not: a re-send meets the same answer."""

_KEYS = re.compile(r"\b(id|sub|dlvrd|submit date|done date|stat|err|text):", re.IGNORECASE)


@dataclass(frozen=True)
class Receipt:
    """One receipt (or query_sm answer) for one SMSC message id; `state` is a MESSAGE_STATES key."""

    message_id: str
    state: int | None
    err: str | None = None
    network_error: str | None = None
    submitted: datetime | None = None  # receipt dates carry no time zone: kept as the SMSC wrote them
    done: datetime | None = None
    text: str | None = None

    @property
    def status(self) -> MessageStatus | None:
        entry = MESSAGE_STATES.get(self.state or 0)
        return entry[1] if entry else None

    @property
    def transient(self) -> bool:
        """EXPIRED or UNDELIV with a temporary network error, in the network_error_code TLV (GSM) or the
        `err:` field (decimal, or hex when it has letters; SMSCs write both)."""
        if self.state not in PASSING_STATES:
            return False
        codes: list[int] = []
        if self.network_error is not None and self.network_error.startswith("GSM "):
            codes.append(int(self.network_error[4:]))
        if self.err and self.err.isalnum():
            err = self.err
            if err.isdigit() or all(c in "0123456789abcdefABCDEF" for c in err):
                codes.append(int(err, 10 if err.isdigit() else 16))
        return any(code in TEMPORARY_NETWORK_ERRORS for code in codes)

    def error_fields(self) -> tuple[str, str]:
        stat, _, meaning = MESSAGE_STATES.get(self.state or 0, ("?", MessageStatus.FAILED, "failed"))
        code = self.err or self.network_error or stat
        text = f"{stat}: {meaning}" + (f" (network error {self.network_error})" if self.network_error else "")
        return code, text


def receipt_date(value: str | None) -> datetime | None:
    """`YYMMDDhhmm` or `YYMMDDhhmmss` (SMSCs use both); anything else is None, never an exception."""
    if value is None or not value.isdigit() or len(value) not in (10, 12):
        return None
    yy, mo, dd, hh, mi = (int(value[i : i + 2]) for i in range(0, 10, 2))
    ss = int(value[10:12]) if len(value) == 12 else 0
    try:
        return datetime(2000 + yy, mo, dd, hh, mi, ss)
    except ValueError:
        return None


def receipt_fields(text: str) -> dict[str, str]:
    """The `key:value` fields of a receipt text, keys lower-cased; `text` takes the rest of the line."""
    fields: dict[str, str] = {}
    matches = list(_KEYS.finditer(text))
    for index, match in enumerate(matches):
        key = match.group(1).lower()
        if key == "text":
            fields[key] = text[match.end() :]
            break
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        fields[key] = text[match.end() : end].strip()
    return fields


def is_receipt(sm: p.ShortMessage) -> bool:
    return (sm.esm_class & p.ESM_TYPE_MASK) == p.ESM_RECEIPT or p.TLV_RECEIPTED_MESSAGE_ID in sm.tlvs


def parse_receipt(sm: p.ShortMessage) -> Receipt | None:
    """The receipt in a deliver_sm, TLVs preferred over the text; None when it names no message."""
    raw = sm.short_message
    text = raw.decode("utf-16-be", "replace") if sm.data_coding == p.DC_UCS2 else raw.decode("latin-1")
    fields = receipt_fields(text)
    message_id = fields.get("id", "")
    if p.TLV_RECEIPTED_MESSAGE_ID in sm.tlvs:
        message_id = sm.tlvs[p.TLV_RECEIPTED_MESSAGE_ID].rstrip(b"\x00").decode("latin-1")
    if not message_id:
        return None
    state = STAT_STATES.get(fields.get("stat", "").upper())
    if p.TLV_MESSAGE_STATE in sm.tlvs and len(sm.tlvs[p.TLV_MESSAGE_STATE]) == 1:
        state = sm.tlvs[p.TLV_MESSAGE_STATE][0]
    network_error = None
    raw_network = sm.tlvs.get(p.TLV_NETWORK_ERROR_CODE)
    if raw_network is not None and len(raw_network) == 3:
        network_type = {1: "ANSI-136", 2: "IS-95", 3: "GSM", 4: "reserved"}.get(raw_network[0], str(raw_network[0]))
        network_error = f"{network_type} {int.from_bytes(raw_network[1:], 'big')}"
    return Receipt(
        message_id=message_id,
        state=state,
        err=fields.get("err") or None,
        network_error=network_error,
        submitted=receipt_date(fields.get("submit date")),
        done=receipt_date(fields.get("done date")),
        text=fields.get("text"),
    )


def receipt_report(receipt: Receipt, external_id: str, at: datetime) -> DeliveryReport | None:
    """The report a receipt (or query_sm answer) makes for the message or part `external_id`, or
    None when it says nothing herald shows (no known state)."""
    status = receipt.status
    return None if status is None else _report(external_id, status, receipt, at)


def _report(external_id: str, status: MessageStatus, receipt: Receipt, at: datetime) -> DeliveryReport:
    if status is not MessageStatus.FAILED:
        return DeliveryReport(external_id, status, at)
    code, text = receipt.error_fields()
    return DeliveryReport(external_id, status, at, code, text, transient=receipt.transient)
