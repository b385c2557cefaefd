"""Building the configured providers: one adapter per configured name, the simulator always among them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from importlib import import_module
from typing import Any

from herald.providers.base import InboundSink, Provider, ReportSink
from herald.providers.config import ProviderSettings, SimulatorSettings
from herald.providers.simulator import Simulator, SimulatorConfig

ADAPTERS = {
    "twilio": "herald.providers.twilio",
    "infobip": "herald.providers.infobip",
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
