"""Which failures pass, per provider: the small classification each adapter puts on its FAILED reports.

(That the SMPP adapter carries a receipt's verdict onto its report: tests/e2e/test_transient_resend_providers.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from herald.domain.message import MessageStatus
from herald.fakes.infobip_wire import error_object, status_object
from herald.providers import smpp_pdu as p
from herald.providers import twilio_codes
from herald.providers.infobip import parse_report
from herald.providers.smpp_receipts import parse_receipt

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "passes"),
    [
        ("30003", True),  # unreachable handset: off, no signal
        ("30008", True),  # unknown error: maybe once
        ("30001", True),  # queue overflow
        ("14107", True),  # loop protection, for 30 s
        ("30005", False),  # unknown handset: clean the list
        ("30006", False),  # landline
        ("30007", False),  # filtered content
        ("21610", False),  # unsubscribed
        (None, False),
    ],
)
def test_twilio_codes_that_pass(code: str | None, passes: bool) -> None:
    assert twilio_codes.is_transient_failure(code) is passes


def _infobip(status: str, error: int) -> dict[str, object]:
    return {"messageId": "m1", "status": status_object(status), "error": error_object(error), "doneAt": AT.isoformat()}


@pytest.mark.parametrize(
    ("status", "error", "passes"),
    [
        ("UNDELIVERABLE_NOT_DELIVERED", 27, True),  # absent subscriber
        ("EXPIRED_EXPIRED", 27, True),
        ("UNDELIVERABLE_NOT_DELIVERED", 1, False),  # unknown subscriber
        ("UNDELIVERABLE_NOT_DELIVERED", 4101, False),  # validity expired is marked permanent by Infobip
        ("UNDELIVERABLE_NOT_DELIVERED", 2050, False),  # block list: an opt-out
        ("REJECTED_DND", 27, False),  # Infobip's own verdict, and an opt-out
        ("EXPIRED_EXPIRED", 0, False),  # no error says why
    ],
)
def test_infobip_reports_that_pass(status: str, error: int, passes: bool) -> None:
    report = parse_report(_infobip(status, error), lambda: AT)
    assert report is not None and report.status is MessageStatus.FAILED
    assert report.transient is passes
    assert not (report.transient and report.opted_out)


def test_an_infobip_error_unknown_to_herald_passes_when_infobip_says_it_is_not_permanent() -> None:
    unlisted = {"id": 31, "groupId": 1, "name": "EC_SUBSCRIBER_BUSY_FOR_MT_SMS", "permanent": False}
    rejected = {"groupId": 5, "groupName": "REJECTED", "id": 99, "name": "REJECTED_SOMETHING_NEW"}
    expired = {"groupId": 4, "groupName": "EXPIRED", "id": 98, "name": "EXPIRED_SOMETHING_NEW"}
    for status, passes in ((expired, True), (rejected, False)):
        report = parse_report({"messageId": "m", "status": status, "error": unlisted}, lambda: AT)
        assert report is not None and report.transient is passes


def _receipt(stat: str, err: str, network: int | None = None) -> p.ShortMessage:
    tlvs = {p.TLV_NETWORK_ERROR_CODE: bytes([3]) + network.to_bytes(2, "big")} if network is not None else {}
    text = f"id:5A0001 sub:001 dlvrd:000 submit date:2612010900 done date:2612010901 stat:{stat} err:{err} text:Hi"
    return p.ShortMessage("254712000001", "MFI", text.encode(), esm_class=p.ESM_RECEIPT, tlvs=tlvs)


@pytest.mark.parametrize(
    ("stat", "err", "network", "passes"),
    [
        ("UNDELIV", "027", None, True),  # absent subscriber, decimal
        ("EXPIRED", "01B", None, True),  # the same in hex
        ("UNDELIV", "000", 27, True),  # only the network_error_code TLV says why
        ("EXPIRED", "006", None, True),  # absent subscriber (SM)
        ("UNDELIV", "031", None, True),  # busy for MT SMS
        ("UNDELIV", "001", None, False),  # unknown subscriber
        ("UNDELIV", "000", None, False),  # nothing says it passes
        ("EXPIRED", "000", 11, False),  # teleservice not provisioned
        ("REJECTD", "027", None, False),  # the SMSC refused it: not the handset's absence
        ("DELETED", "027", None, False),
        ("UNDELIV", "xyz", None, False),  # unreadable err: not a reason to send again
    ],
)
def test_smpp_receipts_that_pass(stat: str, err: str, network: int | None, passes: bool) -> None:
    receipt = parse_receipt(_receipt(stat, err, network))
    assert receipt is not None and receipt.status is MessageStatus.FAILED
    assert receipt.transient is passes
