"""The SMPP adapter against the fake SMSC over TCP: wire bytes, long messages, keep-alive, reconnects, receipts."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from herald.domain.message import MessageStatus
from herald.domain.segments import gsm7_encode
from herald.errors import ProviderOutcome
from herald.fakes.smsc import FakeSmsc, SmscFault
from herald.providers import smpp_pdu as p
from herald.providers.base import OutboundMessage
from herald.providers.smpp import THROTTLE_PAUSE, build
from herald.providers.smpp_codes import COMMAND_STATUS
from herald.providers.smpp_receipts import parse_receipt, receipt_date
from tests.contract.harness_smpp import SmppHarness, settings

TO = "+254712000001"


def run(body: Callable[[SmppHarness], Awaitable[None]], smsc: dict[str, Any] | None = None, **overrides: Any) -> None:
    async def main() -> None:
        fake = await FakeSmsc(**(smsc or {})).start()
        h = SmppHarness(fake, **overrides)
        try:
            await asyncio.wait_for(body(h), timeout=20)
        finally:
            await h.close()

    asyncio.run(main())


async def send_one(h: SmppHarness, text: str, message_id: int = 1) -> str:
    [result] = await h.provider.send([OutboundMessage(message_id, TO, text)])
    assert result.accepted, result.error
    assert result.external_id is not None
    return result.external_id


def test_gsm7_goes_unpacked_with_data_coding_0_and_receipts_requested() -> None:
    async def body(h: SmppHarness) -> None:
        external_id = await send_one(h, "Pay KES 500 {now} €")
        [part] = h.smsc.submitted
        sm = part.sm
        assert part.message_id == external_id
        assert sm.data_coding == 0x00 and sm.esm_class == 0x00 and sm.registered_delivery == 0x01
        assert sm.short_message == b"Pay KES 500 \x1b(now\x1b) \x1be"
        assert (sm.destination_addr, sm.dest_addr_ton, sm.dest_addr_npi) == ("254712000001", 1, 1)
        assert (sm.source_addr, sm.source_addr_ton, sm.source_addr_npi) == ("HERALD", 5, 0)

    run(body)


def test_ucs2_goes_as_utf16_big_endian_with_data_coding_8() -> None:
    async def body(h: SmppHarness) -> None:
        await send_one(h, "Habari ç 😀")
        [part] = h.smsc.submitted
        assert part.sm.data_coding == 0x08 and part.sm.esm_class == 0x00
        assert part.sm.short_message == "Habari ç 😀".encode("utf-16-be")
        assert part.sm.short_message[-4:] == bytes.fromhex("D83DDE00")

    run(body)


def test_a_three_part_gsm7_message_has_one_udh_reference_and_never_cuts_an_escape() -> None:
    text = "a" * 152 + "€" + "a" * 152  # 306 septets, but the ESC pair cannot straddle: 3 parts

    async def body(h: SmppHarness) -> None:
        external_id = await send_one(h, text)
        parts = [s.sm for s in h.smsc.submitted]
        assert len(parts) == 3
        assert external_id == h.smsc.submitted[0].message_id
        reference = parts[0].short_message[3]
        for seq, sm in enumerate(parts, 1):
            assert sm.esm_class == 0x40 and sm.data_coding == 0x00
            assert sm.short_message[:6] == bytes([0x05, 0x00, 0x03, reference, 3, seq])
            assert len(sm.short_message) - 6 <= 153
            assert not sm.short_message.endswith(b"\x1b")
        assert parts[0].short_message[6:] == b"a" * 152
        assert b"".join(sm.short_message[6:] for sm in parts) == gsm7_encode(text)

    run(body)


def test_two_part_ucs2_keeps_an_emoji_at_the_boundary_whole_and_hands_out_every_part_id() -> None:
    text = "ж" * 66 + "😀" + "ж" * 3  # 71 units: the surrogate pair would straddle units 67/68

    async def body(h: SmppHarness) -> None:
        [result] = await h.provider.send([OutboundMessage(1, TO, text)])
        first, second = (s.sm for s in h.smsc.submitted)
        assert first.short_message[6:] == ("ж" * 66).encode("utf-16-be")
        assert second.short_message[6:] == ("😀" + "ж" * 3).encode("utf-16-be")
        assert first.short_message[4:6] == b"\x02\x01" and second.short_message[4:6] == b"\x02\x02"
        assert first.short_message[3] == second.short_message[3]
        ids = [s.message_id for s in h.smsc.submitted]
        # herald keeps every part's id (store/message_parts.py combines their receipts, restart or not).
        assert (result.external_id, result.part_ids) == (ids[0], tuple(ids))
        await h.smsc.settle(ids[1], "DELIVRD")
        [report] = await h.wait_reports(1)
        assert (report.external_id, report.status) == (ids[1], MessageStatus.DELIVERED)

    run(body)


def test_each_part_is_reported_and_pulled_under_its_own_id_with_its_error() -> None:
    async def body(h: SmppHarness) -> None:
        await send_one(h, "x" * 200)
        ids = [s.message_id for s in h.smsc.submitted]
        await h.smsc.settle(ids[1], "UNDELIV", "069")
        [report] = await h.wait_reports(1)
        assert (report.external_id, report.status, report.error_code) == (ids[1], MessageStatus.FAILED, "069")
        assert report.error_text and "UNDELIV" in report.error_text
        await h.smsc.settle(ids[0], "DELIVRD")
        pulled = await h.provider.fetch_reports(ids)
        assert [(r.external_id, r.status) for r in pulled] == [
            (ids[0], MessageStatus.DELIVERED),
            (ids[1], MessageStatus.FAILED),
        ]

    run(body)


def test_a_batch_is_submitted_concurrently_within_the_window_of_max_in_flight() -> None:
    async def body(h: SmppHarness) -> None:
        results = await h.provider.send([OutboundMessage(i, TO, f"hello {i}") for i in range(20)])
        assert [r.message_id for r in results] == list(range(20))
        assert all(r.accepted for r in results)
        assert h.smsc.max_outstanding == 4

    run(body, smsc={"latency": 0.02}, max_in_flight=4)


def test_enquire_link_keeps_the_bind_alive() -> None:
    async def body(h: SmppHarness) -> None:
        await send_one(h, "hello")
        await asyncio.sleep(0.55)
        assert h.smsc.enquire_links >= 3
        assert h.smsc.binds == 1
        await send_one(h, "still bound", 2)

    run(body, enquire_link_interval=0.1)


def test_the_adapter_rebinds_by_itself_after_the_smsc_drops_the_connection() -> None:
    async def body(h: SmppHarness) -> None:
        await send_one(h, "before")
        h.smsc.drop_all()
        async with asyncio.timeout(5):
            while h.smsc.binds < 2:  # no send asks for it: the supervisor rebinds so receipts keep coming
                await asyncio.sleep(0.05)
        external_id = await send_one(h, "after", 2)
        await h.smsc.settle(external_id, "DELIVRD")
        [report] = await h.wait_reports(1)
        assert report.external_id == external_id

    run(body, reconnect_max_delay=0.2)


def test_a_receipt_that_overtakes_its_submit_sm_resp_reaches_the_sink() -> None:
    async def body(h: SmppHarness) -> None:
        external_id = await send_one(h, "fast network")
        [report] = await h.wait_reports(1)
        assert (report.external_id, report.status) == (external_id, MessageStatus.DELIVERED)

    run(body, smsc={"receipt_before_resp": True})


def test_a_text_only_receipt_with_12_digit_dates_is_understood() -> None:
    async def body(h: SmppHarness) -> None:
        external_id = await send_one(h, "hello")
        submitted = h.smsc.by_id[external_id]
        receipt = parse_receipt(h.smsc.receipt(submitted))
        assert receipt is not None and receipt.done is not None and receipt.submitted is not None
        assert receipt.done.second == submitted.at.second
        [report] = await h.wait_reports(1)
        assert (report.external_id, report.status) == (external_id, MessageStatus.DELIVERED)

    run(body, smsc={"date_digits": 12, "receipt_tlvs": False, "receipt_after": 0.05})


def test_receipt_text_quirks_dates_key_case_and_order() -> None:
    assert receipt_date("2409040801") == datetime(2024, 9, 4, 8, 1)
    assert receipt_date("240904080159") == datetime(2024, 9, 4, 8, 1, 59)
    assert receipt_date("24090408") is None and receipt_date("2413990000") is None
    sm = p.ShortMessage(
        source_addr="254712000001",
        destination_addr="HERALD",
        esm_class=0x04,
        short_message=b"stat:EXPIRED id:8a1f02 done date:240904080159 submit date:2409040800 err:0x1F Text:a stat:x",
    )
    receipt = parse_receipt(sm)
    assert receipt is not None
    assert (receipt.message_id, receipt.status, receipt.err) == ("8a1f02", MessageStatus.FAILED, "0x1F")
    assert receipt.text == "a stat:x"


def test_throttled_and_queue_full_answers_pause_the_provider() -> None:
    async def body(h: SmppHarness) -> None:
        h.smsc.inject(SmscFault.THROTTLED)
        h.smsc.inject(SmscFault.QUEUE_FULL)
        results = await h.provider.send([OutboundMessage(i, TO, "hi") for i in (1, 2)])
        errors = [r.error for r in results if r.error is not None]
        assert sorted(e.code or "" for e in errors) == ["ESME_RMSGQFUL", "ESME_RTHROTTLED"]
        assert all(e.outcome is ProviderOutcome.THROTTLED for e in errors)

    run(body)


def test_garbage_from_the_smsc_leaves_the_submit_in_doubt_and_the_link_recovers() -> None:
    async def body(h: SmppHarness) -> None:
        h.smsc.inject(SmscFault.GARBAGE)
        [result] = await h.provider.send([OutboundMessage(1, TO, "hi")])
        # The link dropped mid-submit: the SMSC may have taken it.
        assert result.error is not None and result.error.outcome is ProviderOutcome.OUTCOME_UNKNOWN
        await send_one(h, "again", 2)

    run(body)


def test_check_names_a_refused_password_and_an_unreachable_host() -> None:
    async def body(h: SmppHarness) -> None:
        check = await h.provider.check()
        assert not check.ok and "invalid password" in check.detail
        assert "wrong" not in check.detail

    run(body, password="wrong")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]

    async def unreachable(h: SmppHarness) -> None:
        check = await h.provider.check()
        assert not check.ok and f"unreachable 127.0.0.1:{closed_port}" in check.detail

    run(unreachable, port=closed_port)


def test_close_unbinds_and_a_mobile_originated_message_is_acknowledged_not_reported() -> None:
    async def body(h: SmppHarness) -> None:
        await send_one(h, "hello")
        mo = p.ShortMessage(source_addr="254712000009", destination_addr="HERALD", short_message=b"STOP")
        assert await h.smsc.deliver(mo) == p.ESME_ROK
        assert h.reports == []
        await h.provider.close()
        await asyncio.sleep(0.05)
        assert "unbound by the peer" in h.smsc.closed_reasons

    run(body)


def test_each_asyncio_run_gets_its_own_bind_against_the_command_line_smsc() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "herald.fakes.smsc", "--port", str(port), "--receipt-after", "-1"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as fake:
        try:
            assert fake.stdout is not None and "listening" in fake.stdout.readline()

            async def sink(provider: str, reports: object) -> None:
                return None

            provider = build(settings(port=port), now=datetime.now, public_url=None, report_sink=sink)
            for attempt in (1, 2):  # the jobs call asyncio.run per run: a bind from a dead loop is not reused
                [result] = asyncio.run(provider.send([OutboundMessage(1, TO, "hi", attempt)]))
                assert result.accepted, result.error
            asyncio.run(provider.close())
        finally:
            fake.terminate()


def test_after_a_throttled_answer_the_next_submits_wait_a_moment() -> None:
    async def body(h: SmppHarness) -> None:
        h.smsc.inject(SmscFault.THROTTLED)
        loop = asyncio.get_running_loop()
        [throttled] = await h.provider.send([OutboundMessage(1, TO, "hi")])
        assert throttled.error is not None and throttled.error.outcome is ProviderOutcome.THROTTLED
        started = loop.time()
        await send_one(h, "later", 2)
        assert loop.time() - started >= THROTTLE_PAUSE * 0.9

    run(body)


def test_every_command_status_the_reference_lists_has_an_outcome() -> None:
    listed = {0x01, 0x04, 0x05, 0x08, 0x0A, 0x0B, 0x0D, 0x0E, 0x0F, 0x14, 0x43, 0x45, 0x48, 0x49, 0x50, 0x51}
    listed |= {0x58, 0x61, 0x62, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xFE, 0xFF}  # providers.md 3.6
    assert listed <= set(COMMAND_STATUS)
    assert [name for name, _, outcome in COMMAND_STATUS.values() if outcome is ProviderOutcome.OPTED_OUT] == [
        "VENDOR_RBARRED"
    ]
