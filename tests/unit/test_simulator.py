"""The built-in simulator: stateless, deterministic per seed, SENT then DELIVERED or FAILED on time."""

import asyncio
from datetime import UTC, datetime, timedelta

from herald.clock import ManualClock
from herald.domain.message import MessageStatus
from herald.errors import ProviderOutcome
from herald.providers.base import OutboundMessage
from herald.providers.simulator import FAILURE_CODES, Simulator, SimulatorConfig

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _send(sim: Simulator, n: int) -> list[str]:
    results = asyncio.run(sim.send([OutboundMessage(i, "+254712345678", "hi") for i in range(1, n + 1)]))
    assert all(r.accepted for r in results)
    return [r.external_id for r in results if r.external_id]


def test_reports_follow_the_configured_delays() -> None:
    clock = ManualClock(T0)
    sim = Simulator(SimulatorConfig(sent_after=1, delivered_after=3, failure_ratio=0), clock.now)
    [ext] = _send(sim, 1)
    assert asyncio.run(sim.fetch_reports([ext])) == []
    clock.advance(seconds=1)
    [report] = asyncio.run(sim.fetch_reports([ext]))
    assert report.status is MessageStatus.SENT
    clock.advance(seconds=2)
    [report] = asyncio.run(sim.fetch_reports([ext]))
    assert report.status is MessageStatus.DELIVERED
    assert report.at == T0 + timedelta(seconds=3)


def test_same_seed_same_outcomes_and_failure_ratio_roughly_holds() -> None:
    def outcomes(seed: int) -> list[tuple[MessageStatus, str | None]]:
        clock = ManualClock(T0)
        sim = Simulator(SimulatorConfig(seed=seed, failure_ratio=0.2), clock.now)
        ids = _send(sim, 2000)
        clock.advance(seconds=10)
        return [(r.status, r.error_code) for r in asyncio.run(sim.fetch_reports(ids))]

    first = outcomes(3)
    assert first == outcomes(3)
    assert first != outcomes(4)
    failed = [code for status, code in first if status is MessageStatus.FAILED]
    assert 300 < len(failed) < 500
    assert set(failed) <= {code for code, _, _ in FAILURE_CODES}


def test_a_new_process_reads_the_same_reports_from_the_external_id_alone() -> None:
    clock = ManualClock(T0)
    ids = _send(Simulator(SimulatorConfig(), clock.now), 50)
    clock.advance(seconds=60)
    a = asyncio.run(Simulator(SimulatorConfig(), clock.now).fetch_reports(ids))
    b = asyncio.run(Simulator(SimulatorConfig(), clock.now).fetch_reports(ids))
    assert a == b and len(a) == 50


def test_transient_errors_are_retryable() -> None:
    sim = Simulator(SimulatorConfig(transient_ratio=1.0), ManualClock(T0).now)
    [result] = asyncio.run(sim.send([OutboundMessage(1, "+254712345678", "hi")]))
    assert not result.accepted and result.error is not None and result.error.outcome is ProviderOutcome.TRANSIENT


def test_foreign_ids_get_no_report() -> None:
    sim = Simulator(SimulatorConfig(), ManualClock(T0).now)
    assert asyncio.run(sim.fetch_reports(["SM123", "SIM-x-1-2", ""])) == []
