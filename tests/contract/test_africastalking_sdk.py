"""herald's Africa's Talking adapter sends what the official `africastalking` SDK sends, to the same fake.

The SDK (a dev dependency, never imported by herald) is driven against the fake AT on 127.0.0.1 with
its base URL pointed there, then herald's adapter sends the same message to the same numbers; the
fake records both requests: the paths, the form fields and the headers that carry meaning must be
equal. The fake's answers must also read as the SDK reads AT's.
"""

from __future__ import annotations

import asyncio
from typing import Any

import africastalking
import pytest

from herald.providers.base import OutboundMessage
from tests.contract import harness_africastalking
from tests.contract.harness_africastalking import API_KEY, USERNAME

pytestmark = pytest.mark.contract

NUMBERS = ["+254711000001", "+254711000002", "+256772000003"]
TEXT = "Dear client, your instalment of KES 1,500 is due on 5 Dec 2026."
MEANINGFUL_HEADERS = ("apikey", "accept", "content-type")


def _headers(raw: dict[str, str]) -> dict[str, str]:
    lowered = {k.lower(): v for k, v in raw.items()}
    return {k: lowered.get(k, "") for k in MEANINGFUL_HEADERS}


def _sdk(service: Any, url: str) -> Any:
    """The SDK's service with its base URL pointed at the fake (it hard-codes AT's hosts)."""
    service._baseUrl = url + "/version1"
    return service


def test_a_bulk_send_is_the_same_request_from_the_sdk_and_from_herald() -> None:
    async def main() -> None:
        h = await harness_africastalking.make()
        try:
            sms = _sdk(africastalking.SMSService(USERNAME, API_KEY), h.fake.url)
            answer = await asyncio.to_thread(sms.send, TEXT, NUMBERS, "MFIBank")
            assert [r["number"] for r in answer["SMSMessageData"]["Recipients"]] == NUMBERS  # the SDK read our JSON
            sdk_call, sdk_form = h.fake.calls[-1], h.fake.forms[-1]
            results = await h.provider.send(
                [OutboundMessage(i, n, TEXT, sender="MFIBank") for i, n in enumerate(NUMBERS, start=1)]
            )
            assert all(r.accepted for r in results)
            herald_call, herald_form = h.fake.calls[-1], h.fake.forms[-1]
        finally:
            await h.close()
        assert (herald_call[0], herald_call[1], herald_call[2]) == (sdk_call[0], sdk_call[1], sdk_call[2])
        assert herald_form == sdk_form
        assert _headers(herald_call[3]) == _headers(sdk_call[3])
        assert _headers(sdk_call[3])["content-type"].startswith("application/x-www-form-urlencoded")

    asyncio.run(main())


def test_without_a_sender_id_neither_sends_from() -> None:
    async def main() -> None:
        h = await harness_africastalking.make()
        try:
            sms = _sdk(africastalking.SMSService(USERNAME, API_KEY), h.fake.url)
            await asyncio.to_thread(sms.send, TEXT, NUMBERS[:1])
            sdk_form = h.fake.forms[-1]
            provider: Any = h.provider
            provider.settings = provider.settings.model_copy(update={"sender": None})
            [result] = await h.provider.send([OutboundMessage(1, NUMBERS[0], TEXT)])
            assert result.accepted
            herald_form = h.fake.forms[-1]
        finally:
            await h.close()
        assert "from" not in sdk_form and herald_form == sdk_form

    asyncio.run(main())


def test_the_credentials_check_is_the_sdks_user_data_request() -> None:
    async def main() -> None:
        h = await harness_africastalking.make()
        try:
            app = _sdk(
                africastalking.ApplicationService(USERNAME, API_KEY),
                h.fake.url,
            )
            data = await asyncio.to_thread(app.fetch_application_data)
            assert data["UserData"]["balance"].startswith("KES ")
            sdk_call = h.fake.calls[-1]
            check = await h.provider.check()
            herald_call = h.fake.calls[-1]
        finally:
            await h.close()
        assert check.ok and "KES" in check.detail
        assert (herald_call[0], herald_call[1], herald_call[2]) == (sdk_call[0], sdk_call[1], sdk_call[2])
        assert _headers(herald_call[3])["apikey"] == _headers(sdk_call[3])["apikey"]
        assert _headers(herald_call[3])["accept"] == _headers(sdk_call[3])["accept"]

    asyncio.run(main())


def test_the_sdk_and_herald_choose_the_same_live_and_sandbox_hosts() -> None:
    from pydantic import SecretStr

    from herald.providers.config import AfricasTalkingSettings

    for username in ("sandbox", "mfibank"):
        sdk = africastalking.SMSService(username, "k")
        ours = AfricasTalkingSettings(name="at", username=username, api_key=SecretStr("k"))
        assert sdk._baseUrl == ours.api_url + "/version1"
