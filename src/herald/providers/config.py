"""Provider configuration: several named providers (two Twilio accounts are fine), from a file or the environment.

A TOML file (HERALD_PROVIDERS_FILE) holds `[[providers]]` tables, or HERALD_PROVIDERS holds the
same list as JSON. Secrets are SecretStr: they never appear in a repr, a log or an API answer.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError, model_validator

from herald.errors import ConfigurationError


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$", description="Unique name; used in URLs and campaigns.")
    rate_limit: float | None = Field(None, gt=0, description="Messages per second at most.")
    max_in_flight: int = Field(64, ge=1, description="Requests in flight at most.")
    fallback: str | None = Field(None, description="Provider that takes over while this one is failing.")
    timeout: float = Field(10.0, gt=0, description="Seconds before a request counts as failed (and retryable).")


class SimulatorSettings(_Common):
    kind: Literal["simulator"] = "simulator"
    seed: int = 7
    sent_after: float = Field(1.0, ge=0)
    delivered_after: float = Field(3.0, ge=0)
    failure_ratio: float = Field(0.06, ge=0, le=1)
    transient_ratio: float = Field(0.0, ge=0, le=1)


class TwilioSettings(_Common):
    kind: Literal["twilio"] = "twilio"
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr
    from_number: str | None = Field(None, description="Sender number (E.164) or alphanumeric sender id.")
    messaging_service_sid: str | None = Field(None, pattern=r"^MG[0-9a-fA-F]{32}$")
    base_url: str = "https://api.twilio.com"
    status_callback: bool = Field(True, description="Ask Twilio to push status callbacks to herald.")

    @model_validator(mode="after")
    def _one_sender(self) -> TwilioSettings:
        if (self.from_number is None) == (self.messaging_service_sid is None):
            raise ValueError("set exactly one of from_number and messaging_service_sid")
        return self


class InfobipSettings(_Common):
    kind: Literal["infobip"] = "infobip"
    base_url: str = Field(description="Your account's base URL, e.g. https://xyz123.api.infobip.com")
    api_key: SecretStr
    sender: str = Field(description="The 'from' of every message (number or alphanumeric sender id).")
    api: Literal["v3", "v2"] = Field("v3", description="v3 = /sms/3/messages, v2 = legacy /sms/2/text/advanced.")
    batch_size: int = Field(500, ge=1, le=1000)
    webhook_secret: SecretStr | None = Field(None, description="Shared secret Infobip's pushes must carry.")
    notify: bool = Field(True, description="Ask Infobip to push delivery reports to herald.")
    # Infobip hands each report out once; one lost on the way (a pull that timed out) is found in its
    # message logs, kept 48 hours: the bound leaves room for several looks within them.
    report_lookup_after: float = Field(
        3600.0,
        ge=60,
        le=86400,
        description="Seconds a message waits for its report before herald looks it up in Infobip's logs (again).",
    )


AFRICASTALKING_LIVE = "https://api.africastalking.com"
AFRICASTALKING_SANDBOX = "https://api.sandbox.africastalking.com"


class AfricasTalkingSettings(_Common):
    kind: Literal["africastalking"] = "africastalking"
    username: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
        description="Your application's username; `sandbox` for the sandbox (then base_url defaults to it).",
    )
    api_key: SecretStr
    sender: str | None = Field(
        None,
        pattern=r"^(?:[0-9]{3,8}|[A-Za-z0-9 ]{1,11})$",
        description="Short code or alphanumeric sender id registered with Africa's Talking; None: AT's default.",
    )
    base_url: str | None = Field(
        None, pattern=r"^https?://[^\s/]+(?::[0-9]+)?/?$", description="Default: live, or the sandbox for `sandbox`."
    )
    batch_size: int = Field(500, ge=1, le=1000, description="Recipients of one identical text per request at most.")
    webhook_secret: SecretStr | None = Field(
        None, min_length=16, description="Secret herald expects in the callback URLs (AT signs nothing)."
    )

    @property
    def api_url(self) -> str:
        """The base URL requests go to: the configured one, else live or (username `sandbox`) the sandbox."""
        if self.base_url:
            return self.base_url.rstrip("/")
        return AFRICASTALKING_SANDBOX if self.username == "sandbox" else AFRICASTALKING_LIVE

    @model_validator(mode="after")
    def _sandbox_user(self) -> AfricasTalkingSettings:
        if self.base_url and self.base_url.rstrip("/") == AFRICASTALKING_SANDBOX and self.username != "sandbox":
            raise ValueError("the sandbox (base_url) takes only the username `sandbox`")
        return self


class SmppSettings(_Common):
    kind: Literal["smpp"] = "smpp"
    host: str
    port: int = Field(2775, ge=1, le=65535)
    system_id: str = Field(max_length=15)
    password: SecretStr
    system_type: str = Field("", max_length=12)
    source_addr: str = Field(description="Sender address (short code, number or alphanumeric).")
    source_addr_ton: int = Field(5, ge=0, le=6)
    source_addr_npi: int = Field(0, ge=0, le=18)
    dest_addr_ton: int = Field(1, ge=0, le=6)
    dest_addr_npi: int = Field(1, ge=0, le=18)
    enquire_link_interval: float = Field(30.0, gt=0)
    reconnect_max_delay: float = Field(60.0, gt=0)
    default_alphabet: Literal["gsm7", "latin1", "ascii"] = Field(
        "gsm7",
        description="How the SMSC reads data_coding 0: GSM 03.38 unpacked (most), Latin-1 or IA5/ASCII.",
    )
    binds: int = Field(
        1,
        ge=1,
        le=32,
        description="Transceiver binds (sessions) kept open; submits spread over them, each its own window.",
    )
    receipt_id: Literal["same", "hex_to_decimal", "decimal_to_hex", "auto"] = Field(
        "same",
        description="How receipts name a message: as submit_sm_resp did, in decimal for a hex submit id, in hex "
        "for a decimal one, or auto (tried in the other form when it matches no recent submit).",
    )


ProviderSettings = Annotated[
    SimulatorSettings | TwilioSettings | InfobipSettings | AfricasTalkingSettings | SmppSettings,
    Field(discriminator="kind"),
]
_LIST = TypeAdapter(list[ProviderSettings])


def parse_providers(raw: object, source: str) -> list[ProviderSettings]:
    """Validate a list of provider tables; one readable error naming the provider and the field."""
    try:
        configs = _LIST.validate_python(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
        )
        raise ConfigurationError(f"Invalid provider configuration in {source}: {problems}.") from None
    names = [c.name for c in configs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigurationError(f"Provider names must be unique in {source}; repeated: {', '.join(duplicates)}.")
    known = set(names) | {"simulator"}
    for c in configs:
        if c.fallback is not None and (c.fallback not in known or c.fallback == c.name):
            raise ConfigurationError(
                f"Provider {c.name!r} falls back to {c.fallback!r}, which is not another configured provider."
            )
    return configs


def load_providers(file: Path | None, env_json: str | None) -> list[ProviderSettings]:
    """Providers from the TOML file and/or the JSON environment variable (both may be used)."""
    configs: list[ProviderSettings] = []
    if file is not None:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigurationError(f"HERALD_PROVIDERS_FILE {file} does not exist.") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"HERALD_PROVIDERS_FILE {file} is not valid TOML: {exc}.") from None
        configs += parse_providers(data.get("providers", []), str(file))
    if env_json:
        try:
            data = json.loads(env_json)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"HERALD_PROVIDERS is not valid JSON: {exc}.") from None
        configs += parse_providers(data, "HERALD_PROVIDERS")
    return parse_providers([c.model_dump() | _secrets(c) for c in configs], "the provider configuration")


def _secrets(config: BaseModel) -> dict[str, object]:
    """model_dump() masks SecretStr; revalidation needs the real values back."""
    return {k: v.get_secret_value() for k, v in config if isinstance(v, SecretStr)}
