"""herald as the message gateway of an unchanged Fineract: requests shaped exactly as Fineract sends them."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError as PydanticValidationError

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.fakes.twilio import FakeTwilio
from herald.server import create_app
from herald.services import reports
from herald.worker import puller_for, sender_for
from tests.fineract_builder import FineractBuilder

HEADERS = {
    "Content-Type": "application/json",
    "Fineract-Platform-TenantId": "default",
    "Fineract-Tenant-App-Key": "k3y-default",
}


@pytest.fixture
def gateway(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock) -> Iterator[tuple[TestClient, Herald]]:
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
        corebank_url=fineract.url,
        gateway_app_keys=json.dumps({"default": "k3y-default"}),
        simulator_failure_ratio=0.0,
        simulator_sent_after=1,
        simulator_delivered_after=2,
    )
    herald = Herald.build(settings, clock)
    with TestClient(create_app(herald)) as client:
        yield client, herald
    herald.close()


def _messages(*ids: int) -> list[dict[str, Any]]:
    return [
        {
            "internalId": i,
            "mobileNumber": "0712345678" if i % 2 else "+254733000111",
            "message": f"Dear client {i}, your instalment is due.",
            "providerId": 1,
        }
        for i in ids
    ]


def test_fineract_messages_are_accepted_sent_once_and_reported(
    gateway: tuple[TestClient, Herald], clock: ManualClock
) -> None:
    client, herald = gateway
    first = client.post("/fineract/gateway/sms", json=_messages(90211, 90212), headers=HEADERS)
    assert first.status_code == 202 and first.json()["created"] == 2
    again = client.post("/fineract/gateway/sms", json=_messages(90211, 90212), headers=HEADERS)  # Fineract restarts
    assert again.status_code == 202 and again.json() == {"received": 2, "created": 0, "duplicates": 2, "invalid": 0}
    report = client.post("/fineract/gateway/sms/report", json=[90211, 90212], headers=HEADERS).json()
    assert [(r["id"], r["deliveryStatus"], r["hasError"]) for r in report] == [(90211, 100, False), (90212, 100, False)]
    assert asyncio.run(sender_for(herald).run())["accepted"] == 2
    clock.advance(seconds=1.5)
    reports.run(puller_for(herald))  # the provider says SENT: Fineract keeps seeing 150 so it keeps polling
    assert {
        r["deliveryStatus"]
        for r in client.post("/fineract/gateway/sms/report", json=[90211, 90212], headers=HEADERS).json()
    } == {150}
    clock.advance(seconds=2)
    reports.run(puller_for(herald))
    final = client.post("/fineract/gateway/sms/report", json=[90211, 90212, 99999], headers=HEADERS).json()
    assert [(r["id"], r["deliveryStatus"]) for r in final] == [(90211, 300), (90212, 300)]
    assert all(r["externalId"] and r["addedOnDate"] and r["deliveredOnDate"] for r in final)


def test_a_bad_number_is_reported_failed_with_the_reason(gateway: tuple[TestClient, Herald]) -> None:
    client, _ = gateway
    body = [{"internalId": 7, "mobileNumber": "n/a", "message": "Hi", "providerId": 1}]
    assert client.post("/fineract/gateway/sms", json=body, headers=HEADERS).json()["invalid"] == 1
    [r] = client.post("/fineract/gateway/sms/report", json=[7], headers=HEADERS).json()
    assert (r["deliveryStatus"], r["hasError"], r["errorMessage"]) == (400, True, "not a phone number")


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": "application/json"}, 401),
        ({**HEADERS, "Fineract-Tenant-App-Key": "wrong"}, 403),
        ({**HEADERS, "Fineract-Platform-TenantId": "other"}, 403),
    ],
)
def test_calls_without_the_tenants_app_key_are_refused(
    gateway: tuple[TestClient, Herald], headers: dict[str, str], status: int
) -> None:
    client, _ = gateway
    answer = client.post("/fineract/gateway/sms", json=_messages(1), headers=headers)
    assert answer.status_code == status
    assert answer.json()["error"]["message"]
    assert client.post("/fineract/gateway/sms/report", json=[1], headers=HEADERS).json() == []


@pytest.mark.parametrize(
    "body", [b"not json", b'{"internalId": 1}', b'[{"internalId": "x", "message": "m"}]', b'[{"internalId": 1}]']
)
def test_malformed_bodies_are_refused_and_nothing_is_stored(gateway: tuple[TestClient, Herald], body: bytes) -> None:
    client, _ = gateway
    answer = client.post("/fineract/gateway/sms", content=body, headers=HEADERS)
    assert answer.status_code == 400 and "Traceback" not in answer.text
    assert client.post("/fineract/gateway/sms/report", json=[1], headers=HEADERS).json() == []


def test_the_gateway_sends_under_each_tenants_configured_sender_id(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    """HERALD_GATEWAY_SENDER_IDS names the sender per tenant; Twilio's From carries it, and a changed
    setting applies to the messages Fineract hands over after the change."""
    loop = asyncio.new_event_loop()
    running = threading.Thread(target=loop.run_forever, daemon=True)
    running.start()
    twilio = asyncio.run_coroutine_threadsafe(FakeTwilio().start(), loop).result(10)
    try:
        for sender_ids, ids in [({"default": " MFIBank "}, (1, 2)), ({"default": "Kampala Br"}, (3,))]:
            provider = twilio.provider()
            settings = Settings(
                home=tmp_path,
                database_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
                corebank_url=fineract.url,
                providers=json.dumps([provider]),
                gateway_provider="twilio",
                gateway_app_keys=json.dumps({"default": "k3y-default"}),
                gateway_sender_ids=json.dumps(sender_ids),
            )
            herald = Herald.build(settings, clock)
            with TestClient(create_app(herald)) as client:
                assert client.post("/fineract/gateway/sms", json=_messages(*ids), headers=HEADERS).status_code == 202

            async def send(herald: Herald = herald) -> dict[str, int]:
                try:
                    return await sender_for(herald).run()
                finally:
                    await herald.providers.close()

            assert asyncio.run(send())["accepted"] == len(ids)
            herald.close()
    finally:
        asyncio.run_coroutine_threadsafe(twilio.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        running.join(5)
    assert sorted(m["from"] for m in twilio.messages.values()) == ["Kampala Br", "MFIBank", "MFIBank"]


def test_a_gateway_sender_id_handsets_cannot_show_is_refused_at_startup(tmp_path: Path) -> None:
    with pytest.raises(PydanticValidationError) as refused:
        Settings(home=tmp_path, gateway_sender_ids=json.dumps({"default": "MicroFinance Bank"}))
    assert "gateway_sender_ids" in str(refused.value) and "at most 11" in str(refused.value)
