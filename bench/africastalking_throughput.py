"""Benchmark: a ~100,000-message campaign through the fake Africa's Talking, end to end with the database.

The fake runs in its own process and adds `--latency` (50 ms) to every request. Timed for herald:
a Direct "Active Clients" campaign over a demo Fineract database is materialized (rule, render,
phones, segments, dedup insert) by the job *Update SMS outbound*, then the job *Send messages to SMS
gateway* claims, sends (one bulk request per 500 recipients of the same text) and records every
message until each is WAITING_FOR_DELIVERY_REPORT. Target: >= 10,000 messages/s end to end.

The baseline, measured in the same run, is the fake alone driven by a plain aiohttp client with the
same batching (500 numbers per form post, as many requests in flight as herald allows itself): what
the wire costs without herald. Baseline and herald alternate for `--rounds` rounds (each herald round
on a fresh herald database), so neither gets a quieter moment of a shared machine; medians decide.

    .venv/bin/python bench/africastalking_throughput.py --clients 145000 --latency 0.05 --rounds 2

Measured 4 Dec 2026 on a two-core machine (96,300 sendable messages, 2 rounds): herald 11,751 msg/s
end to end (rounds 11,693 and 11,810: materialize 2.7-2.9 s, send+record 5.3-5.5 s), the target met;
the fake alone 66,193 msg/s. Earlier the same day 8,839 msg/s (send+record 7.3-7.7 s): recording
accepted messages expanded a tuple IN over every (provider, id) pair to adopt parked reports that
almost never exist (about 0.7 s of CPU per 100,000), and each recipient's cost text was parsed anew.
On 3 Dec, before the claim wrote each row once and the claim and record costs above were cut, it was
2,240 msg/s. The machine is shared: runs of the same code that day gave 10,406 to 14,706 msg/s.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

TARGET = 10_000
TODAY = date(2026, 11, 25)
USERNAME, KEY = "bench", "bench-key"
TEXT = "Dear client, your instalment is due this week. Pay by M-Pesa to 123456. Thank you."
COMMAND = "python bench/africastalking_throughput.py --clients 145000 --latency 0.05 --rounds 2"


@contextmanager
def fake_africastalking(latency: float) -> Iterator[str]:
    """The fake AT in a child process (no callback URL: reports are not part of this figure); its base URL."""
    from herald.demo.servers import free_port

    port = free_port()
    command = [sys.executable, "-m", "herald.fakes.africastalking", "--port", str(port), "--latency", str(latency)]
    process = subprocess.Popen(
        [*command, "--username", USERNAME, "--api-key", KEY], stdout=subprocess.PIPE, text=True
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


def _provider(url: str, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "kind": "africastalking",
        "name": "at",
        "username": USERNAME,
        "api_key": KEY,
        "sender": "MFIBank",
        "base_url": url,
        "batch_size": args.batch_size,
        "max_in_flight": args.in_flight,
        "timeout": 30,
        "webhook_secret": "bench-webhook-secret-0123",  # reports are not part of this figure
    }


def candidate(folder: Path, corebank: Path, url: str, args: argparse.Namespace) -> dict[str, float]:
    """One herald round on a fresh herald database: materialize, send and record; the timings."""
    from sqlalchemy import func, select

    from herald.app import Herald
    from herald.config import Settings
    from herald.domain.message import MessageStatus
    from herald.services import campaigns
    from herald.services.campaigns import CampaignRequest
    from herald.services.loop import run_loop
    from herald.services.preview import PreviewSettings
    from herald.store.tables import messages
    from herald.worker import outbound_for, sender_for

    settings = Settings(
        home=folder,
        database_url=f"sqlite:///{folder / 'herald.sqlite'}",
        corebank_url=f"sqlite:///{corebank}",
        business_date=TODAY,
        providers=json.dumps([_provider(url, args)]),
        send_batch_size=args.claim,
        send_concurrency=args.concurrency,
    )
    herald = Herald.build(settings)
    try:
        request = {
            "campaignName": "Bench",
            "triggerType": "direct",
            "runReportId": 166,  # Active Clients
            "paramValue": {"officeId": "1"},
            "message": TEXT,
            "providerId": "at",
        }
        c = campaigns.create(
            CampaignRequest.model_validate(request),
            store=herald.store,
            corebanks=herald.corebanks,
            providers=herald.providers,
            clock=herald.clock,
            calendar=herald.calendar,
        )
        campaigns.activate(
            c.id,
            store=herald.store,
            corebanks=herald.corebanks,
            calendar=herald.calendar,
            offices=herald.offices,
            clock=herald.clock,
            preview_settings=PreviewSettings.of(herald.settings),
        )
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        outbound_for(herald).run_due()
        materialized = time.perf_counter()

        async def send() -> dict[str, int]:
            totals = await sender_for(herald).run()
            await herald.close_providers()
            return totals

        totals = run_loop(send())
        finished = time.perf_counter()
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        with herald.store.connect() as conn:
            counts = dict(conn.execute(select(messages.c.status, func.count()).group_by(messages.c.status)).all())
    finally:
        herald.close()
    waiting = counts.get(MessageStatus.WAITING_FOR_DELIVERY_REPORT, 0)
    return {
        "messages": float(sum(counts.values()) - counts.get(MessageStatus.INVALID, 0)),
        "invalid": float(counts.get(MessageStatus.INVALID, 0)),
        "waiting": float(waiting),
        "accepted": float(totals.get("accepted", 0)),
        "materialize_s": materialized - started,
        "send_s": finished - materialized,
        "total_s": finished - started,
    }


async def baseline(url: str, count: int, args: argparse.Namespace) -> float:
    """The fake alone: `count` numbers in form posts of `batch_size`, `in_flight` at once, answers parsed."""
    import aiohttp

    numbers = [f"+2547{i:08d}" for i in range(1, count + 1)]
    batches = [numbers[i : i + args.batch_size] for i in range(0, count, args.batch_size)]
    headers = {"apiKey": KEY, "Accept": "application/json"}
    gate = asyncio.Semaphore(args.in_flight)
    accepted = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.in_flight), headers=headers) as http:

        async def one(batch: list[str]) -> None:
            nonlocal accepted
            form = {"username": USERNAME, "to": ",".join(batch), "message": TEXT, "from": "MFIBank", "bulkSMSMode": "1"}
            async with gate, http.post(url + "/version1/messaging", data=form) as response:
                answer = await response.json(content_type=None)
                accepted += sum(r["statusCode"] == 101 for r in answer["SMSMessageData"]["Recipients"])

        started = time.perf_counter()
        await asyncio.gather(*(one(b) for b in batches))
        seconds = time.perf_counter() - started
    assert accepted == count, accepted
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=145_000, help="demo clients (Active Clients: ~100,000 sendable)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake adds to every request")
    parser.add_argument("--batch-size", type=int, default=500, help="AT batch_size (recipients per request)")
    parser.add_argument("--claim", type=int, default=1000, help="HERALD_SEND_BATCH_SIZE (messages per claim)")
    parser.add_argument("--concurrency", type=int, default=16, help="HERALD_SEND_CONCURRENCY")
    parser.add_argument("--in-flight", type=int, default=64, help="the provider's max_in_flight")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--corebank", type=Path, default=None, help="reuse a demo Fineract database made earlier")
    parser.add_argument("--profile", action="store_true", help="print where herald's round spends its time")
    args = parser.parse_args()
    from herald.corebank.demo import create_demo_database

    with tempfile.TemporaryDirectory() as tmp, fake_africastalking(args.latency) as url:
        corebank = args.corebank or Path(tmp) / "fineract.sqlite"
        if args.corebank is None:
            started = time.perf_counter()
            create_demo_database(f"sqlite:///{corebank}", clients=args.clients, seed=1, today=TODAY)
            made = time.perf_counter() - started
            print(f"demo Fineract database of {args.clients:,} clients in {made:.1f} s (not timed)")
        herald_rates, baseline_rates, rounds = [], [], []
        for n in range(args.rounds):
            folder = Path(tmp) / f"round{n}"
            folder.mkdir()
            count = int(rounds[-1]["messages"]) if rounds else 100_000
            base_s = asyncio.run(baseline(url, count, args))
            result = candidate(folder, corebank, url, args)
            rounds.append(result)
            herald_rates.append(result["messages"] / result["total_s"])
            baseline_rates.append(count / base_s)
            print(
                f"round {n + 1}: baseline {count:,} in {base_s:.2f} s = {count / base_s:,.0f} msg/s; herald "
                f"{result['messages']:,.0f} in {result['total_s']:.2f} s = {herald_rates[-1]:,.0f} msg/s "
                f"(materialize {result['materialize_s']:.2f} s, send+record {result['send_s']:.2f} s = "
                f"{result['messages'] / result['send_s']:,.0f} msg/s; waiting {result['waiting']:,.0f}, "
                f"invalid {result['invalid']:,.0f})"
            )
    rate, base = statistics.median(herald_rates), statistics.median(baseline_rates)
    complete = all(r["waiting"] == r["messages"] for r in rounds)
    print(f"herald end to end (median of {args.rounds}): {rate:,.0f} messages/s")
    print(f"baseline, the fake alone with a plain HTTP client and the same batching: {base:,.0f} messages/s")
    print(f"target: >= {TARGET:,} messages/s -> {'MET' if rate >= TARGET and complete else 'MISSED'}")
    print(
        f"settings: batch_size {args.batch_size}, claim {args.claim}, concurrency {args.concurrency}, "
        f"in flight {args.in_flight}, latency {args.latency} s"
    )
    print(f"command: {COMMAND}")


if __name__ == "__main__":
    main()
