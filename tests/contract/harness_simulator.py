"""Contract harness for the built-in simulator: outcomes forced per message, faults through its queue."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from herald.clock import ManualClock
from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport
from herald.errors import ProviderError
from herald.providers.base import OutboundMessage, SendResult, WebhookRequest
from herald.providers.simulator import FAILURE_CODES, Simulator, SimulatorConfig
from tests.contract.harness import Capabilities, Fault


class _Steered(Simulator):
    """The simulator, with outcomes a test chooses instead of its seeded draws."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(SimulatorConfig(sent_after=1, delivered_after=2, failure_ratio=0), clock.now)
        self.outcomes: dict[str, tuple[MessageStatus, str | None]] = {}
        self.faults: list[Fault] = []

    async def send(self, messages: list[OutboundMessage]) -> list[SendResult]:  # type: ignore[override]
        if self.faults:
            self.faults.pop(0)
            self.config = replace(self.config, transient_ratio=1.0)
            try:
                return await super().send(messages)
            finally:
                self.config = replace(self.config, transient_ratio=0.0)
        return await super().send(messages)

    def report_for(self, external_id: str, now: datetime) -> DeliveryReport | None:
        report = super().report_for(external_id, now)
        wanted = self.outcomes.get(external_id)
        if report is None or wanted is None or report.status is MessageStatus.SENT:
            return report
        status, code = wanted
        if status is MessageStatus.FAILED:
            text = dict((c, t) for c, t, _ in FAILURE_CODES).get(code or "", "Unknown error")
            return DeliveryReport(external_id, status, report.at, code, text)
        return DeliveryReport(external_id, status, report.at)


class SimulatorHarness:
    capabilities = Capabilities(pull=True, push=False, faults=frozenset({Fault.THROTTLED}))

    def __init__(self) -> None:
        self.clock = ManualClock(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
        self.provider = _Steered(self.clock)

    def inject(self, fault: Fault, times: int = 1) -> None:
        self.provider.faults += [fault] * times

    async def settle(self, external_id: str, status: MessageStatus, error_code: str | None = None) -> None:
        self.provider.outcomes[external_id] = (status, error_code)
        self.clock.advance(timedelta(seconds=5))

    def push_request(self, external_id: str, status: MessageStatus, *, forged: bool = False) -> WebhookRequest:
        raise NotImplementedError("the simulator has no push path")

    def malformed_push(self) -> WebhookRequest:
        raise NotImplementedError

    def inbound_request(self, from_number: str, text: str) -> WebhookRequest:
        raise NotImplementedError

    def code_tables(self) -> dict[str, dict[str, object]]:
        return {"failure codes": {code: text for code, text, _ in FAILURE_CODES}}

    async def close(self) -> None:
        await self.provider.close()


async def make() -> SimulatorHarness:
    return SimulatorHarness()


__all__ = ["ProviderError", "SimulatorHarness", "make"]
