"""Benchmark: activation to the first provider request, and no pause while materializing still writes.

A `herald worker` runs as users run it, in a process of its own on the default intervals (materialize
every 30 s, send every 2 s), on SQLite, with the demo core bank and a fake Twilio that notes when
each request reached it. This process creates a Direct campaign over every client and activates it
as the API does; the clock starts when the activation has committed. Counted at the far side:

- **first request**: activation to the fake's first request of that campaign (target <= 100 ms);
- **longest pause**: the longest time between two requests of the campaign from the first to the last
  (target <= 250 ms: the fake answers in `--latency`, so a pause is herald having nothing to send);
- **every message once**: requests = distinct numbers = sendable messages in herald's store.

Baseline, measured in the same run and alternated with herald's rounds: one request sent straight to
the fake from this process, the floor no sender can beat on this machine.

    .venv/bin/python bench/first_send.py --clients 100000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp

from herald.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

TARGET_FIRST_MS = 100.0
TARGET_PAUSE_MS = 250.0
TODAY = date(2026, 11, 25)
SENDER = "+12025550143"


class FarSide:
    """The fake Twilio on a loop of its own in a thread of this process: what it received, and when."""

    def __init__(self, latency: float) -> None:
        self.fake = FakeTwilio(latency=latency, push_callbacks=False)
        self.fake.record_requests = False
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.fake.start())
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        started.wait(10)

    def arrivals(self, marker: str) -> list[tuple[float, str]]:
        """(time, number) of the requests whose body carries `marker`, in the order they came."""
        return [(at, to) for at, to, body in list(self.fake.arrivals) if marker in body]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def settings(folder: Path, fake_url: str) -> Any:
    from herald.config import Settings

    provider = {
        "kind": "twilio",
        "name": "twilio",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": SENDER,
        "base_url": fake_url,
        "max_in_flight": 256,
        "timeout": 30,
        "status_callback": True,  # as Twilio is used: reports pushed (the fake pushes none), none polled
    }
    return Settings(
        home=folder,
        database_url=f"sqlite:///{folder / 'herald.sqlite'}",
        corebank_url=f"sqlite:///{folder / 'fineract.sqlite'}",
        providers=json.dumps([provider]),
        public_url="http://127.0.0.1:9",
        business_date=TODAY,
    )


def start_worker(folder: Path, herald: Any) -> subprocess.Popen[bytes]:
    """`herald worker` in its own process, then wait until it has registered (not timed)."""
    from sqlalchemy import func, select

    from herald.config import settings_environment
    from herald.store.tables import workers

    env = settings_environment(herald.settings, os.environ)
    log = (folder / "worker.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "herald", "worker"], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with herald.store.connect() as conn:
            if conn.execute(select(func.count()).select_from(workers)).scalar_one():
                time.sleep(1.0)  # its first pass over the jobs is done: an idle worker, as users have one
                return worker
        if worker.poll() is not None:
            raise SystemExit(f"herald worker stopped: {(folder / 'worker.log').read_text()[-2000:]}")
        time.sleep(0.1)
    worker.kill()
    raise SystemExit("herald worker did not register within 60 s")


def campaign(herald: Any, marker: str) -> int:
    """A pending Direct campaign to every client, its text marked to tell its requests apart."""
    from herald.services import campaigns
    from herald.services.campaigns import CampaignRequest

    request = {
        "campaignName": f"Everyone {marker}",
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": "1"},
        "message": f"Dear {{{{firstName}}}}, thank you for banking with us. {marker}",
        "providerId": "twilio",
    }
    made = campaigns.create(
        CampaignRequest.model_validate(request),
        store=herald.store,
        corebanks=herald.corebanks,
        providers=herald.providers,
        clock=herald.clock,
        calendar=herald.calendar,
    )
    return int(made.id)


def activate(herald: Any, campaign_id: int) -> float:
    """Activate as the API does; the time.time() at which it has committed."""
    from herald.services import campaigns
    from herald.services.preview import PreviewSettings

    campaigns.activate(
        campaign_id,
        store=herald.store,
        corebanks=herald.corebanks,
        calendar=herald.calendar,
        offices=herald.offices,
        clock=herald.clock,
        preview_settings=PreviewSettings.of(herald.settings),
    )
    return time.time()


def sendable(herald: Any, campaign_id: int) -> tuple[int, bool]:
    """(messages of the campaign that are not INVALID, whether materializing has finished it)."""
    from sqlalchemy import func, select

    from herald.domain.message import MessageStatus
    from herald.store.tables import campaigns, messages

    with herald.store.connect() as conn:
        count = conn.execute(
            select(func.count()).where(
                messages.c.campaign_id == campaign_id, messages.c.status != MessageStatus.INVALID
            )
        ).scalar_one()
        done = conn.execute(select(campaigns.c.last_trigger_at).where(campaigns.c.id == campaign_id)).scalar_one()
    return int(count), done is not None


def herald_round(herald: Any, far: FarSide, marker: str, timeout: float) -> dict[str, float]:
    cid = campaign(herald, marker)
    before = len(far.fake.arrivals)
    activated = activate(herald, cid)
    deadline = time.monotonic() + timeout
    while True:
        # Only a count here: this process also serves the fake, and looking closer would slow it down.
        time.sleep(0.25)
        expected, finished = sendable(herald, cid)
        if finished and expected and len(far.fake.arrivals) - before >= expected:
            time.sleep(0.5)  # anything sent twice would come now
            break
        if time.monotonic() > deadline:
            got = len(far.fake.arrivals) - before
            raise SystemExit(f"round {marker}: {got:,} of {expected:,} requests after {timeout:.0f} s")
    got = far.arrivals(marker)
    times = [at for at, _ in got]
    pauses = [b - a for a, b in itertools.pairwise(times)]
    longest = sorted(range(len(pauses)), key=pauses.__getitem__)[-3:]
    where = ", ".join(f"{pauses[i] * 1000:.0f} ms after request {i + 1:,}" for i in reversed(longest))
    return {
        "where": where,  # type: ignore[dict-item]
        "first_ms": (times[0] - activated) * 1000,
        "pause_ms": max(pauses, default=0.0) * 1000,
        "seconds": times[-1] - activated,
        "requests": len(got),
        "numbers": len({to for _, to in got}),
        "sendable": expected,
    }


def baseline_round(far: FarSide) -> float:
    """Milliseconds from this process starting one request to the fake seeing it."""

    async def one() -> float:
        async with aiohttp.ClientSession() as session:
            marker = f"baseline-{time.monotonic_ns()}"
            form = {"To": "+254712000001", "From": SENDER, "Body": marker}
            auth = aiohttp.BasicAuth(ACCOUNT_SID, AUTH_TOKEN)
            await session.get(far.fake.url)  # the connection is open, as a running sender's are
            started = time.time()
            async with session.post(
                f"{far.fake.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", data=form, auth=auth
            ) as answer:
                await answer.read()
            return (far.arrivals(marker)[0][0] - started) * 1000

    return asyncio.run(one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake adds to every request")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one round may take")
    args = parser.parse_args()
    # This process serves the fake: its garbage collector's pauses over the messages it keeps would be
    # counted as herald's pauses. herald's worker keeps its own, as it runs for users.
    gc.disable()

    from herald.app import Herald
    from herald.corebank.demo import create_demo_database
    from herald.corebank.demo_catalog import OFFICES
    from herald.services.offices import OfficeProfile, save_profiles

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"generating a demo core bank of {args.clients:,} clients (not timed) ...", flush=True)
        create_demo_database(f"sqlite:///{folder / 'fineract.sqlite'}", clients=args.clients, seed=1, today=TODAY)
        far = FarSide(args.latency)
        herald = Herald.build(settings(folder, far.fake.url))
        save_profiles(
            [OfficeProfile(o.id, o.name, o.region, o.timezone) for o in OFFICES],
            store=herald.store, corebanks=herald.corebanks, offices=herald.offices,
        )  # fmt: skip
        worker = start_worker(folder, herald)
        rounds: list[tuple[float, dict[str, float]]] = []
        try:
            for n in range(1, args.rounds + 1):
                floor = baseline_round(far)
                got = herald_round(herald, far, f"r{n}-{time.monotonic_ns()}", args.timeout)
                rounds.append((floor, got))
                print(
                    f"round {n}: baseline {floor:6.1f} ms | herald first request {got['first_ms']:7.1f} ms,"
                    f" longest pause {got['pause_ms']:7.1f} ms, {got['requests']:,.0f} requests to"
                    f" {got['numbers']:,.0f} numbers of {got['sendable']:,.0f} sendable"
                    f" in {got['seconds']:.1f} s; longest pauses: {got['where']}",
                    flush=True,
                )
        finally:
            worker.terminate()
            worker.wait(30)
            far.stop()
            herald.close()
    first = statistics.median(g["first_ms"] for _, g in rounds)
    pause = statistics.median(g["pause_ms"] for _, g in rounds)
    floor = statistics.median(f for f, _ in rounds)
    once = all(g["requests"] == g["numbers"] == g["sendable"] for _, g in rounds)
    print()
    print(f"first request after activation: {first:.1f} ms (target <= {TARGET_FIRST_MS:.0f} ms;"
          f" baseline, one request straight to the fake: {floor:.1f} ms)")  # fmt: skip
    print(f"longest pause while sending:    {pause:.1f} ms (target <= {TARGET_PAUSE_MS:.0f} ms)")
    print(f"every message exactly once:     {'yes' if once else 'NO'}")
    met = first <= TARGET_FIRST_MS and pause <= TARGET_PAUSE_MS and once
    print("targets met" if met else "targets NOT met")


if __name__ == "__main__":
    main()
