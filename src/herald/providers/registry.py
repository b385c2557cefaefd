"""Building the configured providers: one adapter per configured name, the simulator always among them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from importlib import import_module
from typing import Any

from herald.domain.segments import Alphabet
from herald.errors import ConfigurationError
from herald.providers.base import InboundSink, Provider, ReportSink
from herald.providers.config import InfobipSettings, ProviderSettings, SimulatorSettings, SmppSettings
from herald.providers.simulator import Simulator, SimulatorConfig

ADAPTERS = {
    "twilio": "herald.providers.twilio",
    "infobip": "herald.providers.infobip",
    "africastalking": "herald.providers.africastalking",
    "smpp": "herald.providers.smpp",
}
"""Adapter module per kind; each has `build(settings, *, now, public_url, report_sink, inbound_sink) -> Provider`."""


def build_simulator(settings: SimulatorSettings, now: Callable[[], datetime]) -> Simulator:
    config = SimulatorConfig(
        seed=settings.seed,
        sent_after=settings.sent_after,
        delivered_after=settings.delivered_after,
        failure_ratio=settings.failure_ratio,
        transient_ratio=settings.transient_ratio,
    )
    return Simulator(config, now, name=settings.name)


def build_provider(
    settings: ProviderSettings,
    *,
    now: Callable[[], datetime],
    public_url: str | None,
    report_sink: ReportSink,
    inbound_sink: InboundSink | None = None,
) -> Provider:
    if isinstance(settings, SimulatorSettings):
        return build_simulator(settings, now)
    module: Any = import_module(ADAPTERS[settings.kind])
    provider: Provider = module.build(
        settings, now=now, public_url=public_url, report_sink=report_sink, inbound_sink=inbound_sink
    )
    return provider


def account_key(settings: ProviderSettings) -> str:
    """Which provider account a configured provider speaks for: providers with one key share one account.

    Infobip hands each delivery report out once per account (base URL and API key), to whichever
    pull comes first, whatever sender the message had: two herald providers on one account must
    take each other's reports. The key holds a hash of the API key, never the key. Every other kind
    is its own account: its reports come back to the provider that sent (callback URL, bind).
    """
    if isinstance(settings, InfobipSettings):
        digest = hashlib.sha256(settings.api_key.get_secret_value().encode()).hexdigest()[:16]
        return f"infobip {settings.base_url.rstrip('/').lower()} {digest}"
    return f"{settings.kind} {settings.name}"


class Providers:
    """The configured providers of one process, by name, with their settings; the simulator always among them.

    `installation` and `installed_since` identify this herald database (store/installation.py): the
    send job and the lookups put them in every reference.
    """

    def __init__(
        self,
        settings: Mapping[str, ProviderSettings],
        built: Mapping[str, Provider],
        fallback: str | None,
        *,
        installation: str = "",
        installed_since: datetime | None = None,
    ):
        if fallback is not None and fallback not in built:
            raise ConfigurationError(f"HERALD_FALLBACK_PROVIDER {fallback!r} is not a configured provider.")
        self.settings = dict(settings)
        self._built = dict(built)
        self.fallback = fallback
        self.installation = installation
        self.installed_since = installed_since
        accounts: dict[str, list[str]] = {}
        for name in self._built:
            config = self.settings.get(name)
            accounts.setdefault(account_key(config) if config else name, []).append(name)
        self._sharing = {name: group for group in accounts.values() for name in group}

    def sharing(self, name: str) -> list[str]:
        """The configured providers on the same account as `name`, itself first: a report any of them
        receives may be on a message any of them sent."""
        return [name, *(n for n in self._sharing.get(name, [name]) if n != name)]

    @property
    def alphabets(self) -> dict[str, Alphabet]:
        """How each SMPP link reads data_coding 0 (its `default_alphabet`), for the providers where that is
        not GSM 03.38: a text is counted in segments as that link will send it."""
        return {
            name: Alphabet(config.default_alphabet)
            for name, config in self.settings.items()
            if isinstance(config, SmppSettings) and config.default_alphabet != Alphabet.GSM7.value
        }

    def __iter__(self) -> Iterator[str]:
        return iter(self._built)

    def __contains__(self, name: object) -> bool:
        return name in self._built

    def __getitem__(self, name: str) -> Provider:
        return self.named(name)

    def get(self, name: str) -> Provider | None:
        return self._built.get(name)

    def values(self) -> list[Provider]:
        return list(self._built.values())

    def items(self) -> list[tuple[str, Provider]]:
        return list(self._built.items())

    def named(self, name: str) -> Provider:
        """The provider called `name`; an unknown name is refused with the names that exist."""
        try:
            return self._built[name]
        except KeyError:
            raise ConfigurationError(
                f"Unknown provider {name!r}; configured providers: {', '.join(sorted(self._built))}."
            ) from None

    def chain(self, primary: str, campaign_fallback: str | None) -> list[str]:
        """The primary, then the fallbacks in order of precedence: campaign, provider, global (configured ones only)."""
        config = self.settings.get(primary)
        chain = [primary, campaign_fallback, config.fallback if config else None, self.fallback]
        return [p for p in dict.fromkeys(chain) if p is not None and p in self._built]

    async def close(self) -> None:
        """Close every provider's connections (they belong to the event loop that opened them)."""
        for provider in self._built.values():
            await provider.close()
