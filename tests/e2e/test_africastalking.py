"""Africa's Talking end to end: herald's real worker, the fake AT on 127.0.0.1, its reports pushed over real HTTP
to herald's webhooks (uvicorn), everything counted at the fake.

Every message goes out once and none twice, whatever the fake does (5xx, timeouts, lost answers,
per-recipient refusals); a lost answer ends FAILED as OUTCOME_UNKNOWN (AT cannot be asked), never
sent again. The webhook refuses calls without its secret and bodies it cannot read, and changes nothing
then; opt-out notifications and STOP replies reach the opt-out list. The exactly-once tests run on
herald's SQLite and on PostgreSQL, where several workers share one database in production.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from herald.app import Herald
from herald.config import Settings
from herald.demo.servers import free_port, hook_server
from herald.domain.message import MessageStatus
from herald.fakes.africastalking import FakeAfricasTalking, Injection
from herald.services import campaigns, stats
from herald.services.campaigns import CampaignRequest
from herald.store import optouts
from herald.store.database import make_engine, upgrade
from herald.store.messages import claim_pending
from herald.store.tables import messages
from herald.worker import Worker, outbound_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

SECRET = "at-webhook-secret-5f4e3d2c1b"
USERNAME, KEY = "mfibank", "at-api-key-0a1b2c3d"
FINAL = {MessageStatus.DELIVERED, MessageStatus.FAILED}
TEXT = "Your instalment is due this week. Thank you."


def _settings(
    home: Path, fineract: FineractBuilder, fake_url: str, database_url: str | None = None, **extra: Any
) -> Settings:
    provider = {
        "kind": "africastalking",
        "name": "at",
        "username": USERNAME,
        "api_key": KEY,
        "sender": "MFIBank",
        "base_url": fake_url,
        "webhook_secret": SECRET,
        "timeout": 0.8,
    }
    return Settings(
        home=home,
        database_url=database_url or f"sqlite:///{home / 'herald.sqlite'}",
        corebank_url=fineract.url,
        providers=json.dumps([provider]),
        retry_base_seconds=0.05,
        send_interval=0.1,
        reports_interval=0.2,
        materialize_interval=0.2,
        **extra,
    )


@contextmanager
def _webhooks(settings: Settings, port: int) -> Iterator[str]:
    with hook_server(settings, port=port):
        yield f"http://127.0.0.1:{port}/webhooks/at"


def _clients(fineract: FineractBuilder, n: int) -> list[str]:
    numbers = [f"+2547120004{i:02d}" for i in range(n)]
    for i, number in enumerate(numbers):
        fineract.client(f"C{i}", number)
    return numbers


def _campaign(herald: Herald, text: str = TEXT) -> None:
    request = {
        "campaignName": "Due this week",
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": "1"},
        "message": text,
        "providerId": "at",
    }
    c = campaigns.create(CampaignRequest.model_validate(request), **validating(herald))
    campaigns.activate(c.id, **activating(herald))
    outbound_for(herald).run_due()


def _rows(herald: Herald) -> list[Any]:
    with herald.store.connect() as conn:
        return list(conn.execute(select(messages).order_by(messages.c.id)))


def _run(
    tmp_path: Path,
    fineract: FineractBuilder,
    body: Callable[[FakeAfricasTalking, Herald, str], Awaitable[None]],
    database_url: str | None = None,
    **fake_options: Any,
) -> None:
    """`body` against herald on `database_url` (default: an SQLite file), its webhooks served, the fake started."""
    if database_url is not None and database_url.startswith("postgresql"):
        engine = make_engine(database_url)
        upgrade(engine)  # `herald db upgrade`, the step an operator runs on a server database
        engine.dispose()
    port = free_port()
    settings_box: list[Settings] = []

    async def main() -> None:
        callback = f"http://127.0.0.1:{port}/webhooks/at?secret={SECRET}"
        fake = FakeAfricasTalking(USERNAME, KEY, callback_url=callback, push_retry=0.1, hang=1.5, **fake_options)
        url = await fake.start()
        settings = _settings(tmp_path, fineract, url, database_url)
        settings_box.append(settings)
        herald = Herald.build(settings)
        try:
            with _webhooks(settings, port) as webhook:
                await asyncio.wait_for(body(fake, herald, webhook), timeout=60)
        finally:
            await fake.stop()
            herald.close()

    asyncio.run(main())


async def _work_until(herald: Herald, done: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    worker = Worker(herald)
    await worker.run_async(lambda: done() or time.monotonic() > deadline)


def _all_final(herald: Herald) -> Callable[[], bool]:
    return lambda: all(MessageStatus(r.status) in FINAL | {MessageStatus.INVALID} for r in _rows(herald))


def test_a_campaign_is_delivered_through_the_fake_in_one_bulk_request_with_its_cost(
    tmp_path: Path, fineract: FineractBuilder
) -> None:
    numbers = _clients(fineract, 6)

    async def body(fake: FakeAfricasTalking, herald: Herald, webhook: str) -> None:
        _campaign(herald)
        await _work_until(herald, _all_final(herald))
        rows = _rows(herald)
        assert [MessageStatus(r.status) for r in rows] == [MessageStatus.DELIVERED] * 6
        assert fake.requests["/version1/messaging"] == 1  # one text, six numbers: one request
        assert sorted(n for n, _ in fake.sent) == numbers and set(fake.sent.values()) == {1}
        assert {r.external_id for r in rows} == set(fake.messages)
        assert {(r.provider_cost, r.provider_cost_currency) for r in rows} == {(Decimal("0.8"), "KES")}
        figures = stats.statistics(
            store=herald.store, clock=herald.clock, timezone="Africa/Nairobi", pricing=stats.Pricing(0.8, "KES")
        )
        assert figures.provider_costs == {"KES": Decimal("4.8")}
        assert figures.provider_costed == 6
        # The campaign page shows it beside the estimate (the chart's panel, refreshed live).
        from herald.web.chart import deliveries
        from herald.web.pages import templates

        chart = deliveries(herald, rows[0].campaign_id)
        html = templates.get_template("_chart.html").render(chart=chart)
        assert "estimate 4.80 KES (6 segments)" in html and "charged by the provider KES 4.8 for 6 messages" in html

    _run(tmp_path, fineract, body, delivered_after=0.2)


def test_faults_at_the_fake_send_every_message_once_and_none_twice(
    tmp_path: Path, fineract: FineractBuilder, db_url: str
) -> None:
    numbers = _clients(fineract, 5)

    async def body(fake: FakeAfricasTalking, herald: Herald, webhook: str) -> None:
        fake.refuse[numbers[0]] = (403, "InvalidPhoneNumber")
        fake.refuse[numbers[1]] = (501, "GatewayError")  # AT's own failure: retried
        fake.inject(Injection.SERVER_ERROR)  # the first request: nothing sent, retried
        fake.inject(Injection.DISCONNECT)  # the second: in doubt at AT, which cannot be asked -> FAILED
        _campaign(herald, "Reminder {{firstName}}")  # one text per client: one request each
        await _work_until(herald, _all_final(herald))
        rows = {r.mobile_no: r for r in _rows(herald)}
        assert all(count == 1 for count in fake.sent.values()), fake.sent  # none twice
        assert rows[numbers[0]].status == MessageStatus.FAILED and rows[numbers[0]].error_code == "403"
        unknown = [n for n, r in rows.items() if r.error_code == "OUTCOME_UNKNOWN"]
        assert len(unknown) == 1 and rows[unknown[0]].status == MessageStatus.FAILED
        assert "cannot be asked" in rows[unknown[0]].error_text
        gateway = rows[numbers[1]]
        if numbers[1] not in unknown:  # its 501 was retried until the retries ran out
            assert gateway.status == MessageStatus.FAILED and gateway.error_code == "501"
            assert gateway.attempts >= 2
        sent_to = {n for n, _ in fake.sent}
        for number, row in rows.items():
            if row.status == MessageStatus.DELIVERED:
                assert number in sent_to
        delivered = [n for n, r in rows.items() if r.status == MessageStatus.DELIVERED]
        assert len(delivered) == 5 - 2 - len(set(unknown) - {numbers[0], numbers[1]})

    _run(tmp_path, fineract, body, db_url, delivered_after=0.1)


def test_a_lost_answer_ends_failed_as_outcome_unknown_and_is_never_sent_again(
    tmp_path: Path, fineract: FineractBuilder, db_url: str
) -> None:
    _clients(fineract, 3)

    async def body(fake: FakeAfricasTalking, herald: Herald, webhook: str) -> None:
        fake.inject(Injection.LOST_ANSWER)  # AT sends all three, the answer never comes
        _campaign(herald)
        await _work_until(herald, _all_final(herald))
        await asyncio.sleep(0.5)
        await sender_for(herald).run()  # another pass sends nothing
        rows = _rows(herald)
        assert {(MessageStatus(r.status), r.error_code) for r in rows} == {(MessageStatus.FAILED, "OUTCOME_UNKNOWN")}
        assert sorted(fake.sent.values()) == [1, 1, 1]
        assert fake.requests["/version1/messaging"] == 1

    _run(tmp_path, fineract, body, db_url, delivered_after=None)


def test_a_message_whose_worker_died_mid_send_is_failed_not_sent_again(
    tmp_path: Path, fineract: FineractBuilder, db_url: str
) -> None:
    _clients(fineract, 2)

    async def body(fake: FakeAfricasTalking, herald: Herald, webhook: str) -> None:
        _campaign(herald)
        from datetime import timedelta

        with herald.store.begin() as conn:  # a worker claims them, and dies before it records anything
            claimed = claim_pending(conn, herald.clock.now(), 10, timedelta(seconds=0), worker="dead")
        assert len(claimed) == 2
        await sender_for(herald).run()
        rows = _rows(herald)
        assert {(MessageStatus(r.status), r.error_code) for r in rows} == {(MessageStatus.FAILED, "OUTCOME_UNKNOWN")}
        assert not fake.sent

    _run(tmp_path, fineract, body, db_url)


def test_webhook_attacks_get_4xx_and_change_nothing(tmp_path: Path, fineract: FineractBuilder) -> None:
    _clients(fineract, 1)

    async def body(fake: FakeAfricasTalking, herald: Herald, webhook: str) -> None:
        _campaign(herald)
        await sender_for(herald).run()
        [row] = _rows(herald)
        assert row.status == MessageStatus.WAITING_FOR_DELIVERY_REPORT
        report = {"id": row.external_id, "status": "Success", "phoneNumber": row.mobile_no}
        async with httpx.AsyncClient(timeout=10) as http:
            answers = [
                await http.post(webhook, data=report),  # no secret
                await http.post(webhook + "?secret=wrong-secret-000000000", data=report),
                await http.post(webhook, data=report, headers={"x-herald-webhook-secret": "wrong"}),
                await http.post(webhook + f"?secret={SECRET[:-1]}", data=report),  # one character short
            ]
            assert [a.status_code for a in answers] == [403] * 4
            assert all(a.json()["error"]["message"] for a in answers)
            bad = [
                await http.post(webhook + f"?secret={SECRET}", content=b"\xff\xfe", headers=_form_type()),
                await http.post(webhook + f"?secret={SECRET}", data={"id": row.external_id, "status": "Teleported"}),
                await http.post(webhook + f"?secret={SECRET}", data={"nothing": "here"}),
                await http.post(webhook + f"?secret={SECRET}", json={"id": row.external_id, "status": "Success"}),
                await http.post(webhook + f"?secret={SECRET}", data={"id": "x" * 500, "status": "Success"}),
                await http.post(webhook + f"?secret={SECRET}", data={"id": "x", "status": "Success", "p": "9" * 70000}),
            ]
            assert [a.status_code for a in bad] == [400, 400, 400, 400, 400, 413]
            # A report on an id herald never sent is kept aside, unapplied (AT may report before herald
            # has recorded its answer); it changes no message.
            unknown = await http.post(webhook + f"?secret={SECRET}", data={"id": "ATXid_unknown", "status": "Failed"})
            assert unknown.status_code == 200 and unknown.json()["applied"] == 0
        [after] = _rows(herald)
        assert after.status == MessageStatus.WAITING_FOR_DELIVERY_REPORT and after.updated_at == row.updated_at
        async with httpx.AsyncClient(timeout=10) as http:
            ok = await http.post(webhook + f"?secret={SECRET}", data=report)
        assert ok.status_code == 200 and ok.json()["applied"] == 1
        assert MessageStatus(_rows(herald)[0].status) is MessageStatus.DELIVERED

    _run(tmp_path, fineract, body)


def _form_type() -> dict[str, str]:
    return {"content-type": "application/x-www-form-urlencoded"}


def _reply(text: str) -> dict[str, str]:
    return {"from": "+254712000777", "to": "20880", "text": text, "date": "2026-11-25 08:00:00", "id": "in-1"}


@pytest.mark.parametrize(
    ("form", "opted_out"),
    [
        ({"senderId": "MFIBank", "phoneNumber": "+254712000777"}, True),  # AT's opt-out notification
        (_reply("STOP") | {"linkId": "l"}, True),
        (_reply(" sitisha "), True),
        (_reply("When is my loan due?"), False),
    ],
)
def test_opt_out_notifications_and_stop_replies_reach_the_opt_out_list(
    tmp_path: Path, fineract: FineractBuilder, form: dict[str, str], opted_out: bool
) -> None:
    async def body(fake: FakeAfricasTalking, herald: Herald, webhook: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.post(webhook + f"?secret={SECRET}", data=form)
            forged = await http.post(webhook + "?secret=nope", data={"senderId": "x", "phoneNumber": "+254712000888"})
        assert answer.status_code == 200 and forged.status_code == 403
        with herald.store.connect() as conn:
            listed = optouts.contains(conn, ["+254712000777", "+254712000888"])
        assert listed == ({"+254712000777"} if opted_out else set())

    _run(tmp_path, fineract, body)
