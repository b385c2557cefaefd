"""Benchmark: a campaign sent through the fake Twilio by herald's send job, against the official SDK's loop.

The fake runs in its own process (`python -m herald.fakes.twilio`) with a fixed latency per request,
so client and server do not share one event loop or one core. herald is timed on the path users
run: PENDING messages of an active campaign in herald's SQLite store, the send job claiming them
per provider, through the process's gate (rate limit, requests in flight, breaker), the Twilio
adapter and the recording of every accepted message, until all are WAITING_FOR_DELIVERY_REPORT,
on the event loop the worker runs (uvloop).
The `twilio` SDK sends one message after another, which is how it is used in a plain loop; it is
measured on a sample in the same run and its time for the full run extrapolated.
Targets: >= 3,000 msg/s and >= 50 times the SDK loop.

    .venv/bin/python bench/twilio_throughput.py --messages 100000 --latency 0.05 --max-in-flight 256
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from herald.demo.servers import free_port
from herald.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN
from herald.providers.base import OutboundMessage
from pending import pending_campaign  # bench/pending.py: python puts bench/ on the path

TARGET_RATIO = 50.0
TARGET_RATE = 3_000
SENDER = "+12025550143"


def start_fake(port: int, latency: float) -> subprocess.Popen[str]:
    """The fake in its own process, with no lifecycle timers and no request log (they would only cost)."""
    command = [sys.executable, "-m", "herald.fakes.twilio", "--port", str(port), "--latency", str(latency)]
    command += ["--sent-after", "-1", "--delivered-after", "-1", "--no-record"]
    fake = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None
    line = fake.stdout.readline()  # printed once the port is bound
    if "fake Twilio at" not in line:
        fake.kill()
        raise SystemExit(f"the fake Twilio did not start: {line!r}")
    return fake


def _messages(n: int) -> list[OutboundMessage]:
    return [
        OutboundMessage(i, f"+2547{i % 100_000_000:08d}", f"Dear client {i}, your instalment is due.") for i in range(n)
    ]


def prepare(folder: Path, url: str, count: int, max_in_flight: int, concurrency: int) -> Any:
    """A Herald on fresh SQLite files with an active Twilio campaign and `count` PENDING messages (not timed)."""
    from herald.app import Herald
    from herald.config import Settings
    from herald.corebank.demo import create_demo_database

    create_demo_database(f"sqlite:///{folder / 'fineract.sqlite'}", clients=10, today=date(2026, 11, 25))
    provider = {
        "kind": "twilio",
        "name": "twilio",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": SENDER,
        "base_url": url,
        "max_in_flight": max_in_flight,
        "timeout": 30,
        "status_callback": False,
    }
    settings = Settings(
        home=folder,
        database_url=f"sqlite:///{folder / 'herald.sqlite'}",
        corebank_url=f"sqlite:///{folder / 'fineract.sqlite'}",
        providers=json.dumps([provider]),
        send_batch_size=1000,
        send_concurrency=concurrency,
    )
    herald = Herald.build(settings)
    pending_campaign(herald, "twilio", count, _text)
    return herald


def _text(i: int) -> str:
    return f"Dear client {i}, your instalment is due."


def run_herald(url: str, count: int, max_in_flight: int, concurrency: int) -> tuple[float, int]:
    """Seconds for the send job to hand every message over and record it, and how many are not waiting."""
    from sqlalchemy import func, select

    from herald.domain.message import MessageStatus
    from herald.services.loop import run_loop
    from herald.store.tables import messages
    from herald.worker import sender_for

    with tempfile.TemporaryDirectory() as tmp:
        herald = prepare(Path(tmp), url, count, max_in_flight, concurrency)

        async def timed() -> float:
            started = time.perf_counter()
            await sender_for(herald).run()
            elapsed = time.perf_counter() - started
            await herald.close_providers()
            return elapsed

        elapsed = run_loop(timed())  # the event loop the worker and `herald jobs run send` use
        with herald.store.connect() as conn:
            waiting = conn.execute(
                select(func.count()).where(messages.c.status == MessageStatus.WAITING_FOR_DELIVERY_REPORT)
            ).scalar_one()
        herald.close()
    return elapsed, count - int(waiting)


def run_sdk(url: str, messages: list[OutboundMessage]) -> float:
    """Seconds for the official SDK to send `messages` one after another."""
    from twilio.rest import Client  # type: ignore[import-untyped]

    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.api.base_url = url  # the SDK's own knob for where the Api domain lives
    started = time.perf_counter()
    for m in messages:
        client.messages.create(to=m.to, from_=SENDER, body=m.body)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake adds to every request")
    parser.add_argument("--max-in-flight", type=int, default=256, help="the provider's max_in_flight")
    parser.add_argument("--concurrency", type=int, default=16, help="HERALD_SEND_CONCURRENCY (batches at once)")
    parser.add_argument("--sdk-sample", type=int, default=1_000, help="messages the SDK sends (then extrapolated)")
    args = parser.parse_args()

    port = free_port()
    fake = start_fake(port, args.latency)
    url = f"http://127.0.0.1:{port}"
    try:
        sample = _messages(args.sdk_sample)
        sdk_s = run_sdk(url, sample)
        herald_s, refused = run_herald(url, args.messages, args.max_in_flight, args.concurrency)
    finally:
        fake.terminate()
        fake.wait(timeout=10)

    herald_rate = args.messages / herald_s
    sdk_rate = len(sample) / sdk_s
    ratio = herald_rate / sdk_rate
    print(f"fake Twilio in its own process, {args.latency * 1000:g} ms per request")
    print(
        f"herald send job:       {args.messages:,} messages in {herald_s:.1f} s = {herald_rate:,.0f} msg/s "
        f"(database, gate and recording included; max_in_flight {args.max_in_flight}; not waiting {refused})"
    )
    print(
        f"twilio SDK loop:       {len(sample):,} messages in {sdk_s:.1f} s = {sdk_rate:,.1f} msg/s "
        f"(sample; {args.messages:,} would take about {args.messages / sdk_rate / 60:.0f} min, extrapolated)"
    )
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"ratio: {ratio:,.0f}x  (target >= {TARGET_RATIO:g}x: {verdict})")
    rate_verdict = "met" if herald_rate >= TARGET_RATE and refused == 0 else "NOT met"
    print(f"rate: {herald_rate:,.0f} msg/s  (target >= {TARGET_RATE:,} msg/s: {rate_verdict})")


if __name__ == "__main__":
    main()
