"""Benchmark: a 100,000-message campaign sent through the fake Infobip by herald's send job, database included.

The fake runs in its own process. herald's SQLite store is filled with PENDING messages of an
active campaign (herald's own insert code), then `send_pending` is timed until every message is
WAITING_FOR_DELIVERY_REPORT. Target: >= 10,000 messages/s end to end. The baseline, measured in the
same run, is the adapter alone (same batches, same concurrency, no database): the ratio shows what
the send job and the store cost on top of the wire.

    .venv/bin/python bench/infobip_throughput.py --messages 100000 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pending import pending_campaign  # bench/pending.py: python puts bench/ on the path

TARGET = 10_000
COMMAND = "python bench/infobip_throughput.py --messages 100000 --latency 0.05"


@contextmanager
def fake_infobip(latency: float) -> Iterator[str]:
    """The fake Infobip in a child process; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "herald.fakes.infobip", "--port", str(port), "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "listening" not in line:
            sys.exit(f"the fake did not start: {line!r}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(5)


def _provider(url: str, batch_size: int, in_flight: int) -> dict[str, Any]:
    return {
        "kind": "infobip",
        "name": "infobip",
        "base_url": url,
        "api_key": "test-key",
        "sender": "MFIBank",
        "batch_size": batch_size,
        "max_in_flight": in_flight,
        "timeout": 30,
        "notify": False,
    }


def prepare(folder: Path, url: str, args: argparse.Namespace) -> Any:
    """A Herald on fresh SQLite files with an active campaign and `args.messages` PENDING messages."""
    from herald.app import Herald
    from herald.config import Settings
    from herald.corebank.demo import create_demo_database

    create_demo_database(f"sqlite:///{folder / 'fineract.sqlite'}", clients=10, today=date(2026, 11, 25))
    settings = Settings(
        home=folder,
        database_url=f"sqlite:///{folder / 'herald.sqlite'}",
        corebank_url=f"sqlite:///{folder / 'fineract.sqlite'}",
        providers=json.dumps([_provider(url, args.batch_size, args.in_flight)]),
        send_batch_size=args.claim,
        send_concurrency=args.concurrency,
    )
    herald = Herald.build(settings)
    started = time.perf_counter()
    pending_campaign(herald, "infobip", args.messages, _text)
    print(f"inserted {args.messages:,} PENDING messages in {time.perf_counter() - started:.2f} s (not timed)")
    return herald


async def adapter_alone(url: str, args: argparse.Namespace) -> float:
    """Baseline: the same messages through the adapter with as many requests in flight, no database."""
    from pydantic import TypeAdapter

    from herald.providers.base import OutboundMessage
    from herald.providers.config import InfobipSettings
    from herald.providers.infobip import build

    settings = TypeAdapter(InfobipSettings).validate_python(_provider(url, args.batch_size, args.in_flight))
    provider = build(settings, now=lambda: datetime.now(UTC), public_url=None, report_sink=_no_sink)
    outbound = [
        OutboundMessage(i, f"+2547{i:08d}", _text(i), attempt=9)  # attempt 9: ids unused by the timed run
        for i in range(1, args.messages + 1)
    ]
    chunks = [outbound[i : i + args.claim] for i in range(0, len(outbound), args.claim)]
    gate = asyncio.Semaphore(args.concurrency)

    async def one(chunk: list[OutboundMessage]) -> int:
        async with gate:
            return sum(r.accepted for r in await provider.send(chunk))

    started = time.perf_counter()
    accepted = sum(await asyncio.gather(*(one(c) for c in chunks)))
    seconds = time.perf_counter() - started
    await provider.close()
    assert accepted == args.messages, accepted
    return seconds


def _text(i: int) -> str:
    """A personalised text per message, as rendered campaigns are: no two share a messages[] entry."""
    return f"Dear client {i}, your instalment is due on 5 Dec."


async def _no_sink(provider: str, reports: object) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake adds to every request")
    parser.add_argument("--batch-size", type=int, default=500, help="Infobip batch_size (messages per request)")
    parser.add_argument("--claim", type=int, default=1000, help="HERALD_SEND_BATCH_SIZE (messages per claim)")
    parser.add_argument("--concurrency", type=int, default=16, help="HERALD_SEND_CONCURRENCY")
    parser.add_argument("--in-flight", type=int, default=64, help="the provider's max_in_flight")
    parser.add_argument("--profile", action="store_true", help="print where the send job spends its time")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from herald.domain.message import MessageStatus
    from herald.store.tables import messages
    from herald.worker import sender_for

    with tempfile.TemporaryDirectory() as tmp, fake_infobip(args.latency) as url:
        herald = prepare(Path(tmp), url, args)
        profiler = cProfile.Profile() if args.profile else None

        async def timed() -> tuple[dict[str, int], float]:
            started = time.perf_counter()
            totals = await sender_for(herald).run()
            seconds = time.perf_counter() - started
            await herald.close_providers()
            return totals, seconds

        if profiler:
            profiler.enable()
        totals, seconds = asyncio.run(timed())
        if profiler:
            profiler.disable()
        with herald.store.connect() as conn:
            waiting = conn.execute(
                select(func.count()).where(messages.c.status == MessageStatus.WAITING_FOR_DELIVERY_REPORT)
            ).scalar_one()
        herald.close()
        baseline = asyncio.run(adapter_alone(url, args))

    rate = args.messages / seconds
    print(f"send job: {totals}")
    print(f"waiting for delivery report: {waiting:,} of {args.messages:,}")
    print(f"herald end to end: {args.messages:,} messages in {seconds:.2f} s = {rate:,.0f} messages/s")
    print(f"baseline, adapter alone (no database, same batches): {args.messages / baseline:,.0f} messages/s")
    print(f"ratio herald / adapter alone: {baseline / seconds:.2f}")
    print(f"target: >= {TARGET:,} messages/s -> {'MET' if rate >= TARGET and waiting == args.messages else 'MISSED'}")
    print(
        f"settings: batch_size {args.batch_size}, claim {args.claim}, concurrency {args.concurrency}, "
        f"latency {args.latency} s"
    )
    print(f"command: {COMMAND}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
