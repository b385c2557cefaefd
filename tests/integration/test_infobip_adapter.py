"""The Infobip adapter beyond the contract: batching, legacy API, draining pulls, pushes through herald's app."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import uvicorn
from pydantic import SecretStr
from sqlalchemy import func, select

from herald.app import Herald
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.errors import HeraldError, ProviderOutcome
from herald.fakes.infobip import FakeInfobip, Injection
from herald.fakes.infobip_wire import FakeMessage, inbound, report, timestamp
from herald.providers.base import InDoubt, OutboundMessage, reference
from herald.providers.config import InfobipSettings
from herald.providers.infobip import InfobipProvider
from herald.server import create_app
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.store import messages as message_store
from herald.store.search import EXTERNAL_ID_LENGTH
from herald.store.tables import messages, opt_outs, parked_reports
from herald.worker import sender_for
from tests.campaign_parts import activating, validating
from tests.contract import harness_infobip
from tests.contract.harness_infobip import InfobipHarness
from tests.fineract_builder import FineractBuilder

SECRET = "push-secret"


def _outbound(n: int, start: int = 1, body: str = "Your instalment is due on 5 Sep.") -> list[OutboundMessage]:
    return [OutboundMessage(start + i, f"+2547{start + i:08d}", body) for i in range(n)]


def run_with(body: Callable[[InfobipHarness], Awaitable[None]], **options: Any) -> None:
    async def main() -> None:
        h = await harness_infobip.make(**options)
        try:
            await asyncio.wait_for(body(h), timeout=30)
        finally:
            await h.close()

    asyncio.run(main())


def test_n_messages_travel_in_ceil_n_over_batch_size_requests_with_the_reference_as_message_id() -> None:
    async def body(h: InfobipHarness) -> None:
        results = await h.provider.send(_outbound(7))
        assert h.fake.requests["/sms/3/messages"] == 3
        assert [r.external_id for r in results] == [m.reference for m in _outbound(7)]
        sent = [d["messageId"] for b in h.fake.bodies for e in b["messages"] for d in e["destinations"]]
        assert sorted(sent) == sorted(m.reference for m in _outbound(7))
        # one identical text per batch: one messages[] entry carrying all its destinations
        assert [len(b["messages"]) for b in h.fake.bodies] == [1, 1, 1]
        assert h.fake.bodies[0]["messages"][0]["destinations"][0]["to"] == "254700000001"

    run_with(body, batch_size=3)


def test_a_rejected_destination_fails_alone_and_permanently() -> None:
    async def body(h: InfobipHarness) -> None:
        batch = [*_outbound(2), OutboundMessage(99, "+12", "Hi")]
        results = await h.provider.send(batch)
        assert [r.accepted for r in results] == [True, True, False]
        error = results[2].error
        assert error is not None and error.code == "REJECTED_DESTINATION" and error.outcome is ProviderOutcome.PERMANENT

    run_with(body)


def test_the_legacy_v2_api_sends_to_text_advanced_and_pulls_from_sms_1_reports() -> None:
    async def body(h: InfobipHarness) -> None:
        results = await h.provider.send(_outbound(2))
        assert all(r.accepted for r in results)
        assert h.fake.requests == {"/sms/2/text/advanced": 1}
        entry = h.fake.bodies[0]["messages"][0]
        assert entry["from"] == "MFIBank" and entry["text"].startswith("Your instalment")
        h.fake.settle(results[0].external_id or "", "DELIVERED_TO_HANDSET")
        h.fake.settle(results[1].external_id or "", "UNDELIVERABLE_NOT_DELIVERED", 27)
        reports = await h.provider.fetch_reports([])
        assert h.fake.requests["/sms/1/reports"] == 1
        assert [(r.status, r.error_code) for r in reports] == [
            (MessageStatus.DELIVERED, None),
            (MessageStatus.FAILED, "27"),
        ]

    run_with(body, api="v2")


def test_a_pull_drains_every_report_once_even_those_not_asked_for() -> None:
    async def body(h: InfobipHarness) -> None:
        results = await h.provider.send(_outbound(2500))
        for r in results:
            h.fake.settle(r.external_id or "", "DELIVERED_TO_HANDSET")
        reports = await h.provider.fetch_reports([results[0].external_id or ""])
        assert len(reports) == 2500 and {r.status for r in reports} == {MessageStatus.DELIVERED}
        assert h.fake.requests["/sms/3/reports"] == 3  # 1000 + 1000 + 500: the short page ends the drain
        assert await h.provider.fetch_reports([results[0].external_id or ""]) == []

    run_with(body)


def test_operator_delivery_is_sent_and_a_blocklisted_number_fails_but_is_not_opted_out() -> None:
    """An operator's block list (2050) is not the client's opt-out; a short code the client blocked (573) is."""

    async def body(h: InfobipHarness) -> None:
        a, b, c, d = await h.provider.send(_outbound(4))
        h.fake.settle(a.external_id or "", "DELIVERED_TO_OPERATOR")
        h.fake.settle(b.external_id or "", "UNDELIVERABLE_NOT_DELIVERED", 2050)
        h.fake.settle(c.external_id or "", "UNDELIVERABLE_NOT_DELIVERED", 573)
        h.fake.settle(d.external_id or "", "REJECTED_DND")
        sent, blocked, refused, dnd = await h.provider.fetch_reports([])
        assert sent.status is MessageStatus.SENT
        assert (blocked.status, blocked.error_code, blocked.opted_out) == (MessageStatus.FAILED, "2050", False)
        assert blocked.error_text and blocked.error_text.startswith("EC_DEST_ADDRESS_BLACKLISTED")
        assert (refused.status, refused.error_code, refused.opted_out) == (MessageStatus.FAILED, "573", True)
        assert (dnd.status, dnd.error_code, dnd.opted_out) == (MessageStatus.FAILED, "REJECTED_DND", False)

    run_with(body)


def test_the_notify_url_herald_hands_infobip_carries_the_secret() -> None:
    async def body(h: InfobipHarness) -> None:
        await h.provider.send(_outbound(1))
        hook = h.fake.bodies[0]["messages"][0]["webhooks"]
        assert hook["delivery"]["url"] == "https://herald.example/webhooks/infobip?secret=contract-secret"

    run_with(body, public_url="https://herald.example/")


def test_without_a_webhook_secret_no_push_is_requested_and_pushes_are_refused() -> None:
    settings = InfobipSettings(
        name="ib", base_url="http://127.0.0.1:9", api_key=SecretStr("k"), sender="MFIBank", webhook_secret=None
    )
    provider = InfobipProvider(settings, now=lambda: datetime.now(UTC), public_url="https://herald.example")
    path, request = provider._request(_outbound(1))
    assert path == "/sms/3/messages" and "webhooks" not in request["messages"][0]


def test_check_names_refused_credentials_and_an_unreachable_provider() -> None:
    async def main() -> None:
        fake = FakeInfobip("right-key")
        url = await fake.start()
        try:
            for base, key, expected in ((url, "wrong-key", "refused"), ("http://127.0.0.1:9", "k", "unreachable")):
                settings = InfobipSettings(
                    name="ib", base_url=base, api_key=SecretStr(key), sender="MFIBank", timeout=0.5
                )
                provider = InfobipProvider(settings, now=lambda: datetime.now(UTC), public_url=None)
                check = await provider.check()
                await provider.close()
                assert not check.ok and expected in check.detail
                assert key not in check.detail
        finally:
            await fake.stop()

    asyncio.run(main())


# --- pushes through herald's own FastAPI app ----------------------------------------------------


@contextmanager
def herald_server(tmp_path: Path, fake_url: str) -> Iterator[tuple[Herald, str]]:
    """A Herald with the fake as provider `infobip`, its app served by uvicorn on 127.0.0.1 in a thread."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    public = f"http://127.0.0.1:{sock.getsockname()[1]}"
    provider = {
        "kind": "infobip",
        "name": "infobip",
        "base_url": fake_url,
        "api_key": "contract-key",
        "sender": "MFIBank",
        "webhook_secret": SECRET,
        "timeout": 2,
    }
    fineract = FineractBuilder(f"sqlite:///{tmp_path / 'fineract.sqlite'}")
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'herald.sqlite'}",
        corebank_url=fineract.url,
        providers=json.dumps([provider]),
        public_url=public,
    )
    herald = Herald.build(settings)
    server = uvicorn.Server(uvicorn.Config(create_app(herald), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    try:
        yield herald, public
    finally:
        server.should_exit = True
        thread.join(5)
        herald.close()


def _campaign_with_messages(herald: Herald, n: int) -> None:
    request = {
        "campaignName": "Reminders",
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": 1},
        "message": "Your instalment is due.",
        "providerId": "infobip",
    }
    created = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
    campaign = campaigns.activate(created.id, **activating(herald))
    now = herald.clock.now()
    body = "Your instalment is due."
    rows = [
        (campaign.id, f"k{i}", i, 1, f"+2547{i:08d}", body, 100, None, "GSM-7", 1, "infobip", 0, now, now, None)
        for i in range(1, n + 1)
    ]
    with herald.store.begin() as conn:
        message_store.insert_new(conn, rows)


def _count(herald: Herald, status: MessageStatus) -> int:
    with herald.store.connect() as conn:
        return int(conn.execute(select(func.count()).where(messages.c.status == status)).scalar_one())


async def _until(condition: Callable[[], bool], seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_pushed_report_batches_reach_herald_and_are_stored(tmp_path: Path) -> None:
    async def main() -> None:
        fake = FakeInfobip("contract-key", delivered_after=0.05)
        url = await fake.start()
        try:
            with herald_server(tmp_path, url) as (herald, _):
                _campaign_with_messages(herald, 250)
                totals = await sender_for(herald).run()
                assert totals["accepted"] == 250
                await _until(lambda: sum(fake.pushed) == 250)
                assert _count(herald, MessageStatus.DELIVERED) == 250 and max(fake.pushed) > 1
                await herald.close_providers()
        finally:
            await fake.stop()

    asyncio.run(main())


def test_a_push_is_acknowledged_only_once_stored_so_infobip_pushes_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from herald.store import reports as report_store

    real = report_store.record
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise HeraldError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(report_store, "record", flaky)

    async def main() -> None:
        fake = FakeInfobip("contract-key", delivered_after=0.05, push_retry=0.05)
        url = await fake.start()
        try:
            with herald_server(tmp_path, url) as (herald, _):
                _campaign_with_messages(herald, 3)
                await sender_for(herald).run()
                await _until(lambda: sum(fake.pushed) == 3)  # answered 200 only after the refused batch came again
                assert calls["n"] >= 2 and _count(herald, MessageStatus.DELIVERED) == 3
                await herald.close_providers()
        finally:
            await fake.stop()

    asyncio.run(main())


def test_a_report_on_an_unknown_message_is_parked_and_forged_pushes_are_refused(tmp_path: Path) -> None:
    async def main() -> None:
        with herald_server(tmp_path, "http://127.0.0.1:9") as (herald, public):
            early = FakeMessage("herald-999-1", "b", "254700000999", "MFIBank", "Hi", "v3", None, timestamp())
            early.status = "DELIVERED_TO_HANDSET"
            payload = {"results": [report(early)]}
            async with aiohttp.ClientSession() as http:
                hook = f"{public}/webhooks/infobip"
                async with http.post(hook, params={"secret": "guess"}, json=payload) as forged:
                    assert forged.status == 403
                async with http.post(hook, headers={"X-Herald-Webhook-Secret": SECRET}, json=payload) as answer:
                    assert answer.status == 200, await answer.text()
            with herald.store.connect() as conn:
                parked = conn.execute(select(parked_reports.c.external_id, parked_reports.c.status)).all()
            assert [(p.external_id, p.status) for p in parked] == [("herald-999-1", MessageStatus.DELIVERED)]

    asyncio.run(main())


def test_an_inbound_stop_through_herald_puts_the_number_on_the_opt_out_list(tmp_path: Path) -> None:
    async def main() -> None:
        with herald_server(tmp_path, "http://127.0.0.1:9") as (herald, public):
            payload = {"results": [inbound("+254712000009", "MFIBank", "STOP", "in-1")], "messageCount": 1}
            async with (
                aiohttp.ClientSession() as http,
                http.post(f"{public}/webhooks/infobip", params={"secret": SECRET}, json=payload) as answer,
            ):
                assert answer.status == 200 and (await answer.json())["opted_out"] == 1
            with herald.store.connect() as conn:
                assert list(conn.execute(select(opt_outs.c.number)).scalars()) == ["+254712000009"]

    asyncio.run(main())


def test_a_lookup_asks_about_every_attempt_since_the_doubt_not_only_the_last() -> None:
    """Attempt 1 reached Infobip unanswered, attempt 2 as well: asked before attempt 3, Infobip's logs
    must be searched for herald-<id>-1 too, or the first copy is missed and a third one sent."""

    async def body(h: InfobipHarness) -> None:
        [first] = _outbound(1, start=41)
        await h.provider.send([OutboundMessage(first.message_id, first.to, first.body, attempt=1)])
        found = await h.provider.lookup([InDoubt(41, first.to, first.body, 2, datetime.now(UTC))])
        assert found == {41: "herald-41-1"}

    run_with(body)


def test_a_lookup_never_adopts_another_installations_message_under_the_old_reference_form() -> None:
    """Before installation ids every herald sent herald-<id>-<attempt>: such a log is ours only if the doubt
    began before our id existed and it went to our number; after that only our own form is asked for."""

    async def body(h: InfobipHarness) -> None:
        upgraded = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        others = OutboundMessage(41, "+254700000001", "Another institution's reminder")  # old form, their number
        await h.provider.send([others])
        before = InDoubt(41, "+254712000041", "Ours", 1, upgraded - timedelta(minutes=5), installation="abc")
        assert before.legacy and "herald-41-1" in before.references
        assert await h.provider.lookup([replace(before, installed_since=upgraded)]) == {}  # another number
        after = replace(before, since=upgraded + timedelta(minutes=5), installed_since=upgraded)
        assert after.references == ["herald-abc-41-1"]
        await h.provider.send([OutboundMessage(41, after.to, after.body, installation="abc")])
        assert await h.provider.lookup([after]) == {41: "herald-abc-41-1"}
        ours = OutboundMessage(42, "+254712000042", "Ours, sent before the upgrade")
        await h.provider.send([ours])
        old = replace(before, message_id=42, to=ours.to, since=upgraded - timedelta(hours=1), installed_since=upgraded)
        assert await h.provider.lookup([old]) == {42: "herald-42-1"}  # in flight at the upgrade: still found

    run_with(body)


def test_a_lookup_of_overdue_reports_reads_final_outcomes_from_the_logs_and_skips_pending_ones() -> None:
    async def body(h: InfobipHarness) -> None:
        a, b, c = await h.provider.send(_outbound(3))
        assert a.accepted and b.accepted and c.accepted, [r.error for r in (a, b, c)]
        h.fake.settle(a.external_id or "", "DELIVERED_TO_HANDSET")
        h.fake.settle(b.external_id or "", "UNDELIVERABLE_NOT_DELIVERED", 2050)
        assert await h.provider.fetch_reports([]) != []  # the reports are handed out here, and lost
        numbers = {m.reference: m.to for m in _outbound(3)}
        found = await h.provider.lookup_reports(numbers)  # type: ignore[attr-defined]
        assert [(r.external_id, r.status, r.opted_out) for r in found] == [
            (a.external_id, MessageStatus.DELIVERED, False),
            (b.external_id, MessageStatus.FAILED, False),
        ]
        assert c.external_id not in {r.external_id for r in found}  # still pending: nothing to say yet

    run_with(body)


def test_the_longest_reference_fits_herald_s_external_id_column_and_infobip_s_message_id() -> None:
    longest = reference("f" * 16, 2**63 - 1, 2**15 - 1)  # BIGINT row id, SMALLINT attempts
    assert len(longest) <= min(EXTERNAL_ID_LENGTH, 200)  # Infobip: messageId at most 200 characters


def test_a_send_infobip_rejects_for_its_own_system_error_is_retried_and_a_dnd_one_is_not() -> None:
    async def body(h: InfobipHarness) -> None:
        h.fake.inject(Injection.SYSTEM_ERROR)
        [retried] = await h.provider.send(_outbound(1))
        h.fake.inject(Injection.BLOCKED_RECIPIENT)
        [refused] = await h.provider.send(_outbound(1, start=2))
        assert retried.error is not None and retried.error.outcome is ProviderOutcome.TRANSIENT
        assert refused.error is not None and refused.error.outcome is ProviderOutcome.PERMANENT  # not OPTED_OUT

    run_with(body)
