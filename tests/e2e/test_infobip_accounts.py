"""One Infobip account shared: by two herald providers (two senders), by two herald installations, and
reports lost on the way (a pull answer that never came) found again in Infobip's message logs.

Infobip hands each delivery report out once per account, to whichever pull asks first. Every test
counts at the fake: what it accepted (each message once, each messageId distinct) and that every
message herald sent ends DELIVERED or FAILED, with nothing waiting or parked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.fakes.infobip import FakeInfobip, Injection
from herald.fakes.infobip_wire import report
from herald.providers.base import WebhookBatch
from herald.server import create_app
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.services.inbound import keep
from herald.store.tables import messages, parked_reports
from herald.worker import outbound_for, puller_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

KEY = "shared-key"
FINAL = {MessageStatus.DELIVERED, MessageStatus.FAILED}


def _provider(name: str, url: str, sender: str) -> dict[str, Any]:
    return {"kind": "infobip", "name": name, "base_url": url, "api_key": KEY, "sender": sender, "timeout": 0.5}


def _herald(home: Path, fineract: FineractBuilder, clock: ManualClock, providers: list[dict[str, Any]]) -> Herald:
    home.mkdir(exist_ok=True)
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'herald.sqlite'}",
        corebank_url=fineract.url,
        providers=json.dumps(providers),
    )
    return Herald.build(settings, clock)


def _campaign(herald: Herald, provider: str) -> None:
    request = {
        "campaignName": f"Reminder via {provider}",
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": "1"},
        "message": "Hello {{firstName}}",
        "providerId": provider,
    }
    c = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
    campaigns.activate(c.id, **activating(herald))
    outbound_for(herald).run_due()


def _rows(herald: Herald) -> list[Any]:
    with herald.store.connect() as conn:
        return list(conn.execute(select(messages).order_by(messages.c.id)))


def _parked(herald: Herald) -> int:
    with herald.store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(parked_reports)).scalar_one())


def _clients(fineract: FineractBuilder, n: int) -> None:
    for i in range(n):
        fineract.client(f"C{i}", f"+2547120003{i:02d}")


def _run(body: Callable[[FakeInfobip], Awaitable[None]]) -> None:
    async def main() -> None:
        fake = FakeInfobip(KEY, hang=2.0)
        await fake.start()
        try:
            await asyncio.wait_for(body(fake), timeout=60)
        finally:
            await fake.stop()

    asyncio.run(main())


def _settle_all(fake: FakeInfobip, failing: Collection[str] = ()) -> None:
    """Every pending message delivered, but those to the `failing` numbers (digits without "+")."""
    for message_id, message in list(fake.messages.items()):
        if message.status == "PENDING_ACCEPTED":
            outcome = ("UNDELIVERABLE_NOT_DELIVERED", 1) if message.to in failing else ("DELIVERED_TO_HANDSET", 0)
            fake.settle(message_id, *outcome)


def test_two_providers_on_one_account_each_find_their_reports_whichever_pulls(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    _clients(fineract, 4)

    async def body(fake: FakeInfobip) -> None:
        providers = [_provider("ib-a", fake.url, "MFI-A"), _provider("ib-b", fake.url, "MFI-B")]
        herald = _herald(tmp_path / "h", fineract, clock, providers)
        try:
            _campaign(herald, "ib-a")
            _campaign(herald, "ib-b")
            await sender_for(herald).run()
            rows = _rows(herald)
            assert len(rows) == 8 and {r.provider for r in rows} == {"ib-a", "ib-b"}
            # Counted at the fake: each (number, sender) once, nothing twice.
            accepted = sorted((m.to, m.sender) for m in fake.messages.values())
            assert accepted == sorted({(r.mobile_no.lstrip("+"), s) for r in rows for s in ("MFI-A", "MFI-B")})
            _settle_all(fake, failing={rows[0].mobile_no.lstrip("+")})
            await puller_for(herald).pull()  # ib-a's pull drains the account: ib-b's reports come with it
            rows = _rows(herald)
            assert {r.status for r in rows} <= FINAL, [(r.provider, r.status) for r in rows]
            assert sum(r.status == MessageStatus.FAILED for r in rows) == 2  # one number, on both senders
            assert _parked(herald) == 0 and fake.pending_reports() == 0
            assert len(fake.messages) == 8
        finally:
            await herald.close_providers()
            herald.close()

    _run(body)


def test_a_report_parked_by_one_provider_of_the_account_is_adopted_when_the_other_records_its_send(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    """ib-a's send answer is lost; the report comes to ib-b (an account-level push) before ib-a knows."""
    _clients(fineract, 2)

    async def body(fake: FakeInfobip) -> None:
        providers = [_provider("ib-a", fake.url, "MFI-A"), _provider("ib-b", fake.url, "MFI-B")]
        herald = _herald(tmp_path / "h", fineract, clock, providers)
        try:
            _campaign(herald, "ib-a")
            fake.inject(Injection.LOST_ANSWER)
            sender = sender_for(herald)
            await sender.run()
            assert len(fake.messages) == 2 and {r.status for r in _rows(herald)} == {MessageStatus.PENDING}
            _settle_all(fake)
            pushed = WebhookBatch(reports=await herald.providers.named("ib-b").fetch_reports([]))
            kept = keep(
                "ib-b",
                pushed,
                store=herald.store,
                clock=herald.clock,
                default_region="KE",
                sharing=herald.providers.sharing("ib-b"),
            )
            assert kept["reports"] == 2 and kept["applied"] == 0 and _parked(herald) == 2
            clock.advance(timedelta(seconds=60))
            await sender.run()  # ib-a asks Infobip's logs, adopts its two messages, and their parked reports
            assert {r.status for r in _rows(herald)} == {MessageStatus.DELIVERED} and _parked(herald) == 0
            assert len(fake.messages) == 2  # nothing sent twice
        finally:
            await herald.close_providers()
            herald.close()

    _run(body)


def test_reports_lost_in_a_pull_that_timed_out_are_found_in_the_logs_once_overdue(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    _clients(fineract, 4)

    async def body(fake: FakeInfobip) -> None:
        herald = _herald(tmp_path / "h", fineract, clock, [_provider("ib", fake.url, "MFI")])
        try:
            _campaign(herald, "ib")
            await sender_for(herald).run()
            rows = _rows(herald)
            late = str(rows[3].external_id)
            fake.messages[late].status = "PENDING_ENROUTE"  # still on its way: the logs say nothing final
            _settle_all(fake, failing={rows[1].mobile_no.lstrip("+")})
            fake.inject_pull(Injection.LOST_REPORTS)
            puller = puller_for(herald)
            assert (await puller.pull()).get("errors") == 1
            assert fake.pending_reports() == 0  # Infobip let go of them: no pull brings them back
            await puller.pull()
            assert {r.status for r in _rows(herald)} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
            assert fake.requests["/sms/3/logs"] == 0  # not overdue yet: nobody is asked

            clock.advance(timedelta(hours=1, seconds=1))
            await puller.pull()
            statuses = {r.external_id: r.status for r in _rows(herald)}
            assert statuses.pop(late) == MessageStatus.SENT  # what the log says: handed on, still waiting
            assert sorted(statuses.values()) == [MessageStatus.DELIVERED, MessageStatus.DELIVERED, MessageStatus.FAILED]
            asked = fake.requests["/sms/3/logs"]
            await puller.pull()
            assert fake.requests["/sms/3/logs"] == asked  # the one still pending waits a whole interval

            fake.settle(late, "DELIVERED_TO_HANDSET")
            fake.inject_pull(Injection.LOST_REPORTS)
            await puller.pull()
            clock.advance(timedelta(hours=1, seconds=1))
            await puller.pull()
            assert {r.status for r in _rows(herald)} <= FINAL
            assert len(fake.messages) == 4 and _parked(herald) == 0
        finally:
            await herald.close_providers()
            herald.close()

    _run(body)


def test_two_installations_on_one_account_send_distinct_message_ids_and_get_only_their_own_reports(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    """Two herald databases, the same row ids: before installation ids, the second was refused as
    REJECTED_DUPLICATE_MESSAGE_ID, and a report on one applied to the other."""
    _clients(fineract, 3)

    async def body(fake: FakeInfobip) -> None:
        first = _herald(tmp_path / "one", fineract, clock, [_provider("ib", fake.url, "MFI")])
        second = _herald(tmp_path / "two", fineract, clock, [_provider("ib", fake.url, "MFI")])
        try:
            assert first.providers.installation != second.providers.installation
            for herald in (first, second):
                _campaign(herald, "ib")
                await sender_for(herald).run()
            one, two = _rows(first), _rows(second)
            assert [r.id for r in one] == [r.id for r in two]  # the same row ids in both databases
            assert {r.status for r in one + two} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
            assert len(fake.messages) == 6 and set(fake.messages) == {r.external_id for r in one + two}
            for message_id in fake.messages:  # the first installation's delivered, the second's failed
                mine = message_id in {r.external_id for r in one}
                fake.settle(message_id, *(("DELIVERED_TO_HANDSET", 0) if mine else ("UNDELIVERABLE_NOT_DELIVERED", 1)))

            await puller_for(first).pull()  # takes every report of the account, the second's too
            assert {r.status for r in _rows(first)} == {MessageStatus.DELIVERED}
            assert _parked(first) == 0  # the second's references are not ours: not kept forever either
            await puller_for(second).pull()
            assert {r.status for r in _rows(second)} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}

            clock.advance(timedelta(hours=1, seconds=1))
            for herald in (first, second):
                await puller_for(herald).pull()
            assert {r.status for r in _rows(first)} == {MessageStatus.DELIVERED}  # no failure of the other's
            assert {r.status for r in _rows(second)} == {MessageStatus.FAILED}  # found in the logs, its own
            assert len(fake.messages) == 6 and _parked(second) == 0
        finally:
            for herald in (first, second):
                await herald.close_providers()
                herald.close()

    _run(body)


def test_an_account_level_push_to_one_provider_applies_reports_on_every_provider_of_the_account(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    """Infobip's account subscriptions push every report of the account to one URL: /webhooks/ib-b here."""
    _clients(fineract, 2)

    async def body(fake: FakeInfobip) -> None:
        providers = [
            _provider("ib-a", fake.url, "MFI-A") | {"webhook_secret": "a-secret"},
            _provider("ib-b", fake.url, "MFI-B") | {"webhook_secret": "b-secret"},
        ]
        herald = _herald(tmp_path / "h", fineract, clock, providers)
        try:
            _campaign(herald, "ib-a")
            _campaign(herald, "ib-b")
            await sender_for(herald).run()
            _settle_all(fake)
            pushed = {"results": [report(m) for m in fake.messages.values()]}
            with TestClient(create_app(herald)) as client:
                answer = client.post("/webhooks/ib-b", params={"secret": "b-secret"}, json=pushed)
            assert answer.status_code == 200 and answer.json()["applied"] == 4, answer.text
            assert {r.status for r in _rows(herald)} == {MessageStatus.DELIVERED} and _parked(herald) == 0
            assert len(fake.messages) == 4
        finally:
            await herald.close_providers()
            herald.close()

    _run(body)
