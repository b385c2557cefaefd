"""Contract harness for Twilio: the real adapter over HTTP against the fake Twilio; callbacks signed as Twilio does."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from pydantic import SecretStr

from herald.domain.message import MessageStatus
from herald.fakes.twilio import FakeFault, FakeTwilio
from herald.providers.base import WebhookRequest
from herald.providers.config import TwilioSettings
from herald.providers.registry import build_provider
from herald.providers.twilio import TwilioProvider
from herald.providers.twilio_codes import ERRORS, STATUSES, http_outcome
from tests.contract.harness import Capabilities, Fault

PUBLIC_URL = "https://herald.example.org"
FAULTS = {
    Fault.SERVER_ERROR: FakeFault.SERVER_ERROR,
    Fault.THROTTLED: FakeFault.THROTTLED,
    Fault.TIMEOUT: FakeFault.TIMEOUT,
    Fault.DISCONNECT: FakeFault.DISCONNECT,
    Fault.MALFORMED: FakeFault.MALFORMED,
    Fault.INVALID_NUMBER: FakeFault.INVALID_NUMBER,
    Fault.UNSUBSCRIBED: FakeFault.UNSUBSCRIBED,
    Fault.BAD_CREDENTIALS: FakeFault.BAD_CREDENTIALS,
}
TWILIO_STATUS = {MessageStatus.SENT: "sent", MessageStatus.DELIVERED: "delivered", MessageStatus.FAILED: "undelivered"}
_FORM = {"content-type": "application/x-www-form-urlencoded"}


async def _no_sink(name: str, reports: object) -> None:
    return None


class TwilioHarness:
    capabilities = Capabilities(pull=True, push=True, faults=frozenset(Fault))

    def __init__(self, fake: FakeTwilio, provider: TwilioProvider) -> None:
        self.fake = fake
        self.provider = provider
        self.callback_url = f"{PUBLIC_URL}/webhooks/{provider.name}"

    def inject(self, fault: Fault, times: int = 1) -> None:
        self.fake.inject(FAULTS[fault], times)

    async def settle(self, external_id: str, status: MessageStatus, error_code: str | None = None) -> None:
        await self.fake.settle(external_id, TWILIO_STATUS[status], error_code)

    def _signed(self, params: list[tuple[str, str]], *, forged: bool = False) -> WebhookRequest:
        sign = "Zm9yZ2VkLXNpZ25hdHVyZS0xMjM0NTY=" if forged else self.fake.sign(self.callback_url, params)
        headers = _FORM | {"x-twilio-signature": sign}
        return WebhookRequest(self.callback_url, "POST", headers, urlencode(params).encode())

    def push_request(self, external_id: str, status: MessageStatus, *, forged: bool = False) -> WebhookRequest:
        wanted = TWILIO_STATUS[status]  # the callback says `status` even if the fake was not settled to it
        params = [
            (k, wanted if k in ("MessageStatus", "SmsStatus") else v) for k, v in self.fake.callback_params(external_id)
        ]
        return self._signed(params, forged=forged)

    def malformed_push(self) -> WebhookRequest:
        return self._signed([("AccountSid", self.fake.account_sid), ("ApiVersion", "2010-04-01")])

    def inbound_request(self, from_number: str, text: str) -> WebhookRequest:
        sid = "SM" + "ab" * 16
        params = [
            ("MessageSid", sid),
            ("SmsMessageSid", sid),
            ("SmsSid", sid),
            ("SmsStatus", "received"),
            ("AccountSid", self.fake.account_sid),
            ("From", from_number),
            ("To", "+12025550143"),
            ("Body", text),
            ("NumSegments", "1"),
            ("NumMedia", "0"),
            ("ApiVersion", "2010-04-01"),
        ]
        return self._signed(params)

    def code_tables(self) -> dict[str, dict[str, object]]:
        return {
            "statuses": dict(STATUSES),
            "errors": {code: rule.outcome for code, rule in ERRORS.items()},
            "whole-request HTTP": {str(status): http_outcome(status) for status in HTTP_STATUSES},
        }

    async def close(self) -> None:
        await self.provider.close()
        await self.fake.stop()


HTTP_STATUSES = (400, 401, 403, 404, 408, 429, 500, 502, 503, 504)
"""Whole-request answers whose outcome the contract checks."""


async def make() -> TwilioHarness:
    # Callbacks would go to PUBLIC_URL, which does not exist; push_request() builds them instead.
    fake = await FakeTwilio(push_callbacks=False, stall=2.0).start()
    settings = TwilioSettings(
        name="twilio-test",
        account_sid=fake.account_sid,
        auth_token=SecretStr(fake.auth_token),
        from_number="+12025550143",
        base_url=fake.url,
        timeout=1.2,  # under the fake's 2 s stall, with room for a loaded test machine
        max_in_flight=8,
    )
    provider = build_provider(settings, now=lambda: datetime.now(UTC), public_url=PUBLIC_URL, report_sink=_no_sink)
    assert isinstance(provider, TwilioProvider)
    return TwilioHarness(fake, provider)
