"""The built-in provider simulator: accepts messages and reports them sent, then delivered or failed.

It keeps no state. Everything it will ever say about a message follows from the simulator's seed,
herald's message id and the submission time, which it writes into the external id it hands back.
So the delivery-report job can pull reports from another process, after a restart, and the same
seed always gives the same outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from herald.domain.message import MessageStatus
from herald.domain.reports import DeliveryReport
from herald.errors import ProviderError, ProviderOutcome, WebhookError
from herald.providers.base import OutboundMessage, ProviderCheck, SendResult, WebhookBatch, WebhookRequest
from herald.providers.twilio_codes import is_transient_failure

# Failure reasons with the error codes an operator would see (Twilio's 3000x family, which
# Mifos users meet most), weighted roughly as real traffic fails.
FAILURE_CODES: tuple[tuple[str, str, int], ...] = (
    ("30003", "Unreachable destination handset", 5),
    ("30005", "Unknown destination handset", 2),
    ("30006", "Landline or unreachable carrier", 1),
    ("30008", "Unknown error", 1),
    ("30007", "Message filtered by the carrier", 1),
)
_FAILURE_WEIGHT = sum(w for _, _, w in FAILURE_CODES)
_MASK = (1 << 64) - 1


def _mix(*values: int) -> float:
    """A deterministic uniform draw in [0, 1) from integers (splitmix64 over their combination)."""
    x = 0x9E3779B97F4A7C15
    for v in values:
        x = (x ^ (v & _MASK)) & _MASK
        x = (x + 0x9E3779B97F4A7C15) & _MASK
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        x = z ^ (z >> 31)
    return x / float(1 << 64)


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = 7
    sent_after: float = 1.0
    delivered_after: float = 3.0
    failure_ratio: float = 0.06
    transient_ratio: float = 0.0


class Simulator:
    """A provider that needs no network; the embedded default."""

    kind = "simulator"
    max_batch = 1000
    pushes_reports = False
    asks_one_by_one = False  # answered in this process: asking costs nothing

    def __init__(self, config: SimulatorConfig, now: Callable[[], datetime], name: str = "simulator") -> None:
        self.name = name
        self.config = config
        self._now = now

    async def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        submitted = int(self._now().timestamp() * 1000)
        results = []
        for m in messages:
            if _mix(self.config.seed, m.message_id, m.attempt, 1) < self.config.transient_ratio:
                error = ProviderError(
                    "The simulator's queue is full; herald will retry.",
                    provider=self.name,
                    code="QUEUE_FULL",
                    outcome=ProviderOutcome.TRANSIENT,
                    text="Queue full",
                )
                results.append(SendResult(m.message_id, error=error))
                continue
            results.append(SendResult(m.message_id, external_id=f"SIM-{m.message_id}-{m.attempt}-{submitted}"))
        return results

    async def fetch_reports(self, external_ids: Sequence[str]) -> list[DeliveryReport]:
        now = self._now()
        reports = []
        for ext in external_ids:
            report = self.report_for(ext, now)
            if report is not None:
                reports.append(report)
        return reports

    def report_for(self, external_id: str, now: datetime) -> DeliveryReport | None:
        """The newest report for one external id at `now`, or None while it is only accepted."""
        try:
            prefix, message_id, attempt, submitted_ms = external_id.split("-")
            if prefix != "SIM":
                return None
            mid, att, sub = int(message_id), int(attempt), int(submitted_ms)
        except ValueError:
            return None
        submitted = datetime.fromtimestamp(sub / 1000, tz=UTC)
        elapsed = (now - submitted).total_seconds()
        if elapsed >= self.config.delivered_after:
            at = submitted + timedelta(seconds=self.config.delivered_after)
            draw = _mix(self.config.seed, mid, att, 2)
            if draw < self.config.failure_ratio:
                code, text = self._failure(mid, att)
                return DeliveryReport(
                    external_id, MessageStatus.FAILED, at, code, text, transient=is_transient_failure(code)
                )
            return DeliveryReport(external_id, MessageStatus.DELIVERED, at)
        if elapsed >= self.config.sent_after:
            return DeliveryReport(
                external_id, MessageStatus.SENT, submitted + timedelta(seconds=self.config.sent_after)
            )
        return None

    def _failure(self, message_id: int, attempt: int) -> tuple[str, str]:
        pick = _mix(self.config.seed, message_id, attempt, 3) * _FAILURE_WEIGHT
        for code, text, weight in FAILURE_CODES:
            if pick < weight:
                return code, text
            pick -= weight
        return FAILURE_CODES[-1][0], FAILURE_CODES[-1][1]

    def parse_webhook(self, request: WebhookRequest) -> WebhookBatch:
        raise WebhookError("The simulator pushes nothing; its reports are pulled.", status=404)

    async def check(self) -> ProviderCheck:
        return ProviderCheck(True, "built-in simulator, always reachable")

    async def close(self) -> None:
        return None
