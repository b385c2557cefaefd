"""The SMPP adapter against the fake SMSC over TCP, in the shapes real SMSCs use: message_payload, data_sm, alphabets.

Replies and receipts are counted where they land (the adapter's inbound and report sinks), and what
herald sends is read back by the fake with its own alphabet, so a link whose alphabet disagrees
with its SMSC's shows as a different text at the far side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport, InboundMessage
from herald.domain.segments import Alphabet, count_segments
from herald.fakes.smsc import Carrier, FakeSmsc
from herald.providers import smpp_pdu as p
from herald.providers.base import OutboundMessage
from herald.providers.smpp import SmppProvider
from tests.contract.harness_smpp import settings

TO = "+254712000001"
CLIENT = "254712000009"


@dataclass
class Link:
    smsc: FakeSmsc
    provider: SmppProvider
    reports: list[DeliveryReport] = field(default_factory=list)
    replies: list[InboundMessage] = field(default_factory=list)

    async def send(self, text: str, message_id: int = 1) -> str:
        [result] = await self.provider.send([OutboundMessage(message_id, TO, text)])
        assert result.accepted, result.error
        assert result.external_id is not None
        return result.external_id

    async def wait_reports(self, n: int) -> list[DeliveryReport]:
        async with asyncio.timeout(5):
            while len(self.reports) < n:
                await asyncio.sleep(0.01)
        return self.reports


def run(body: Callable[[Link], Awaitable[None]], *, link_alphabet: str = "gsm7", **smsc: Any) -> None:
    """`body` against a bound link whose default_alphabet is `link_alphabet`; `smsc` configures the fake."""

    async def main() -> None:
        fake = await FakeSmsc(**smsc).start()
        reports: list[DeliveryReport] = []
        replies: list[InboundMessage] = []

        async def report_sink(provider: str, found: Sequence[DeliveryReport]) -> None:
            reports.extend(found)

        async def inbound_sink(provider: str, found: Sequence[InboundMessage]) -> None:
            replies.extend(found)

        provider = SmppProvider(
            settings(port=fake.port, default_alphabet=link_alphabet),
            now=lambda: datetime.now(UTC),
            report_sink=report_sink,
            inbound_sink=inbound_sink,
        )
        link = Link(fake, provider, reports, replies)
        try:
            await link.send("bind")  # replies arrive on a bound link
            fake.submitted.clear()
            await asyncio.wait_for(body(link), timeout=20)
        finally:
            await provider.close()
            await fake.close()

    asyncio.run(main())


@pytest.mark.parametrize("carrier", list(Carrier))
def test_a_stop_reaches_the_inbound_sink_in_every_carrier(carrier: Carrier) -> None:
    async def body(link: Link) -> None:
        assert await link.smsc.reply(CLIENT, "STOP", carrier=carrier) == p.ESME_ROK
        assert [(r.from_number, r.text) for r in link.replies] == [("+" + CLIENT, "STOP")]

    run(body)


def test_a_data_sm_is_answered_with_a_data_sm_resp_carrying_a_message_id_field() -> None:
    async def body(link: Link) -> None:
        await link.smsc.reply(CLIENT, "Hello", carrier=Carrier.DATA_SM)
        [answer] = link.smsc.answers
        assert (answer.command_id, answer.status) == (0x80000103, p.ESME_ROK)
        assert answer.body == b"\x00"  # message_id: an empty C-string

    run(body)


@pytest.mark.parametrize(
    ("carrier", "tlvs"),
    [
        (Carrier.MESSAGE_PAYLOAD, True),
        (Carrier.MESSAGE_PAYLOAD, False),
        (Carrier.DATA_SM, True),
        (Carrier.DATA_SM, False),
    ],
    ids=["payload+tlvs", "payload-text-only", "data_sm-tlvs-no-text", "data_sm-text-only"],
)
def test_a_receipt_delivers_its_message_in_every_carrier(carrier: Carrier, tlvs: bool) -> None:
    async def body(link: Link) -> None:
        external_id = await link.send("Your instalment is due")
        await link.smsc.settle(external_id, "DELIVRD")
        [report] = await link.wait_reports(1)
        assert (report.external_id, report.status) == (external_id, MessageStatus.DELIVERED)

    run(body, receipt_carrier=carrier, receipt_tlvs=tlvs)


def test_a_data_sm_failure_receipt_carries_its_state() -> None:
    async def body(link: Link) -> None:
        external_id = await link.send("hello")
        await link.smsc.settle(external_id, "UNDELIV", "069")
        [report] = await link.wait_reports(1)
        assert (report.external_id, report.status) == (external_id, MessageStatus.FAILED)

    run(body, receipt_carrier=Carrier.DATA_SM)


def test_gsm7_replies_keep_at_sign_pound_and_euro_on_a_gsm7_link() -> None:
    text = "@home £5 €2 {ok}"

    async def body(link: Link) -> None:
        for carrier in Carrier:
            assert await link.smsc.reply(CLIENT, text, carrier=carrier) == p.ESME_ROK
        assert [r.text for r in link.replies] == [text] * 3

    run(body)


@pytest.mark.parametrize(
    ("coding", "text"),
    [(p.DC_LATIN1, "Asante sana, niko Moshi: café"), (p.DC_IA5, "STOP @ once"), (p.DC_UCS2, "Стоп 😀")],
)
def test_explicit_codings_are_read_as_what_they_say_whatever_the_link(coding: int, text: str) -> None:
    async def body(link: Link) -> None:
        assert await link.smsc.reply(CLIENT, text, data_coding=coding) == p.ESME_ROK
        assert [r.text for r in link.replies] == [text]

    run(body)


def test_a_latin1_link_reads_and_sends_data_coding_0_as_latin1() -> None:
    async def body(link: Link) -> None:
        assert await link.smsc.reply(CLIENT, "Ménage à trois @ 5£") == p.ESME_ROK
        assert [r.text for r in link.replies] == ["Ménage à trois @ 5£"]
        await link.send("Karibu Zoé: 5 £ @ branch {A}")
        [part] = link.smsc.submitted
        assert part.sm.data_coding == p.DC_DEFAULT
        assert part.text == "Karibu Zoé: 5 £ @ branch {A}"

    run(body, link_alphabet="latin1", alphabet=Alphabet.LATIN1)


def test_a_text_latin1_lacks_goes_ucs2_on_a_latin1_link_as_its_count_says() -> None:
    text = "Lipa €5 kwa Δ"  # GSM-7, but neither € nor Δ is Latin-1

    async def body(link: Link) -> None:
        await link.send(text)
        [part] = link.smsc.submitted
        assert part.sm.data_coding == p.DC_UCS2 and part.text == text
        assert count_segments(text, Alphabet.LATIN1).encoding == "UCS-2"

    run(body, link_alphabet="latin1", alphabet=Alphabet.LATIN1)


def test_a_long_text_on_an_ascii_link_is_split_as_counted_and_read_back_whole() -> None:
    text = "Pay 500 @ branch [Kisumu] today_" * 6  # 192 characters, '[' ']' cost two septets each

    async def body(link: Link) -> None:
        await link.send(text)
        parts = link.smsc.submitted
        assert len(parts) == count_segments(text, Alphabet.ASCII).segments == 2
        assert {s.sm.data_coding for s in parts} == {p.DC_DEFAULT}
        assert "".join(s.text for s in parts) == text

    run(body, link_alphabet="ascii", alphabet=Alphabet.ASCII)


def test_a_link_whose_alphabet_disagrees_with_its_smsc_shows_at_the_far_side() -> None:
    """The guard the other tests rely on: the fake reads with its own alphabet, not herald's."""

    async def body(link: Link) -> None:
        await link.send("@ £")
        [part] = link.smsc.submitted
        assert part.sm.short_message == b"\x00 \x01"  # GSM-7 septets
        assert part.text == "\x00 \x01"  # what a Latin-1 SMSC makes of them

    run(body, link_alphabet="gsm7", alphabet=Alphabet.LATIN1)


@pytest.mark.parametrize(
    "tail",
    [b"\x14\x01\x00\x08ab", b"\x14\x01\x00", b"\x00"],
    ids=["tlv-value-cut-short", "tlv-header-cut-short", "one-stray-octet"],
)
def test_a_stop_followed_by_a_broken_optional_parameter_is_still_kept(tail: bytes) -> None:
    """Some SMSCs append vendor TLVs they get wrong: the STOP in short_message is whole, so it is kept
    and acknowledged, not refused with a generic_nack the SMSC would not deliver again."""

    async def body(link: Link) -> None:
        sm = p.ShortMessage(source_addr=CLIENT, destination_addr="HERALD", short_message=b"STOP", source_addr_ton=1)
        session = next(s for s in link.smsc.sessions if s.is_open)
        answer = await session.request(p.DELIVER_SM, sm.encode() + tail, timeout=5, windowed=False)
        assert (answer.command_id, answer.status) == (p.resp(p.DELIVER_SM), p.ESME_ROK)
        assert [(r.from_number, r.text) for r in link.replies] == [("+" + CLIENT, "STOP")]

    run(body)


def test_a_data_sm_whose_message_payload_is_cut_short_is_refused_not_kept_empty() -> None:
    async def body(link: Link) -> None:
        sm = p.ShortMessage(source_addr=CLIENT, destination_addr="HERALD", short_message=b"", source_addr_ton=1)
        broken = p.data_sm_body(sm) + b"\x04\x24\x00\x10STOP"  # says 16 octets, carries 4
        session = next(s for s in link.smsc.sessions if s.is_open)
        answer = await session.request(p.DATA_SM, broken, timeout=5, windowed=False)
        assert answer.command_id == p.GENERIC_NACK
        assert link.replies == []
        assert session.is_open  # the session carries on

    run(body)
