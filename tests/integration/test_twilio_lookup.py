"""The Twilio lost-answer lookup against the fake Twilio over HTTP, when Twilio has altered the bodies it lists.

A trial account's prefix, Smart Encoding and redaction change what Twilio stores; the lookup must
still find the attempt herald made (else it is sent twice) and never take another message for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from herald.fakes.twilio import FakeFault, FakeTwilio
from herald.providers.base import InDoubt, OutboundMessage
from herald.providers.config import TwilioSettings
from herald.providers.twilio import TwilioProvider

SENDER = "+12025550143"
SERVICE = "MG" + "3" * 32
NUMBER = "+254712000001"
DUE = "Hello Amina, your instalment of KES 1,500 is due on 3 Dec \u2013 please pay on time\u2026"
THANKS = "Hello Amina, we\u2019ve received KES 1,500 \u2013 thank you\u2026"


def _provider(fake: FakeTwilio, **overrides: Any) -> TwilioProvider:
    values: dict[str, Any] = {
        "name": "tw",
        "account_sid": fake.account_sid,
        "auth_token": SecretStr(fake.auth_token),
        "from_number": SENDER,
        "base_url": fake.url,
        "timeout": 0.5,
    }
    return TwilioProvider(TwilioSettings(**(values | overrides)), now=lambda: datetime.now(UTC))


def run(body: Callable[[FakeTwilio, TwilioProvider], Awaitable[None]], **options: Any) -> None:
    overrides = options.pop("provider", {})

    async def main() -> None:
        async with FakeTwilio(stall=1.0, **options) as fake:
            provider = _provider(fake, **overrides)
            try:
                await asyncio.wait_for(body(fake, provider), timeout=20)
            finally:
                await provider.close()

    asyncio.run(main())


async def _lose(fake: FakeTwilio, provider: TwilioProvider, message: OutboundMessage) -> None:
    """Send with the answer lost: Twilio keeps the message, herald hears nothing."""
    fake.inject(FakeFault.LOST_ANSWER)
    [result] = await provider.send([message])
    assert not result.accepted


def _doubt(message: OutboundMessage, since: datetime) -> InDoubt:
    return InDoubt(message.message_id, message.to, message.body, 1, since, sender=message.sender)


def _since() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=1)


def test_a_lost_message_twilio_prefixed_and_smart_encoded_is_found() -> None:
    async def body(fake: FakeTwilio, provider: TwilioProvider) -> None:
        since = _since()
        message = OutboundMessage(1, NUMBER, DUE)
        await _lose(fake, provider, message)
        [stored] = fake.messages.values()
        assert stored["body"].startswith("Sent from your Twilio trial account - ") and "\u2013" not in stored["body"]
        assert await provider.lookup([_doubt(message, since)]) == {1: stored["sid"]}

    run(body, trial_account=True, smart_encoding=True)


def test_smart_encoding_asked_for_with_a_messaging_service_is_found_by_the_service() -> None:
    async def body(fake: FakeTwilio, provider: TwilioProvider) -> None:
        since = _since()
        message = OutboundMessage(1, NUMBER, THANKS)
        await _lose(fake, provider, message)
        [stored] = fake.messages.values()
        assert stored["body"] == "Hello Amina, we've received KES 1,500 - thank you..."
        assert await provider.lookup([_doubt(message, since)]) == {1: stored["sid"]}

    run(body, smart_encoding=True, provider={"from_number": None, "messaging_service_sid": SERVICE})


def test_another_herald_message_to_the_same_number_is_not_taken_for_the_lost_one() -> None:
    """Two campaigns reach one client in the window; the second attempt never reached Twilio."""

    async def body(fake: FakeTwilio, provider: TwilioProvider) -> None:
        since = _since()
        [first] = await provider.send([OutboundMessage(1, NUMBER, DUE)])
        assert first.accepted
        fake.inject(FakeFault.TIMEOUT)  # Twilio never got the second one
        second = OutboundMessage(2, NUMBER, THANKS)
        [result] = await provider.send([second])
        assert not result.accepted and len(fake.messages) == 1
        assert await provider.lookup([_doubt(second, since)]) == {}

    run(body, trial_account=True, smart_encoding=True)


def test_two_lost_messages_to_one_number_each_get_their_own_copy() -> None:
    async def body(fake: FakeTwilio, provider: TwilioProvider) -> None:
        since = _since()
        due, thanks = OutboundMessage(1, NUMBER, DUE), OutboundMessage(2, NUMBER, THANKS)
        await _lose(fake, provider, due)
        await _lose(fake, provider, thanks)
        sid_due, sid_thanks = fake.messages
        found = await provider.lookup([_doubt(thanks, since), _doubt(due, since)])
        assert found == {1: sid_due, 2: sid_thanks}

    run(body, trial_account=True, smart_encoding=True)


def test_a_message_from_another_sender_or_before_the_attempt_is_not_taken() -> None:
    async def body(fake: FakeTwilio, provider: TwilioProvider) -> None:
        other = _provider(fake, from_number="+12025550199")
        await other.send([OutboundMessage(7, NUMBER, DUE)])  # the same text from another sender
        await other.close()
        assert await provider.lookup([_doubt(OutboundMessage(1, NUMBER, DUE), _since())]) == {}
        await _lose(fake, provider, OutboundMessage(1, NUMBER, DUE))
        later = datetime.now(UTC) + timedelta(minutes=5)  # this attempt began after Twilio got the message
        assert await provider.lookup([_doubt(OutboundMessage(1, NUMBER, DUE), later)]) == {}

    run(body, trial_account=True)


def test_a_redacted_body_is_taken_only_when_nothing_else_could_be_the_message() -> None:
    async def body(fake: FakeTwilio, provider: TwilioProvider) -> None:
        since = _since()
        due = OutboundMessage(1, NUMBER, DUE)
        await _lose(fake, provider, due)
        [alone] = fake.messages
        assert fake.messages[alone]["body"] == ""
        assert await provider.lookup([_doubt(due, since)]) == {1: alone}
        await provider.send([OutboundMessage(2, NUMBER, THANKS)])  # now two in the window: no telling them apart
        assert await provider.lookup([_doubt(due, since)]) == {}

    run(body, redact_bodies=True)
