"""Contract harness for Africa's Talking: the adapter built from settings, talking to the fake AT over loopback."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr

from herald.clock import ManualClock
from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport
from herald.fakes.africastalking import FakeAfricasTalking, Injection
from herald.providers import africastalking_codes
from herald.providers.base import Provider, WebhookRequest
from herald.providers.config import AfricasTalkingSettings
from herald.providers.registry import build_provider
from tests.contract.harness import Capabilities, Fault

SECRET = "contract-secret-0123456789"
USERNAME, API_KEY = "mfibank", "contract-key"
INJECTIONS = {
    Fault.SERVER_ERROR: Injection.SERVER_ERROR,
    Fault.THROTTLED: Injection.THROTTLED,
    Fault.TIMEOUT: Injection.TIMEOUT,
    Fault.DISCONNECT: Injection.DISCONNECT,
    Fault.MALFORMED: Injection.MALFORMED,
    Fault.INVALID_NUMBER: Injection.INVALID_NUMBER,
    Fault.UNSUBSCRIBED: Injection.BLACKLISTED,
    Fault.BAD_CREDENTIALS: Injection.BAD_CREDENTIALS,
}

HTTP_STATUSES = (400, 401, 403, 404, 408, 429, 500, 502, 503, 504)
"""Whole-request answers whose outcome the contract checks."""


def fake_status(status: MessageStatus, error_code: str | None) -> tuple[str, str]:
    """The fake's (report status, failureReason) for a status the contract asks for."""
    if status is MessageStatus.DELIVERED:
        return "Success", ""
    if status is MessageStatus.SENT:
        return "Submitted", ""
    # Codes of other providers (Twilio's 30003, unreachable handset) mean "could not deliver" here.
    reason = error_code if error_code in africastalking_codes.FAILURE_REASONS else "DeliveryFailure"
    return "Failed", reason


async def _no_sink(provider: str, reports: Sequence[DeliveryReport]) -> None:
    raise AssertionError("Africa's Talking reports never arrive on the adapter's own connection")


class AfricasTalkingHarness:
    capabilities = Capabilities(pull=False, push=True, faults=frozenset(Fault))

    def __init__(self, fake: FakeAfricasTalking, provider: Provider) -> None:
        self.fake = fake
        self.provider = provider

    def inject(self, fault: Fault, times: int = 1) -> None:
        self.fake.inject(INJECTIONS[fault], times)

    async def settle(self, external_id: str, status: MessageStatus, error_code: str | None = None) -> None:
        self.fake.settle(external_id, *fake_status(status, error_code))

    def push_request(self, external_id: str, status: MessageStatus, *, forged: bool = False) -> WebhookRequest:
        message = self.fake.messages[external_id]
        message.status, message.failure_reason = fake_status(status, None)
        return self.call(self.fake.report(message), "forged-secret-000000000" if forged else SECRET)

    def malformed_push(self) -> WebhookRequest:
        return WebhookRequest(
            url=f"http://herald.test/webhooks/africastalking?secret={SECRET}",
            method="POST",
            headers={"content-type": "text/html"},
            body=b"<html>not a report</html>",
            query={"secret": SECRET},
        )

    def inbound_request(self, from_number: str, text: str) -> WebhookRequest:
        form = {"from": from_number, "to": "20880", "text": text, "date": "2026-11-25 08:00:00", "id": "in-1"}
        return self.call(form | {"linkId": "link-1"}, SECRET)

    def optout_request(self, phone_number: str) -> WebhookRequest:
        return self.call({"senderId": "MFIBank", "phoneNumber": phone_number}, SECRET)

    def call(self, form: dict[str, str], secret: str | None) -> WebhookRequest:
        query = {"secret": secret} if secret is not None else {}
        return WebhookRequest(
            url=f"http://herald.test/webhooks/africastalking?{urlencode(query)}",
            method="POST",
            headers={"content-type": "application/x-www-form-urlencoded"},
            body=urlencode(form).encode(),
            query=query,
        )

    def code_tables(self) -> dict[str, dict[str, object]]:
        codes = africastalking_codes
        return {
            "recipient codes": {str(k): (v.name, v.outcome) for k, v in codes.RECIPIENT_CODES.items()},
            "report statuses": dict(codes.REPORT_STATUSES),
            "failure reasons": {k: (opted, passes) for k, (_, opted, passes) in codes.FAILURE_REASONS.items()},
            "whole-request HTTP": {str(status): codes.http_outcome(status) for status in HTTP_STATUSES},
        }

    async def close(self) -> None:
        await self.provider.close()
        await self.fake.stop()


async def make(public_url: str | None = None, batch_size: int = 500, **fake_options: Any) -> AfricasTalkingHarness:
    fake = FakeAfricasTalking(USERNAME, API_KEY, **fake_options)
    url = await fake.start()
    settings = AfricasTalkingSettings(
        name="africastalking",
        username=USERNAME,
        api_key=SecretStr(API_KEY),
        sender="MFIBank",
        base_url=url,
        batch_size=batch_size,
        webhook_secret=SecretStr(SECRET),
        timeout=1.2,  # under the fake's 2 s hang, with room for a loaded test machine
    )
    clock = ManualClock(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    provider = build_provider(settings, now=clock.now, public_url=public_url, report_sink=_no_sink)
    return AfricasTalkingHarness(fake, provider)
