"""Contract harness for Infobip: the adapter built from settings, talking to the fake Infobip over loopback."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import SecretStr

from herald.clock import ManualClock
from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport
from herald.fakes.infobip import FakeInfobip, Injection
from herald.fakes.infobip_wire import ERRORS, inbound, report, timestamp
from herald.providers import infobip_codes
from herald.providers.base import Provider, WebhookRequest
from herald.providers.config import InfobipSettings
from herald.providers.registry import build_provider
from tests.contract.harness import Capabilities, Fault

SECRET = "contract-secret"
INJECTIONS = {
    Fault.SERVER_ERROR: Injection.SERVER_ERROR,
    Fault.THROTTLED: Injection.THROTTLED,
    Fault.TIMEOUT: Injection.TIMEOUT,
    Fault.DISCONNECT: Injection.DISCONNECT,
    Fault.MALFORMED: Injection.MALFORMED,
    Fault.INVALID_NUMBER: Injection.INVALID_DESTINATION,
    Fault.UNSUBSCRIBED: Injection.BLOCKED_RECIPIENT,
    Fault.BAD_CREDENTIALS: Injection.BAD_CREDENTIALS,
}


HTTP_STATUSES = (400, 401, 403, 404, 408, 425, 429, 500, 502, 503, 504)
"""Whole-request answers whose outcome the contract checks."""


def fake_status(status: MessageStatus, error_code: str | None) -> tuple[str, int]:
    """The fake's (status name, error id) for a status the contract asks for."""
    if status is MessageStatus.DELIVERED:
        return "DELIVERED_TO_HANDSET", 0
    if status is MessageStatus.SENT:
        return "PENDING_ENROUTE", 0
    # Codes of other providers (Twilio's 30003) mean "unreachable handset" here.
    error = int(error_code) if error_code and error_code.isdigit() and int(error_code) in ERRORS else 1
    return "UNDELIVERABLE_NOT_DELIVERED", error


async def _no_sink(provider: str, reports: Sequence[DeliveryReport]) -> None:
    raise AssertionError("Infobip reports never arrive on the adapter's own connection")


class InfobipHarness:
    capabilities = Capabilities(pull=True, push=True, faults=frozenset(Fault))

    def __init__(self, fake: FakeInfobip, provider: Provider) -> None:
        self.fake = fake
        self.provider = provider

    def inject(self, fault: Fault, times: int = 1) -> None:
        self.fake.inject(INJECTIONS[fault], times)

    async def settle(self, external_id: str, status: MessageStatus, error_code: str | None = None) -> None:
        self.fake.settle(external_id, *fake_status(status, error_code))

    def push_request(self, external_id: str, status: MessageStatus, *, forged: bool = False) -> WebhookRequest:
        original = self.fake.messages[external_id]
        name, error = fake_status(status, None)
        pushed = replace(original, status=name, error=error)
        return self._call({"results": [report(pushed)]}, "forged" if forged else SECRET)

    def malformed_push(self) -> WebhookRequest:
        return WebhookRequest(
            url=f"http://herald.test/webhooks/infobip?secret={SECRET}",
            method="POST",
            headers={"content-type": "text/html"},
            body=b"<html>not a report</html>",
            query={"secret": SECRET},
        )

    def inbound_request(self, from_number: str, text: str) -> WebhookRequest:
        return self._call({"results": [inbound(from_number, "MFIBank", text, "in-1")], "messageCount": 1}, SECRET)

    def _call(self, payload: object, secret: str) -> WebhookRequest:
        return WebhookRequest(
            url=f"http://herald.test/webhooks/infobip?secret={secret}",
            method="POST",
            headers={"content-type": "application/json", "user-agent": "Infobip"},
            body=json.dumps(payload).encode(),
            query={"secret": secret},
        )

    def code_tables(self) -> dict[str, dict[str, object]]:
        tables: dict[str, dict[str, object]] = {
            "status groups": {str(k): (name, outcome) for k, (name, outcome) in infobip_codes.STATUS_GROUPS.items()},
            "status ids": {str(k): (name, outcome) for k, (name, outcome, _) in infobip_codes.STATUS_IDS.items()},
            "send-time rejections": {
                str(k): infobip_codes.REJECTION_OUTCOMES[cls]
                for k, (_, outcome, cls) in infobip_codes.STATUS_IDS.items()
                if outcome is MessageStatus.FAILED
            },
            "error groups": {str(k): name for k, (name, _) in infobip_codes.ERROR_GROUPS.items()},
            "error ids": {str(k): (name, cls) for k, (name, cls) in infobip_codes.ERROR_IDS.items()},
            "whole-request HTTP": {str(status): infobip_codes.http_outcome(status) for status in HTTP_STATUSES},
        }
        return tables

    async def close(self) -> None:
        await self.provider.close()
        await self.fake.stop()


async def make(
    api: Literal["v3", "v2"] = "v3", public_url: str | None = None, batch_size: int = 500, **fake_options: Any
) -> InfobipHarness:
    fake = FakeInfobip("contract-key", **fake_options)
    url = await fake.start()
    settings = InfobipSettings(
        name="infobip",
        base_url=url,
        api_key=SecretStr("contract-key"),
        sender="MFIBank",
        api=api,
        batch_size=batch_size,
        webhook_secret=SecretStr(SECRET),
        timeout=1.2,  # under the fake's 2 s hang, with room for a loaded test machine
    )
    clock = ManualClock(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    provider = build_provider(settings, now=clock.now, public_url=public_url, report_sink=_no_sink)
    return InfobipHarness(fake, provider)


__all__ = ["InfobipHarness", "fake_status", "make", "timestamp"]
