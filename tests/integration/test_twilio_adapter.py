"""The Twilio adapter against the fake Twilio over real sockets: what the contract suite does not cover."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from herald.domain.message import MessageStatus
from herald.errors import ProviderOutcome
from herald.fakes.twilio import FakeFault, FakeTwilio
from herald.providers.base import OutboundMessage, WebhookRequest
from herald.providers.config import TwilioSettings
from herald.providers.twilio import TwilioProvider

SERVICE = "MG" + "2" * 32


def _settings(fake: FakeTwilio, **overrides: Any) -> TwilioSettings:
    values: dict[str, Any] = {
        "name": "tw",
        "account_sid": fake.account_sid,
        "auth_token": SecretStr(fake.auth_token),
        "from_number": "+12025550143",
        "base_url": fake.url,
        "timeout": 2.0,
    }
    return TwilioSettings(**(values | overrides))


def _provider(
    fake: FakeTwilio, public_url: str | None = "https://herald.example.org", **overrides: Any
) -> TwilioProvider:
    return TwilioProvider(_settings(fake, **overrides), now=lambda: datetime.now(UTC), public_url=public_url)


def _messages(n: int, first: int = 1) -> list[OutboundMessage]:
    return [OutboundMessage(first + i, f"+2547120{first + i:05d}", f"Reminder {i}") for i in range(n)]


def run(body: Callable[[FakeTwilio], Awaitable[None]], **fake_options: Any) -> None:
    async def main() -> None:
        async with FakeTwilio(**fake_options) as fake:
            await asyncio.wait_for(body(fake), timeout=20)

    asyncio.run(main())


def test_no_more_requests_are_in_flight_than_max_in_flight_and_they_overlap() -> None:
    async def body(fake: FakeTwilio) -> None:
        provider = _provider(fake, max_in_flight=5)
        started = time.perf_counter()
        results = await provider.send(_messages(40))
        elapsed = time.perf_counter() - started
        await provider.close()
        assert all(r.accepted for r in results)
        assert fake.peak_in_flight == 5
        assert elapsed < 40 * 0.05 / 2  # sequential would take 2 s

    run(body, latency=0.05)


def test_results_stay_in_order_and_one_refusal_does_not_spoil_the_others() -> None:
    async def body(fake: FakeTwilio) -> None:
        provider = _provider(fake)
        messages = [*_messages(2), OutboundMessage(9, "+15005550004", "hi"), *_messages(2, first=3)]
        results = await provider.send(messages)
        await provider.close()
        assert [r.message_id for r in results] == [1, 2, 9, 3, 4]
        assert [r.accepted for r in results] == [True, True, False, True, True]
        error = results[2].error
        assert error is not None and (error.code, error.outcome) == ("21610", ProviderOutcome.OPTED_OUT)

    run(body)


def test_a_full_sender_queue_asks_herald_to_slow_down_not_to_spend_the_attempt() -> None:
    """21611: Twilio's advice is "slow down", so the provider is paused (THROTTLED), not the message retried."""

    async def body(fake: FakeTwilio) -> None:
        provider = _provider(fake)
        fake.inject(FakeFault.QUEUE_FULL)
        [result] = await provider.send(_messages(1))
        await provider.close()
        assert result.error is not None
        assert (result.error.code, result.error.outcome) == ("21611", ProviderOutcome.THROTTLED)

    run(body)


def test_the_status_callback_url_is_herald_public_webhook_url() -> None:
    async def body(fake: FakeTwilio) -> None:
        for provider in (_provider(fake), _provider(fake, status_callback=False), _provider(fake, public_url=None)):
            await provider.send(_messages(1))
            await provider.close()
        callbacks = [form.get("StatusCallback") for _, _, form in fake.requests]
        assert callbacks == ["https://herald.example.org/webhooks/tw", None, None]
        method, path, form = fake.requests[0]
        assert (method, path) == ("POST", f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json")
        assert (form["To"], form["Body"], form["From"]) == ("+254712000001", "Reminder 0", "+12025550143")

    run(body)


def test_a_messaging_service_replaces_from_and_accepted_is_no_news() -> None:
    async def body(fake: FakeTwilio) -> None:
        provider = _provider(fake, from_number=None, messaging_service_sid=SERVICE)
        [result] = await provider.send(_messages(1))
        assert result.external_id is not None
        form = fake.requests[0][2]
        assert form["MessagingServiceSid"] == SERVICE and "From" not in form
        assert fake.messages[result.external_id]["status"] == "accepted"
        assert await provider.fetch_reports([result.external_id]) == []
        await provider.close()

    run(body)


def test_pulled_reports_follow_the_lifecycle_and_an_unknown_sid_is_left_out() -> None:
    async def body(fake: FakeTwilio) -> None:
        provider = _provider(fake)
        sids = [r.external_id for r in await provider.send(_messages(3))]
        assert all(sids)
        a, b, c = (s for s in sids if s is not None)
        await fake.settle(a, "sent")
        await fake.settle(b, "delivered")
        await fake.settle(c, "failed", 21610)
        reports = await provider.fetch_reports([a, b, c, "SM" + "0" * 32])
        await provider.close()
        assert [(r.external_id, r.status) for r in reports] == [
            (a, MessageStatus.SENT),
            (b, MessageStatus.DELIVERED),
            (c, MessageStatus.FAILED),
        ]
        assert (reports[2].error_code, reports[2].opted_out) == ("21610", True)
        assert reports[2].error_text

    run(body)


@asynccontextmanager
async def _herald(received: list[WebhookRequest]) -> AsyncIterator[str]:
    """A stand-in for herald's webhook endpoint on 127.0.0.1 that keeps what it was sent."""

    async def receive(request: web.Request) -> web.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        received.append(WebhookRequest(str(request.url), request.method, headers, await request.read()))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/webhooks/tw", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def test_callbacks_pushed_by_the_fake_lifecycle_are_signed_and_parse() -> None:
    async def body(fake: FakeTwilio) -> None:
        received: list[WebhookRequest] = []
        async with _herald(received) as public_url:
            provider = _provider(fake, public_url=public_url)
            [result] = await provider.send(_messages(1))
            for _ in range(100):
                if len(received) == 2:
                    break
                await asyncio.sleep(0.02)
            await provider.close()
        reports = [(r.external_id, r.status) for request in received for r in provider.parse_webhook(request).reports]
        assert reports == [(result.external_id, MessageStatus.SENT), (result.external_id, MessageStatus.DELIVERED)]
        assert [status for _, status, _ in fake.callbacks] == ["sent", "delivered"]
        assert all(answer == 200 for _, _, answer in fake.callbacks)

    run(body, sent_after=0.05, delivered_after=0.1)


def test_check_names_refused_credentials_and_an_unreachable_host() -> None:
    async def body(fake: FakeTwilio) -> None:
        wrong = _provider(fake, auth_token=SecretStr("not-the-token"))
        check = await wrong.check()
        await wrong.close()
        assert not check.ok and "credentials refused" in check.detail
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed_port = s.getsockname()[1]
        gone = _provider(fake, base_url=f"http://127.0.0.1:{closed_port}")
        check = await gone.check()
        await gone.close()
        assert not check.ok and check.detail.startswith(f"unreachable 127.0.0.1:{closed_port}")

    run(body)


def test_the_adapter_reconnects_in_a_new_event_loop() -> None:
    fake = FakeTwilio()
    provider: TwilioProvider | None = None

    async def first() -> None:
        nonlocal provider
        await fake.start()
        provider = _provider(fake)
        assert (await provider.send(_messages(1)))[0].accepted
        await fake.stop()  # the provider is not closed: its session dies with this loop

    async def second() -> None:
        assert provider is not None
        restarted = FakeTwilio(port=fake.port)
        await restarted.start()
        assert (await provider.send(_messages(1)))[0].accepted
        await provider.close()
        await restarted.stop()

    asyncio.run(first())
    asyncio.run(second())


def test_logs_mask_numbers_and_never_show_the_token(caplog: pytest.LogCaptureFixture) -> None:
    async def body(fake: FakeTwilio) -> None:
        provider = _provider(fake, auth_token=SecretStr(fake.auth_token))
        fake.inject(FakeFault.SERVER_ERROR)
        await provider.send([OutboundMessage(1, "+254712345678", "hi"), OutboundMessage(2, "+15005550001", "hi")])
        await provider.close()

    with caplog.at_level(logging.DEBUG, logger="herald"):
        run(body)
    text = caplog.text
    assert "not accepted" in text
    assert "+254712345678" not in text and "+15005550001" not in text
    assert "+2547******78" in text
    assert "fake-twilio-auth-token" not in text
