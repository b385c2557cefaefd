"""Africa's Talking settings and codes: errors naming the setting, the live and sandbox URLs, exact costs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from herald.errors import ConfigurationError, ProviderOutcome
from herald.providers.africastalking_codes import cost, http_outcome, recipient_outcome
from herald.providers.config import (
    AFRICASTALKING_LIVE,
    AFRICASTALKING_SANDBOX,
    AfricasTalkingSettings,
    parse_providers,
)

GOOD = {"kind": "africastalking", "name": "at", "username": "mfibank", "api_key": "k" * 20}


def test_live_by_default_and_the_sandbox_for_username_sandbox() -> None:
    [live] = parse_providers([GOOD], "test")
    [sandbox] = parse_providers([GOOD | {"username": "sandbox"}], "test")
    assert isinstance(live, AfricasTalkingSettings) and isinstance(sandbox, AfricasTalkingSettings)
    assert live.api_url == AFRICASTALKING_LIVE
    assert sandbox.api_url == AFRICASTALKING_SANDBOX


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"api_key": None}, "api_key"),
        ({"username": ""}, "username"),
        ({"username": "has spaces"}, "username"),
        ({"sender": "far-too-long-sender-id"}, "sender"),
        ({"webhook_secret": "short"}, "webhook_secret"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"base_url": AFRICASTALKING_SANDBOX}, "sandbox"),  # the sandbox takes only the username `sandbox`
        ({"batch_size": 0}, "batch_size"),
        ({"apikey": "k"}, "apikey"),  # a misspelt setting is named, not ignored
    ],
)
def test_bad_settings_are_one_sentence_naming_the_setting(change: dict[str, object], named: str) -> None:
    config = {k: v for k, v in (GOOD | change).items() if v is not None}
    with pytest.raises(ConfigurationError) as refused:
        parse_providers([config], "HERALD_PROVIDERS")
    message = str(refused.value)
    assert named in message and "HERALD_PROVIDERS" in message
    assert "k" * 20 not in message and "Traceback" not in message


def test_the_api_key_never_shows_in_a_repr() -> None:
    [config] = parse_providers([GOOD], "test")
    assert "k" * 20 not in repr(config) and "k" * 20 not in str(config.model_dump())


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("KES 0.8000", (Decimal("0.8000"), "KES")),
        ("UGX 25.0000", (Decimal("25.0000"), "UGX")),
        ("usd 0.0100", (Decimal("0.0100"), "USD")),
        ("0", None),
        ("", None),
        (None, None),
        ("KES", None),
        ("KES abc", None),
        ("KES NaN", None),
        ("KES 1e300", None),
    ],
)
def test_costs_are_read_exactly_or_not_at_all(text: object, read: object) -> None:
    assert cost(text) == read


def test_accepted_codes_have_no_outcome_and_unknown_codes_are_refusals() -> None:
    assert [recipient_outcome(c) for c in (100, 101, 102)] == [None, None, None]
    assert recipient_outcome(406) is ProviderOutcome.OPTED_OUT
    assert recipient_outcome(999) is ProviderOutcome.PERMANENT
    assert http_outcome(504) is ProviderOutcome.OUTCOME_UNKNOWN and http_outcome(401) is ProviderOutcome.MISCONFIGURED
