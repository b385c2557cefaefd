"""Benchmark: the torture scenarios at full size, counted at the provider: duplicates, lost and msg/s.

The same harness as tests/torture (counting Twilio servers in their own processes, `herald`
subprocesses, kill -9 / SIGTERM, provider faults), with a demo Fineract database large enough for
about `--messages` messages (Active Clients of the whole tree is about 70 % of the clients) and
`--workers` workers. herald's database is PostgreSQL by default (a throw-away cluster from
tests/postgres.py unless --postgres-url names a server) or an SQLite file. Never run in the suite.

    .venv/bin/python bench/torture.py                                  # every scenario, 100,000 messages, 4 workers
    .venv/bin/python bench/torture.py --scenario race --scenario crash --messages 20000 --engine sqlite --workers 1
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the harness lives with the torture tests

from tests.postgres import create_database, postgres_cluster
from tests.torture.harness import HERALD, Scenario, Timings, scenario
from tests.torture.verdict import Verdict, per_second_over

ACTIVE_SHARE = 0.70  # of the demo's clients, Active Clients of office 1 with a usable number
SCENARIOS = ("race", "crash", "rate", "hang", "drop", "storm500", "storm429", "sigterm")


def _demo(root: Path, messages: int) -> Path:
    clients = max(int(messages / ACTIVE_SHARE), 10)
    env = {**os.environ, "HERALD_HOME": str(root), "HERALD_DATABASE_URL": "", "HERALD_COREBANK_URL": ""}
    started = time.perf_counter()
    subprocess.run([*HERALD, "demo", "init", "--clients", str(clients), "--seed", "3"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    print(f"demo Fineract database: {clients:,} clients in {time.perf_counter() - started:.1f} s", flush=True)
    return root / "fineract-demo.sqlite"


def _workers(s: Scenario, n: int) -> None:
    s.wait_started(*[s.start_worker(f"worker{i}") for i in range(n)])


def race(s: Scenario, args: argparse.Namespace, rng: random.Random) -> None:
    s.provider("primary", latency=args.latency)
    s.prepare()
    _workers(s, args.workers)
    s.direct_campaign("Race", "primary")


def crash(s: Scenario, args: argparse.Namespace, rng: random.Random) -> None:
    """kill -9 one worker at a random moment every few seconds, restarting it, until half is sent."""
    primary = s.provider("primary", latency=args.latency)
    s.prepare()
    workers = [s.start_worker(f"worker{i}") for i in range(args.workers)]
    s.wait_started(*workers)
    total = s.direct_campaign("Crash", "primary")
    deadline = time.monotonic() + args.timeout / 2  # claims a dead worker holds may stall the count for long
    while primary.stats()["accepted"] < total / 2 and s.pending() and time.monotonic() < deadline:
        time.sleep(rng.uniform(0.5, 3.0))
        victim = rng.randrange(len(workers))
        s.kill(workers[victim])
        workers[victim] = s.start_worker(f"worker{victim}")


def rate(s: Scenario, args: argparse.Namespace, rng: random.Random) -> None:
    s.provider("primary", latency=args.latency, rate_limit=args.rate)
    s.prepare()
    _workers(s, args.workers)
    s.direct_campaign("Rate", "primary")


def _doubt(kind: str) -> Callable[[Scenario, argparse.Namespace, random.Random], None]:
    def run(s: Scenario, args: argparse.Namespace, rng: random.Random) -> None:
        primary = s.provider("primary", latency=args.latency, timeout=1.0, fallback="backup")
        s.provider("backup", latency=args.latency)
        primary.control(fault={"kind": kind, "every": 50, "hang_seconds": 10})
        s.prepare()
        _workers(s, args.workers)
        s.direct_campaign("Doubt", "primary")

    return run


def _storm(kind: str) -> Callable[[Scenario, argparse.Namespace, random.Random], None]:
    def run(s: Scenario, args: argparse.Namespace, rng: random.Random) -> None:
        primary = s.provider("primary", latency=args.latency)
        primary.control(fault={"kind": kind, "seconds": args.storm, "arm": True, "retry_after": 5})
        s.prepare()
        _workers(s, args.workers)
        s.direct_campaign("Storm", "primary")

    return run


def sigterm(s: Scenario, args: argparse.Namespace, rng: random.Random) -> None:
    """SIGTERM every worker mid-send, note how each stopped, restart them."""
    primary = s.provider("primary", latency=args.latency)
    s.prepare()
    workers = [s.start_worker(f"worker{i}") for i in range(args.workers)]
    s.wait_started(*workers)
    total = s.direct_campaign("Stop", "primary")
    s.wait_for(lambda: primary.stats()["accepted"] >= total / 3, args.timeout)
    for w in workers:
        code, took = s.terminate(w, 10.0)
        print(f"  {w.label}: SIGTERM -> exit {code} after {took:.1f} s", flush=True)
        if code is None:
            s.kill(w)
    _workers(s, args.workers)


RUNS: dict[str, Callable[[Scenario, argparse.Namespace, random.Random], None]] = {
    "race": race,
    "crash": crash,
    "rate": rate,
    "hang": _doubt("hang"),
    "drop": _doubt("drop"),
    "storm500": _storm("500"),
    "storm429": _storm("429"),
    "sigterm": sigterm,
}


@contextmanager
def _database(args: argparse.Namespace, root: Path) -> Iterator[Callable[[str], str]]:
    if args.engine == "sqlite":
        yield lambda name: f"sqlite:///{root / name / 'herald.sqlite'}"
    elif args.postgres_url:
        yield lambda name: create_database(args.postgres_url, f"bench_{name}")
    else:
        with postgres_cluster() as server:
            yield lambda name: create_database(server, f"bench_{name}")


def _report(name: str, verdict: Verdict, seconds: float, finished: bool, s: Scenario) -> None:
    unique = verdict.accepted - verdict.duplicates
    stamps = [m["t"] for server in s.servers.values() for m in server.accepted()]
    span = max(stamps) - min(stamps) if len(stamps) > 1 else 0.0  # first to last message the providers took
    print(
        f"{name:9} {verdict.expected:>8,} sendable  {verdict.duplicates:>7,} duplicates  {len(verdict.lost):>7,} lost"
        f"  {len(verdict.not_final):>6,} not final  {unique / span if span else 0.0:>8,.0f} msg/s"
        f"  ({seconds:.1f} s in all{'' if finished else ', TIMED OUT'})",
        flush=True,
    )
    if name == "rate":
        over = per_second_over(s.servers["primary"].rate_windows(), s.provider_configs[0]["rate_limit"], 0.1)
        print(f"          {len(over)} one-second windows above the rate limit", flush=True)
    for line in verdict.summary().splitlines()[1:8]:
        print(f"          {line.strip()}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scenario", choices=SCENARIOS, action="append", help="repeat for several (default: all)")
    parser.add_argument("--messages", type=int, default=100_000, help="about this many sendable messages")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--postgres-url", help="a PostgreSQL server to create databases on (default: a throw-away one)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per provider request")
    parser.add_argument("--rate", type=float, default=500.0, help="the provider's rate_limit in the rate scenario")
    parser.add_argument("--storm", type=float, default=40.0, help="seconds the storm scenarios' provider fails")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds a scenario may take to finish")
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args(argv)
    chosen = args.scenario or SCENARIOS
    with tempfile.TemporaryDirectory(prefix="herald-torture-") as tmp:
        root = Path(tmp)
        corebank = _demo(root / "demo", args.messages)
        with _database(args, root) as database:
            for name in chosen:
                timings = Timings(batch_size=500, max_attempts=10)
                with scenario(root / name, database(name), corebank, timings=timings) as s:
                    started = time.monotonic()
                    RUNS[name](s, args, random.Random(args.seed))
                    finished = s.run_until_final(started + args.timeout)
                    _report(name, s.verdict(finished=finished), time.monotonic() - started, finished, s)


if __name__ == "__main__":
    main()
