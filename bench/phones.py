"""Benchmark: `herald.domain.phones.normalize` on the demo database's mix of numbers and regions.

Builds a demo Fineract database (seeded, so the mix is the same every run), reads every client's
`mobile_no` with its office's region, and prints the mean µs per call over several passes (the
figure the target is checked against) and the best pass beside it. With
`--save` / `--compare` it stores or checks the results, so a faster version can be shown to give
exactly the same answers as the one before it.

    .venv/bin/python bench/phones.py --clients 70000
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

TARGET_US = 6.0


def load_mix(clients: int) -> list[tuple[str | None, str]]:
    """(mobile_no, region) for every client of a seeded demo database of `clients` clients."""
    from herald.corebank.demo import create_demo_database

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fineract.sqlite"
        summary = create_demo_database(f"sqlite:///{path}", clients=clients, seed=1, today=date(2026, 11, 25))
        regions = {office.office_id: office.region for office in summary.office_profiles}
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT mobile_no, office_id FROM m_client ORDER BY id").fetchall()
    return [(mobile, regions[office]) for mobile, office in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=70_000)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--save", type=Path, help="write every result to this JSON file")
    parser.add_argument("--compare", type=Path, help="check every result against this JSON file")
    args = parser.parse_args()

    from herald.domain.phones import PhoneNumber, normalize

    mix = load_mix(args.clients)
    for raw, region in mix[:1000]:  # warm the per-region caches, as a long run would
        normalize(raw, region)
    passes: list[float] = []
    for _ in range(args.passes):
        started = time.perf_counter()
        for raw, region in mix:
            normalize(raw, region)
        passes.append(time.perf_counter() - started)
    mean_us = statistics.fmean(passes) / len(mix) * 1e6
    best_us = min(passes) / len(mix) * 1e6

    results = [
        r.e164 if isinstance(r, PhoneNumber) else f"{r.problem.name}:{r.raw_masked}"
        for r in (normalize(raw, region) for raw, region in mix)
    ]
    regions = sorted({region for _, region in mix})
    verdict = "met" if mean_us <= TARGET_US else "NOT met"
    print(
        f"{len(mix)} numbers, regions {','.join(regions)}: {mean_us:.2f} µs per call, mean of {args.passes} passes"
        f" (best pass {best_us:.2f} µs); target <= {TARGET_US} µs on the mean: {verdict}"
    )
    if args.save:
        args.save.write_text(json.dumps(results))
    if args.compare:
        expected = json.loads(args.compare.read_text())
        differences = [(mix[i], expected[i], got) for i, got in enumerate(results) if got != expected[i]]
        print(f"{len(differences)} results differ from {args.compare}")
        for difference in differences[:20]:
            print("  ", difference)


if __name__ == "__main__":
    main()
