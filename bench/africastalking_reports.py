"""Benchmark: Africa's Talking delivery reports posted to herald's webhook, one report per request, as AT posts them.

herald (`herald serve`, the real FastAPI app under uvicorn) runs in its own process on a database
pre-filled with messages AT accepted; the client posts AT's report forms (`id`, `status`,
`phoneNumber`, `networkCode`, `retryCount`) with many requests in flight, as AT does for a big
campaign. herald answers 200 only once a report is committed, so the last answer means every report
is applied. Target (herald's own: the issue names none): >= 1,000 reports/s, a 100,000-message
campaign's reports in under two minutes. The baseline, in the same run: the same reports applied by
`services.inbound.keep` directly, one call per report as the endpoint made them, no HTTP.

    .venv/bin/python bench/africastalking_reports.py --reports 20000 --in-flight 32
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

from infobip_push import _wait_for, delivered, environment, prefill, push

TARGET = 1_000
COMMAND = "python bench/africastalking_reports.py --reports 20000 --in-flight 32"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}  # AT posts its reports as forms
SECRET = "bench-webhook-secret-0123"  # AT's callback URL carries it: at least 16 characters
AT = {
    "kind": "africastalking",
    "name": "at",
    "username": "bench",
    "api_key": "unused",
    "sender": "MFIBank",
    "base_url": "http://127.0.0.1:9",
    "webhook_secret": SECRET,
}


def forms(n: int) -> list[bytes]:
    """AT's report for herald-1-1 ... herald-n-1, each delivered ("Success"), one form each."""
    return [
        urlencode(
            {"id": f"herald-{i}-1", "status": "Success", "phoneNumber": f"+2547{i:08d}", "networkCode": "63902"}
            | {"retryCount": "0"}
        ).encode()
        for i in range(1, n + 1)
    ]


def baseline(folder: Path, n: int) -> float:
    """`keep` called directly with each report, one call (one transaction) per report."""
    from herald.app import Herald
    from herald.clock import SystemClock
    from herald.config import Settings
    from herald.domain.message import MessageStatus
    from herald.domain.reports import DeliveryReport
    from herald.providers.base import WebhookBatch
    from herald.services.inbound import keep

    env = environment(folder, "baseline.sqlite", AT)
    herald = Herald.build(Settings(home=folder, database_url=env["HERALD_DATABASE_URL"]))
    at = datetime.now(UTC)
    calls = [
        WebhookBatch(reports=[DeliveryReport(f"herald-{i}-1", MessageStatus.DELIVERED, at)]) for i in range(1, n + 1)
    ]
    clock = SystemClock()
    started = time.perf_counter()
    for call in calls:
        keep("at", call, store=herald.store, clock=clock, default_region="KE")
    seconds = time.perf_counter() - started
    herald.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--in-flight", type=int, default=32, help="report posts in flight at once")
    args = parser.parse_args()

    from herald.corebank.demo import create_demo_database

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        create_demo_database(f"sqlite:///{folder / 'fineract.sqlite'}", clients=10, today=date(2026, 11, 25))
        prefill(folder, "herald.sqlite", args.reports, AT)
        prefill(folder, "baseline.sqlite", args.reports, AT)
        bodies = forms(args.reports)
        from herald.demo.servers import free_port

        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "herald", "serve", "--port", str(port)],
            env=os.environ | environment(folder, "herald.sqlite", AT),
        )
        try:
            _wait_for(port)
            url = f"http://127.0.0.1:{port}/webhooks/at?secret={SECRET}"
            seconds = asyncio.run(push(url, bodies, args.in_flight, FORM))
        finally:
            server.terminate()
            server.wait(10)
        done = delivered(folder, "herald.sqlite")
        floor = baseline(folder, args.reports)
        floor_done = delivered(folder, "baseline.sqlite")

    rate = args.reports / seconds
    print(f"delivered: {done:,} of {args.reports:,} (baseline store: {floor_done:,})")
    print(
        f"herald webhook: {args.reports:,} reports, one per request, {args.in_flight} in flight: "
        f"{seconds:.2f} s = {rate:,.0f} reports/s applied"
    )
    print(f"baseline, keep() per report alone (no HTTP, no parsing): {args.reports / floor:,.0f} reports/s")
    print(f"target: >= {TARGET:,} reports/s -> {'MET' if rate >= TARGET and done == args.reports else 'MISSED'}")
    print(f"command: {COMMAND}")


if __name__ == "__main__":
    main()
