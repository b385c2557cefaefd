"""Benchmark: materializing a Direct "Active Clients" campaign over the demo database.

Prints herald's rate (rule query, render, phone normalisation, segment count, dedup insert) next to
the target (>= 50,000 messages/s, peak memory < 500 MB) and, as the baseline measured in the same
run, a plain `INSERT ... SELECT` of the same rows inside SQLite. Each phase runs in its own process
so that its peak memory is its own. The demo database is read once before timing starts, then
baseline and herald alternate (baseline, herald, baseline, herald ...) for `--rounds` rounds, so
neither gets a cache the other warmed or a quieter moment of a shared machine; every round's pair
is printed, and the medians are what the targets are checked against.

    .venv/bin/python bench/materialize.py --clients 1000000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

TARGET_RATE = 50_000
TARGET_MB = 500
TODAY = date(2026, 11, 25)


def _peak_mb(workers: int = 1) -> float:
    """An upper bound of the memory a run holds at once: this process's peak plus `workers` times the
    largest peak of its worker processes (the OS reports only the largest child, not their sum)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + workers * children) / 1024


def phase_generate(folder: Path, clients: int) -> dict[str, float]:
    from herald.corebank.demo import create_demo_database

    started = time.perf_counter()
    create_demo_database(f"sqlite:///{folder / 'fineract.sqlite'}", clients=clients, seed=1, today=TODAY)
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}


def _settings(folder: Path, name: str) -> object:
    from herald.config import Settings

    return Settings(
        home=folder,
        database_url=f"sqlite:///{folder / name}",
        corebank_url=f"sqlite:///{folder / 'fineract.sqlite'}",
        business_date=TODAY,
    )


def phase_herald(folder: Path) -> dict[str, float]:
    from herald.app import Herald
    from herald.corebank.demo_catalog import OFFICES
    from herald.services import campaigns
    from herald.services.campaigns import CampaignRequest
    from herald.services.offices import OfficeProfile, save_profiles
    from herald.services.preview import PreviewSettings
    from herald.worker import outbound_for

    herald = Herald.build(_settings(folder, "herald.sqlite"))  # type: ignore[arg-type]
    # As `herald demo init` does: each office's phone region, so Ugandan and Tanzanian local numbers
    # are read as such (without it they would all be read as Kenyan and mostly refused).
    save_profiles(
        [OfficeProfile(o.id, o.name, o.region, o.timezone) for o in OFFICES],
        store=herald.store, corebanks=herald.corebanks, offices=herald.offices,
    )
    c = campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": "Everyone",
                "triggerType": "direct",
                "runReportId": 166,
                "paramValue": {"officeId": "1"},
                "message": "Dear {{firstName}} {{lastName}}, thank you for banking with us.",
            }
        ),
        store=herald.store,
        corebanks=herald.corebanks,
        providers=herald.providers,
        clock=herald.clock,
        calendar=herald.calendar,
    )
    c = campaigns.activate(
        c.id,
        store=herald.store,
        corebanks=herald.corebanks,
        calendar=herald.calendar,
        offices=herald.offices,
        clock=herald.clock,
        preview_settings=PreviewSettings.of(herald.settings),
    )
    started = time.perf_counter()
    result = outbound_for(herald).run_campaign(c)
    seconds = time.perf_counter() - started
    assert result is not None
    return {
        "rows": result.audience,
        "created": result.created,
        "invalid": result.invalid,
        "seconds": seconds,
        "peak_mb": _peak_mb(herald.settings.materialize_workers),
        "workers": herald.settings.materialize_workers,
    }


def phase_baseline(folder: Path) -> dict[str, float]:
    """The same rows by one INSERT ... SELECT with SQL string building: the floor of what a database does."""
    from sqlalchemy import text

    from herald.app import Herald

    herald = Herald.build(_settings(folder, "baseline.sqlite"))  # type: ignore[arg-type]
    now = datetime.now(UTC).isoformat()
    with herald.store.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO campaigns (id, name, trigger_type, rule_id, params, template, provider, status,"
                " activation_count, created_at) VALUES (1, 'b', 1, 166, '{}', 't', 'simulator', 300, 1, :n)"
            ),
            {"n": now},
        )
    started = time.perf_counter()
    with herald.store.begin() as conn:
        conn.exec_driver_sql(f"ATTACH DATABASE '{folder / 'fineract.sqlite'}' AS cb")
        rows = conn.exec_driver_sql(
            "INSERT INTO messages (campaign_id, dedup_key, client_id, office_id, mobile_no, body, status, encoding,"
            " segments, provider, attempts, created_at, updated_at)"
            " SELECT 1, 'client:' || c.id || '@direct', c.id, c.office_id, c.mobile_no,"
            " 'Dear ' || coalesce(c.firstname, '') || ' ' || coalesce(c.lastname, '')"
            " || ', thank you for banking with us.',"
            " 100, 'GSM-7', 1, 'simulator', 0, ?, ?"
            " FROM cb.m_client c JOIN cb.m_office o ON o.id = c.office_id"
            " WHERE c.status_enum = 300 AND o.hierarchy LIKE '.%'",
            (now, now),
        ).rowcount
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "peak_mb": _peak_mb()}


def _run_phase(name: str, folder: Path, *extra: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--folder", str(folder), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"phase {name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, help="Reuse a folder holding fineract.sqlite from an earlier run.")
    parser.add_argument("--rounds", type=int, default=3, help="Baseline/herald pairs, run alternately.")
    parser.add_argument("--phase", choices=["generate", "herald", "baseline"])
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.phase:
        folder = args.folder
        result = {
            "generate": lambda: phase_generate(folder, args.clients),
            "herald": lambda: phase_herald(folder),
            "baseline": lambda: phase_baseline(folder),
        }[args.phase]()
        print(json.dumps(result))
        return
    folder = args.folder or Path(tempfile.mkdtemp(prefix="herald-bench-"))
    if not (folder / "fineract.sqlite").exists():
        print(f"Generating {args.clients:,} demo clients in {folder} ...", flush=True)
        gen = _run_phase("generate", folder, "--clients", str(args.clients))
        print(f"  generated in {gen['seconds']:.1f}s, peak {gen['peak_mb']:.0f} MB")
    _warm(folder / "fineract.sqlite")
    bases: list[dict[str, float]] = []
    ours: list[dict[str, float]] = []
    print(f"\n{'round':<8}{'baseline msg/s':>16}{'herald msg/s':>14}{'herald peak MB':>16}")
    for n in range(1, args.rounds + 1):
        _fresh(folder)
        bases.append(_run_phase("baseline", folder))
        ours.append(_run_phase("herald", folder))
        base_n, ours_n = bases[-1], ours[-1]
        print(
            f"{n:<8}{base_n['rows'] / base_n['seconds']:>16,.0f}{ours_n['rows'] / ours_n['seconds']:>14,.0f}"
            f"{ours_n['peak_mb']:>16.0f}",
            flush=True,
        )
    base_rate = statistics.median(b["rows"] / b["seconds"] for b in bases)
    rate = statistics.median(o["rows"] / o["seconds"] for o in ours)
    peak = max(o["peak_mb"] for o in ours)
    last = ours[-1]
    print(
        f"\nMaterializing a Direct 'Active Clients' campaign ({last['rows']:,.0f} messages, "
        f"{last['invalid']:,.0f} of them INVALID: no usable number), median of {args.rounds} rounds"
    )
    print(f"{'':28}{'msg/s':>12}{'peak MB':>10}")
    print(f"{'baseline INSERT ... SELECT':28}{base_rate:>12,.0f}{max(b['peak_mb'] for b in bases):>10.0f}")
    print(f"{'herald materialize':28}{rate:>12,.0f}{peak:>10.0f}")
    print(f"(herald used {last['workers']:.0f} worker processes; its peak MB counts each at the largest one's peak)")
    rate_ok = "met" if rate >= TARGET_RATE else "NOT met"
    print(
        f"\nherald: {rate:,.0f} msg/s median (target >= {TARGET_RATE:,}: {rate_ok});"
        f" peak {peak:.0f} MB, the highest round (target < {TARGET_MB}: {'met' if peak < TARGET_MB else 'NOT met'})"
    )
    print(
        f"ratio herald / baseline (medians): {rate / base_rate:.2f} (the baseline renders by string concatenation in"
        " SQL and checks neither numbers nor segments)"
    )


def _fresh(folder: Path) -> None:
    """Each round writes into new herald and baseline databases, as the first round does."""
    for stale in ("herald.sqlite", "baseline.sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(folder, stale + suffix).unlink(missing_ok=True)


def _warm(path: Path) -> None:
    """Read the demo database once, untimed, so the first timed phase does not pay for a cold cache alone."""
    with path.open("rb") as f:
        while f.read(1 << 20):
            pass


if __name__ == "__main__":
    main()
