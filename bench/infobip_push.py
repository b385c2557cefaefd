"""Benchmark: Infobip delivery-report batches pushed to herald's webhook endpoint, applied to its SQLite store.

herald (`herald serve`, the real FastAPI app under uvicorn) runs in its own process on a database
pre-filled with messages waiting for their report. The client posts Infobip-shaped report batches
(`{"results": [...]}`, built by the fake's wire module) with several requests in flight; herald
answers 200 only once a batch is committed, so the last answer means every report is applied.
Target: >= 5,000 reports/s. The baseline, measured in the same run, is `reports.record` called
directly on the same number of reports (no HTTP, no parsing): the ratio is what the endpoint costs.

    .venv/bin/python bench/infobip_push.py --reports 100000 --batch 250 --in-flight 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

TARGET = 5_000
COMMAND = "python bench/infobip_push.py --reports 100000 --batch 250 --in-flight 8"
SECRET = "bench-secret"


INFOBIP = {
    "kind": "infobip",
    "name": "infobip",
    "base_url": "http://127.0.0.1:9",
    "api_key": "unused",
    "sender": "MFIBank",
    "webhook_secret": SECRET,
}


def environment(folder: Path, name: str, provider: dict[str, Any] = INFOBIP) -> dict[str, str]:
    return {
        "HERALD_HOME": str(folder),
        "HERALD_DATABASE_URL": f"sqlite:///{folder / name}",
        "HERALD_COREBANK_URL": f"sqlite:///{folder / 'fineract.sqlite'}",
        "HERALD_PROVIDERS": json.dumps([provider]),
    }


def prefill(folder: Path, name: str, n: int, provider: dict[str, Any] = INFOBIP) -> None:
    """A store with `n` messages of an active campaign, accepted by the provider as herald-<id>-1."""
    from herald.app import Herald
    from herald.config import Settings
    from herald.domain.sending import Accepted
    from herald.services import campaigns
    from herald.services.campaigns import CampaignRequest
    from herald.services.preview import PreviewSettings
    from herald.store import messages as message_store

    env = environment(folder, name, provider)
    settings = Settings(
        home=folder,
        database_url=env["HERALD_DATABASE_URL"],
        corebank_url=env["HERALD_COREBANK_URL"],
        providers=env["HERALD_PROVIDERS"],
    )
    herald = Herald.build(settings)
    request = {
        "campaignName": "Bench",
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": 1},
        "message": "Dear client, your instalment is due on 5 Dec.",
        "providerId": provider["name"],
    }
    campaign = campaigns.activate(
        campaigns.create(
            CampaignRequest.model_validate(request),
            store=herald.store,
            corebanks=herald.corebanks,
            providers=herald.providers,
            clock=herald.clock,
            calendar=herald.calendar,
        ).id,
        store=herald.store,
        corebanks=herald.corebanks,
        calendar=herald.calendar,
        offices=herald.offices,
        clock=herald.clock,
        preview_settings=PreviewSettings.of(herald.settings),
    )
    now = datetime.now(UTC)
    with herald.store.begin() as conn:
        body, name = "Dear client, your instalment is due on 5 Dec.", provider["name"]
        rows = [
            (campaign.id, f"c{i}", i, 1, f"+2547{i:08d}", body, 100, None, "GSM-7", 1, name, 0, now, now, None)
            for i in range(1, n + 1)
        ]
        message_store.insert_new(conn, rows)
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM messages ORDER BY id")]
        message_store.mark_accepted(conn, [Accepted(i, name, f"herald-{i}-1") for i in ids], now)
    herald.close()


def bodies(n: int, batch: int) -> list[bytes]:
    """Report batches for herald-1-1 ... herald-n-1, every one DELIVERED_TO_HANDSET, as Infobip pushes them."""
    from herald.fakes.infobip_wire import FakeMessage, report, timestamp

    sent = timestamp()
    results = [
        report(
            FakeMessage(
                f"herald-{i}-1", "bulk-1", f"2547{i:08d}", "MFIBank", "x", "v3", None, sent, "DELIVERED_TO_HANDSET"
            )
        )
        for i in range(1, n + 1)
    ]
    return [json.dumps({"results": results[i : i + batch]}).encode() for i in range(0, n, batch)]


async def push(url: str, payloads: list[bytes], in_flight: int, headers: dict[str, str] | None = None) -> float:
    """POST every payload, `in_flight` at once; the seconds until the last 200 (anything else stops the run)."""
    import aiohttp

    gate = asyncio.Semaphore(in_flight)
    headers = headers or {"Content-Type": "application/json", "User-Agent": "Infobip"}

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:

        async def one(body: bytes) -> None:
            async with gate, http.post(url, data=body, headers=headers) as answer:
                text = await answer.text()
                if answer.status != 200:
                    raise SystemExit(f"herald answered {answer.status}: {text}")

        started = time.perf_counter()
        await asyncio.gather(*(one(b) for b in payloads))
        return time.perf_counter() - started


def baseline(folder: Path, payloads: list[bytes]) -> float:
    """The same reports applied by `reports.record` directly, one transaction per batch."""
    from herald.app import Herald
    from herald.config import Settings
    from herald.domain.reports import DeliveryReport
    from herald.store import reports as report_store

    env = environment(folder, "baseline.sqlite")
    herald = Herald.build(Settings(home=folder, database_url=env["HERALD_DATABASE_URL"]))
    at = datetime.now(UTC)
    batches: list[list[DeliveryReport]] = []
    for body in payloads:
        batches.append([DeliveryReport(r["messageId"], _delivered(), at) for r in json.loads(body)["results"]])
    started = time.perf_counter()
    for batch in batches:
        with herald.store.begin() as conn:
            report_store.record(conn, "infobip", batch, at)
    seconds = time.perf_counter() - started
    herald.close()
    return seconds


def _delivered() -> Any:
    from herald.domain.message import MessageStatus

    return MessageStatus.DELIVERED


def delivered(folder: Path, name: str) -> int:
    import sqlite3

    with sqlite3.connect(folder / name) as db:
        return int(db.execute("SELECT count(*) FROM messages WHERE status = 300").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=250, help="results per pushed request (Infobip's default: 100)")
    parser.add_argument("--in-flight", type=int, default=8, help="pushes in flight at once")
    args = parser.parse_args()

    from herald.corebank.demo import create_demo_database

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        create_demo_database(f"sqlite:///{folder / 'fineract.sqlite'}", clients=10, today=date(2026, 11, 25))
        prefill(folder, "herald.sqlite", args.reports)
        prefill(folder, "baseline.sqlite", args.reports)
        payloads = bodies(args.reports, args.batch)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-m", "herald", "serve", "--port", str(port)],
            env=os.environ | environment(folder, "herald.sqlite"),
        )
        try:
            _wait_for(port)
            url = f"http://127.0.0.1:{port}/webhooks/infobip?secret={SECRET}"
            seconds = asyncio.run(push(url, payloads, args.in_flight))
        finally:
            server.terminate()
            server.wait(10)
        done = delivered(folder, "herald.sqlite")
        floor = baseline(folder, payloads)
        floor_done = delivered(folder, "baseline.sqlite")

    rate = args.reports / seconds
    print(f"delivered: {done:,} of {args.reports:,} (baseline store: {floor_done:,})")
    print(
        f"herald webhook: {args.reports:,} reports in {len(payloads)} pushes of {args.batch}, "
        f"{args.in_flight} in flight: {seconds:.2f} s = {rate:,.0f} reports/s applied"
    )
    print(f"baseline, reports.record alone (no HTTP, no parsing): {args.reports / floor:,.0f} reports/s")
    print(f"ratio webhook / store alone: {floor / seconds:.2f}")
    print(f"target: >= {TARGET:,} reports/s -> {'MET' if rate >= TARGET and done == args.reports else 'MISSED'}")
    print(f"command: {COMMAND}")


def _wait_for(port: int) -> None:
    for _ in range(300):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit("herald serve did not start")


if __name__ == "__main__":
    main()
