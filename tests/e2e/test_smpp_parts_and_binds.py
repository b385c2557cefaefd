"""SMPP links as operators run them: long messages whose receipts come after a restart, several binds,
and receipts naming the message in another number form than submit_sm_resp did.

Every test runs herald's send job against the fake SMSC over TCP, applies the receipts through the
real sink into the real SQLite store, and counts what the fake received.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.fakes.smsc import FakeSmsc, Submitted
from herald.providers.smpp_receipts import STAT_STATES
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store.tables import messages
from herald.worker import outbound_for, puller_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

LONG = "Dear {{firstName}}, your instalment is due. " + "Please pay at any branch or by mobile money. " * 4


def _herald(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, smsc: FakeSmsc, **link: Any) -> Herald:
    config = {
        "kind": "smpp",
        "name": "operator",
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "herald",
        "password": "secret",
        "source_addr": "MFI",
        "timeout": 2.0,
    } | link
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        providers=json.dumps([config]),
    )
    return Herald.build(settings, clock)


def _campaign(herald: Herald, name: str, text: str) -> None:
    request = {
        "campaignName": name,
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": "1"},
        "message": text,
        "providerId": "operator",
    }
    c = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
    campaigns.activate(c.id, **activating(herald))


async def _send(herald: Herald) -> None:
    await asyncio.to_thread(outbound_for(herald).run_due)
    counts = await sender_for(herald).run()
    assert counts["accepted"] > 0 and counts["retry"] == counts["failed"] == 0, counts


def _statuses(herald: Herald) -> dict[str, tuple[MessageStatus, str | None]]:
    """mobile number -> (status, error code) of every message."""
    with herald.store.connect() as conn:
        rows = conn.execute(select(messages.c.mobile_no, messages.c.status, messages.c.error_code)).all()
    return {r.mobile_no: (MessageStatus(r.status), r.error_code) for r in rows}


def _parts(smsc: FakeSmsc) -> dict[str, list[Submitted]]:
    """destination number (+ added) -> what the fake accepted for it, in order."""
    found: dict[str, list[Submitted]] = {}
    for s in smsc.submitted:
        if s.message_id:
            found.setdefault("+" + s.sm.destination_addr, []).append(s)
    return found


def _run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), timeout=60))


def test_long_messages_receipts_after_a_restart_end_them_delivered_or_failed(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    """The rule: a long message is DELIVERED once every part is, FAILED as soon as one part is, SENT meanwhile."""
    fineract.client("Amina", "+254712000101")
    fineract.client("Baraka", "+254712000102")

    async def main() -> None:
        smsc = await FakeSmsc(receipt_after=None).start()
        try:
            first = _herald(tmp_path, fineract, clock, smsc)
            _campaign(first, "Due", LONG)
            await _send(first)
            await first.close_providers()
            first.close()  # herald restarts: a new process, a new provider object, nothing kept in memory

            again = _herald(tmp_path, fineract, clock, smsc)
            assert (await again.providers.named("operator").check()).ok  # bound again
            parts = _parts(smsc)
            amina, baraka = parts["+254712000101"], parts["+254712000102"]
            assert len(amina) == len(baraka) == 2  # each part submitted once
            await smsc.settle(amina[1].message_id, "DELIVRD")
            assert _statuses(again)["+254712000101"] == (MessageStatus.SENT, None)  # half the text arrived
            await smsc.settle(amina[0].message_id, "DELIVRD")
            await smsc.settle(baraka[0].message_id, "DELIVRD")
            await smsc.settle(baraka[1].message_id, "UNDELIV", "069")
            assert _statuses(again) == {
                "+254712000101": (MessageStatus.DELIVERED, None),
                "+254712000102": (MessageStatus.FAILED, "069"),
            }
            assert len(smsc.submitted) == 4
            await again.close_providers()
            again.close()
        finally:
            await smsc.close()

    _run(main)


def test_after_a_restart_the_pull_asks_about_every_part_of_a_long_message(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    fineract.client("Amina", "+254712000101")
    fineract.client("Baraka", "+254712000102")

    async def main() -> None:
        smsc = await FakeSmsc(receipt_after=None).start()
        try:
            first = _herald(tmp_path, fineract, clock, smsc)
            _campaign(first, "Due", LONG)
            await _send(first)
            await first.close_providers()
            first.close()

            parts = _parts(smsc)
            # The SMSC knows the outcome but never pushed it (receipts lost): only query_sm can tell.
            for part in parts["+254712000101"] + parts["+254712000102"][:1]:
                part.state = STAT_STATES["DELIVRD"]
            parts["+254712000102"][1].state, parts["+254712000102"][1].err = STAT_STATES["UNDELIV"], "011"
            again = _herald(tmp_path, fineract, clock, smsc)
            clock.advance(seconds=again.settings.reports_poll_after + 1)
            await puller_for(again).pull()
            statuses = _statuses(again)
            assert statuses["+254712000101"] == (MessageStatus.DELIVERED, None)
            assert statuses["+254712000102"][0] is MessageStatus.FAILED
            await again.close_providers()
            again.close()
        finally:
            await smsc.close()

    _run(main)


def test_three_binds_share_the_submits_and_receipts_on_another_bind_apply(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    numbers = [f"+2547120002{i:02d}" for i in range(30)]
    for i, number in enumerate(numbers):
        fineract.client(f"Client{i}", number)

    async def main() -> None:
        smsc = await FakeSmsc(receipt_after=None, receipt_bind="other", latency=0.01).start()
        try:
            herald = _herald(tmp_path, fineract, clock, smsc, binds=3, max_in_flight=4)
            _campaign(herald, "First", "Hello {{firstName}}")
            await _send(herald)
            assert smsc.binds == 3
            by_session = Counter(id(s.session) for s in smsc.submitted)
            assert len(by_session) == 3 and min(by_session.values()) >= 5, by_session  # spread, not all on one
            assert smsc.max_outstanding > 4  # more in flight than one bind's window allows
            for s in list(smsc.submitted):
                await smsc.settle(s.message_id, "DELIVRD")  # each receipt pushed on a bind other than its submit's
            assert set(_statuses(herald).values()) == {(MessageStatus.DELIVERED, None)}

            # One bind drops while idle: the next messages go on the others, none lost, none twice.
            dropped = smsc.submitted[0].session
            dropped.abandon()
            await asyncio.sleep(0.05)
            _campaign(herald, "Second", "Reminder for {{firstName}}")
            await _send(herald)
            received = Counter((s.sm.destination_addr, s.sm.short_message) for s in smsc.submitted)
            assert len(received) == 60 and set(received.values()) == {1}  # every message exactly once at the fake
            assert all(s.session is not dropped for s in smsc.submitted[30:])
            for s in smsc.submitted[30:]:
                await smsc.settle(s.message_id, "DELIVRD")
            with herald.store.connect() as conn:
                rows = conn.execute(select(messages.c.status)).scalars().all()
            assert len(rows) == 60 and set(rows) == {MessageStatus.DELIVERED}
            await herald.close_providers()
            herald.close()
        finally:
            await smsc.close()

    _run(main)


@pytest.mark.parametrize(
    ("resp_ids", "receipt_ids", "setting"),
    [
        ("hex", "decimal", "hex_to_decimal"),
        ("decimal", "hex", "decimal_to_hex"),
        ("HEX", "decimal", "hex_to_decimal"),
        ("hex", "decimal", "auto"),
        ("decimal", "hex", "auto"),
        ("hex", "same", "auto"),
    ],
)
@pytest.mark.parametrize("tlvs", [True, False], ids=["tlv", "text-only"])
def test_receipts_naming_the_message_in_the_other_number_form_are_applied(
    tmp_path: Path,
    fineract: FineractBuilder,
    clock: ManualClock,
    resp_ids: str,
    receipt_ids: str,
    setting: str,
    tlvs: bool,
) -> None:
    fineract.client("Amina", "+254712000101")
    fineract.client("Baraka", "+254712000102")

    async def main() -> None:
        smsc = await FakeSmsc(receipt_after=None, resp_ids=resp_ids, receipt_ids=receipt_ids, receipt_tlvs=tlvs).start()  # type: ignore[arg-type]
        try:
            herald = _herald(tmp_path, fineract, clock, smsc, receipt_id=setting)
            _campaign(herald, "Short", "Hello {{firstName}}")
            _campaign(herald, "Long", LONG)
            await _send(herald)
            assert len(smsc.submitted) == 6
            if receipt_ids != "same":  # the fake really names them differently
                assert all(smsc.receipt_id(s) != s.message_id for s in smsc.submitted)
            for s in list(smsc.submitted):
                await smsc.settle(s.message_id, "DELIVRD")
            with herald.store.connect() as conn:
                rows = conn.execute(select(messages.c.status)).scalars().all()
            assert sorted(rows) == [MessageStatus.DELIVERED] * 4
            await herald.close_providers()
            herald.close()
        finally:
            await smsc.close()

    _run(main)


def test_with_the_default_form_a_receipt_in_the_other_form_changes_nothing(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    """receipt_id = "same" never guesses: the receipt waits (parked), no message is touched."""
    fineract.client("Amina", "+254712000101")

    async def main() -> None:
        smsc = await FakeSmsc(receipt_after=None, resp_ids="hex", receipt_ids="decimal").start()
        try:
            herald = _herald(tmp_path, fineract, clock, smsc)
            _campaign(herald, "Short", "Hello {{firstName}}")
            await _send(herald)
            [s] = smsc.submitted
            await smsc.settle(s.message_id, "DELIVRD")
            assert _statuses(herald) == {"+254712000101": (MessageStatus.WAITING_FOR_DELIVERY_REPORT, None)}
            await herald.close_providers()
            herald.close()
        finally:
            await smsc.close()

    _run(main)


def test_a_bind_dropping_mid_send_loses_nothing_and_the_other_binds_carry_on(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    """One submit at a time per bind, so the drop catches only the submit that caused it (the fake never
    took that one): it is retried, everything else goes on the other binds, each message once at the fake."""
    from herald.fakes.smsc import SmscFault

    numbers = [f"+2547120003{i:02d}" for i in range(12)]
    for i, number in enumerate(numbers):
        fineract.client(f"Client{i}", number)

    async def main() -> None:
        smsc = await FakeSmsc(receipt_after=None, latency=0.01).start()
        try:
            herald = _herald(tmp_path, fineract, clock, smsc, binds=3, max_in_flight=1, reconnect_max_delay=0.2)
            _campaign(herald, "First", "Hello {{firstName}}")
            await asyncio.to_thread(outbound_for(herald).run_due)
            smsc.inject(SmscFault.DROP)
            sender = sender_for(herald)
            for _ in range(6):
                await sender.run()
                clock.advance(seconds=600)
            assert [s.message_id for s in smsc.submitted].count("") == 1  # the submit the drop caught
            accepted = Counter("+" + s.sm.destination_addr for s in smsc.submitted if s.message_id)
            assert accepted == Counter(numbers)  # every message exactly once where the SMSC took it
            assert len({id(s.session) for s in smsc.submitted}) >= 3  # the others carried on
            async with asyncio.timeout(5):
                while smsc.binds < 4:  # and the dropped bind comes back by itself
                    await asyncio.sleep(0.05)
            assert set(_statuses(herald).values()) == {(MessageStatus.WAITING_FOR_DELIVERY_REPORT, None)}
            await herald.close_providers()
            herald.close()
        finally:
            await smsc.close()

    _run(main)
