"""Provider configuration from a TOML file or JSON: several providers by name, checked, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald.errors import ConfigurationError
from herald.providers.config import InfobipSettings, TwilioSettings, load_providers

SID = "AC" + "ab" * 16
TOML = f"""
[[providers]]
kind = "twilio"
name = "twilio-ke"
account_sid = "{SID}"
auth_token = "tok-ke-secret"
from_number = "+254700000001"
fallback = "infobip"

[[providers]]
kind = "twilio"
name = "twilio-ug"
account_sid = "{SID}"
auth_token = "tok-ug-secret"
messaging_service_sid = "MG{"cd" * 16}"
rate_limit = 10

[[providers]]
kind = "infobip"
name = "infobip"
base_url = "https://xyz.api.infobip.com"
api_key = "ib-secret"
sender = "MFI"
"""


def test_two_accounts_of_one_kind_and_a_fallback_load_from_toml(tmp_path: Path) -> None:
    file = tmp_path / "providers.toml"
    file.write_text(TOML)
    configs = {c.name: c for c in load_providers(file, None)}
    assert set(configs) == {"twilio-ke", "twilio-ug", "infobip"}
    ke, ug = configs["twilio-ke"], configs["twilio-ug"]
    assert isinstance(ke, TwilioSettings) and isinstance(ug, TwilioSettings)
    assert ke.fallback == "infobip" and ug.rate_limit == 10
    assert ke.auth_token.get_secret_value() == "tok-ke-secret"
    assert isinstance(configs["infobip"], InfobipSettings)


def test_secrets_never_appear_in_a_repr_or_a_dump(tmp_path: Path) -> None:
    file = tmp_path / "providers.toml"
    file.write_text(TOML)
    text = repr(load_providers(file, None)) + str([c.model_dump() for c in load_providers(file, None)])
    for secret in ("tok-ke-secret", "tok-ug-secret", "ib-secret"):
        assert secret not in text


def test_the_environment_adds_providers_as_json() -> None:
    env = '[{"kind": "simulator", "name": "sim-b", "failure_ratio": 0}]'
    assert [c.name for c in load_providers(None, env)] == ["sim-b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[{"kind": "twilio", "name": "t", "account_sid": "AC1", "auth_token": "x", "from_number": "+1"}]',
            "account_sid",
        ),
        ('[{"kind": "twilio", "name": "t", "account_sid": "' + SID + '", "auth_token": "x"}]', "exactly one"),
        ('[{"kind": "carrier-pigeon", "name": "p"}]', "kind"),
        ('[{"kind": "simulator", "name": "a"}, {"kind": "simulator", "name": "a"}]', "unique"),
        ('[{"kind": "simulator", "name": "a", "fallback": "nowhere"}]', "falls back"),
        ("not json", "not valid JSON"),
    ],
)
def test_bad_provider_configuration_is_refused_with_the_field(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_providers(None, text)


def test_a_missing_or_broken_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_providers(tmp_path / "nope.toml", None)
    broken = tmp_path / "broken.toml"
    broken.write_text("[[providers]\nkind=")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_providers(broken, None)
