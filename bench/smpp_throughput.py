"""Benchmark: SMPP sending at the window limit, herald beside Kannel on the same SMSC in the same run.

The SMSC is herald's fake (bench/smsc_recorder.py, a process of its own) answering every submit_sm
after `--latency` (20 ms), pushing no receipts (herald's runs: `--receipt-after S` pushes each
message's S seconds later, as a real SMSC does), and noting when it answered each. A window of 64
outstanding submits at 20 ms allows 64 / 0.020 = 3,200 msg/s per bind: that is the ceiling.

- herald: a Direct "Active Clients" campaign over a demo Fineract database is materialized first (not
  timed), then the job *Send messages to SMS gateway* claims, submits and records every message,
  through one bind and through `--binds` (4) binds, each with a window of 64 (`max_in_flight`).
- baseline, Kannel 1.4 (Debian's `kannel`, installed when missing): bearerbox with one SMPP
  transceiver bind (`max-pending-submits` 64) and smsbox; the same number of messages is handed to
  its sendsms interface (500 numbers a request) while the SMSC is not yet up, so its queue is full
  when the link binds, as herald's is.

The figure is the SMSC's: messages answered per second from the first answer to the last. Targets
(issue 15): herald's one bind at >= 95% of window / latency; `--binds` binds at >= 1.5x Kannel's one.
Kannel, herald with one bind and herald with `--binds` binds take turns for `--rounds` rounds; medians
decide.

    .venv/bin/python bench/smpp_throughput.py                       # 50,000 messages, 20 ms, 2 rounds
    .venv/bin/python bench/smpp_throughput.py --latency 0 --clients 16000 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/debian.py installs Kannel

from herald.demo.servers import free_port
from smsc_recorder import PASSWORD, SYSTEM_ID

WINDOW = 64
TARGET_SHARE = 0.95
TARGET_VS_KANNEL = 1.5
TODAY = date(2026, 11, 25)
TEXT = "Dear client, your instalment is due this week. Pay by M-Pesa to 123456. Thank you."
RECORDER = str(Path(__file__).with_name("smsc_recorder.py"))


@contextmanager
def smsc(port: int, latency: float, out: Path, receipt_after: float | None = None) -> Iterator[None]:
    """The recording SMSC on `port` until the block ends; its notes are in `out` afterwards."""
    receipts = [] if receipt_after is None else ["--receipt-after", str(receipt_after)]
    process = subprocess.Popen(
        [sys.executable, RECORDER, str(port), str(latency), str(out), *receipts], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            sys.exit("the fake SMSC did not start")
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def answered_rate(out: Path) -> tuple[int, float, float]:
    """(submits answered, their rate from the first answer to the last, the window the sender kept
    filled on average) from the SMSC's notes: the submits outstanding at the SMSC, on average over
    that span (the time each spent there, summed, over the span)."""
    notes = json.loads(out.read_text())
    times = sorted(at for at, _ in notes["answered"])
    if len(times) < 2:
        return len(times), 0.0, 0.0
    span = times[-1] - times[0]
    arrivals = sorted(notes["arrivals"])[: len(times)]
    held = sum(times) - sum(arrivals)  # the k-th answer goes with the k-th arrival: the same total either way
    return len(times), (len(times) - 1) / span, held / span


def _provider(port: int, binds: int) -> dict[str, Any]:
    return {
        "kind": "smpp",
        "name": "smsc",
        "host": "127.0.0.1",
        "port": port,
        "system_id": SYSTEM_ID,
        "password": PASSWORD,
        "source_addr": "MFIBank",
        "binds": binds,
        "max_in_flight": WINDOW,
    }


def herald_round(
    folder: Path, corebank: Path, latency: float, binds: int, receipt_after: float | None = None
) -> tuple[int, float, float, float]:
    """herald's send job through `binds` binds on a fresh herald database: (answered, rate, window, job seconds)."""
    from herald.app import Herald
    from herald.config import Settings
    from herald.services import campaigns
    from herald.services.campaigns import CampaignRequest
    from herald.services.loop import run_loop
    from herald.worker import outbound_for, sender_for

    port = free_port()
    settings = Settings(
        home=folder,
        database_url=f"sqlite:///{folder / 'herald.sqlite'}",
        corebank_url=f"sqlite:///{corebank}",
        business_date=TODAY,
        providers=json.dumps([_provider(port, binds)]),
    )
    herald = Herald.build(settings)
    try:
        request = {
            "campaignName": "Bench",
            "triggerType": "direct",
            "runReportId": 166,  # Active Clients
            "paramValue": {"officeId": "1"},
            "message": TEXT,
            "providerId": "smsc",
        }
        c = campaigns.create(
            CampaignRequest.model_validate(request),
            store=herald.store,
            corebanks=herald.corebanks,
            providers=herald.providers,
            clock=herald.clock,
            calendar=herald.calendar,
        )
        campaigns.activate(c.id, **herald.activation_parts())
        outbound_for(herald).run_due()  # materializing is not part of this figure
        out = folder / "smsc.json"

        async def send() -> None:
            await sender_for(herald).run()
            await herald.close_providers()

        with smsc(port, latency, out, receipt_after):
            started = time.perf_counter()
            run_loop(send())
            seconds = time.perf_counter() - started
    finally:
        herald.close()
    count, rate, window = answered_rate(out)
    return count, rate, window, seconds


def _kannel_conf(folder: Path, smsc_port: int, admin: int, box: int, sendsms: int) -> Path:
    conf, bearerbox_log, smsbox_log = folder / "kannel.conf", folder / "bearerbox.log", folder / "smsbox.log"
    conf.write_text(
        f"""group = core
admin-port = {admin}
admin-password = bench
smsbox-port = {box}
log-file = "{bearerbox_log}"
log-level = 4
box-allow-ip = 127.0.0.1
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = bench
host = 127.0.0.1
port = {smsc_port}
transceiver-mode = true
smsc-username = {SYSTEM_ID}
smsc-password = {PASSWORD}
system-type = ""
source-addr-ton = 5
source-addr-npi = 0
dest-addr-ton = 1
dest-addr-npi = 1
max-pending-submits = {WINDOW}
reconnect-delay = 1
log-level = 4

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {box}
sendsms-port = {sendsms}
log-file = "{smsbox_log}"
log-level = 4

group = sendsms-user
username = bench
password = bench
max-messages = 1

group = sms-service
keyword = default
text = "herald bench"
"""
    )
    return conf


def _wait_port(port: int, seconds: float = 30) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    sys.exit(f"nothing listens on 127.0.0.1:{port} after {seconds:.0f} s")


def _sms_sent(admin: int) -> tuple[int, int]:
    """(sent, queued for sending) from bearerbox's status page: "SMS: received .., sent 12 (500 queued)"."""
    with urllib.request.urlopen(f"http://127.0.0.1:{admin}/status.txt?password=bench", timeout=10) as r:
        status = r.read().decode()
    found = re.search(r"^SMS: received \d+ \(\d+ queued\), sent (\d+) \((\d+) queued\)", status, re.M)
    if found is None:
        sys.exit(f"bearerbox's status page has no SMS line: {status[:300]!r}")
    return int(found[1]), int(found[2])


def kannel_round(folder: Path, latency: float, count: int) -> tuple[int, float, float, float]:
    """Kannel's one bind: `count` messages queued first, then the SMSC comes up; (answered, rate, window,
    seconds)."""
    smsc_port, admin, box, sendsms = free_port(), free_port(), free_port(), free_port()
    conf = _kannel_conf(folder, smsc_port, admin, box, sendsms)
    bearerbox = subprocess.Popen(["bearerbox", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    smsbox = None
    try:
        _wait_port(box)
        smsbox = subprocess.Popen(["smsbox", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(sendsms)
        numbers = [f"25670{n:07d}" for n in range(count)]
        for start in range(0, count, 500):
            query = urllib.parse.urlencode(
                {
                    "username": "bench",
                    "password": "bench",
                    "from": "MFIBank",
                    "to": " ".join(numbers[start : start + 500]),
                    "text": TEXT,
                }
            )
            with urllib.request.urlopen(f"http://127.0.0.1:{sendsms}/cgi-bin/sendsms?{query}", timeout=60) as r:
                r.read()
        deadline = time.monotonic() + 120
        while _sms_sent(admin)[1] < count and time.monotonic() < deadline:
            time.sleep(0.2)
        out = folder / "smsc.json"
        with smsc(smsc_port, latency, out):
            started = time.perf_counter()
            while _sms_sent(admin)[0] < count and time.perf_counter() - started < 600:
                time.sleep(0.1)
            seconds = time.perf_counter() - started
    finally:
        for box_process in (smsbox, bearerbox):
            if box_process is not None:
                box_process.terminate()
                box_process.wait(30)
    answered, rate, window = answered_rate(out)
    return answered, rate, window, seconds


def _kannel_ready() -> None:
    if shutil.which("bearerbox") and shutil.which("smsbox"):
        return
    from tests.debian import apt_install

    print("installing Kannel from Debian (apt-get install kannel) ...", flush=True)
    apt_install("kannel")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=76_000, help="demo clients (Active Clients: ~50,000 sendable)")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds the SMSC waits before each answer")
    parser.add_argument("--binds", type=int, default=4, help="herald's binds in the second herald run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--corebank", type=Path, default=None, help="reuse a demo Fineract database made earlier")
    parser.add_argument(
        "--receipt-after", type=float, default=None, help="the SMSC pushes each message's receipt this many s later"
    )
    args = parser.parse_args()
    _kannel_ready()
    from herald.corebank.demo import create_demo_database

    results: dict[str, list[float]] = {"kannel": [], "herald 1 bind": [], f"herald {args.binds} binds": []}
    with tempfile.TemporaryDirectory() as tmp:
        corebank = args.corebank or Path(tmp) / "fineract.sqlite"
        if args.corebank is None:
            started = time.perf_counter()
            create_demo_database(f"sqlite:///{corebank}", clients=args.clients, seed=1, today=TODAY)
            print(f"demo Fineract database of {args.clients:,} clients in {time.perf_counter() - started:.1f} s"
                  " (not timed)", flush=True)  # fmt: skip
        expected = 0
        for n in range(args.rounds):
            for name, binds in (("herald 1 bind", 1), (f"herald {args.binds} binds", args.binds), ("kannel", 0)):
                folder = Path(tmp) / f"round{n}-{binds}"
                folder.mkdir()
                if binds:
                    count, rate, window, seconds = herald_round(
                        folder, corebank, args.latency, binds, args.receipt_after
                    )
                    expected = expected or count
                else:
                    count, rate, window, seconds = kannel_round(folder, args.latency, expected)
                complete = "" if count == expected else f", NOT every message ({count:,} of {expected:,})"
                print(f"round {n + 1}: {name}: {count:,} answered at {rate:,.0f} msg/s, {window:.1f} outstanding on"
                      f" average ({seconds:.1f} s){complete}",
                      flush=True)  # fmt: skip
                results[name].append(rate if count == expected else 0.0)
    ceiling = WINDOW / args.latency if args.latency else None
    names = ("herald 1 bind", f"herald {args.binds} binds", "kannel")
    one, many, kannel = (statistics.median(results[k]) for k in names)
    print(f"herald, 1 bind (median of {args.rounds}): {one:,.0f} msg/s", end="")
    if ceiling:
        share = one / ceiling
        print(f" = {share:.0%} of window/latency ({ceiling:,.0f}); target >= {TARGET_SHARE:.0%}:"
              f" {'met' if share >= TARGET_SHARE else 'NOT met'}")  # fmt: skip
    else:
        print()
    ratio = many / kannel if kannel else 0.0
    print(f"herald, {args.binds} binds: {many:,.0f} msg/s = {ratio:.2f}x Kannel's one bind; target >= "
          f"{TARGET_VS_KANNEL}x: {'met' if ratio >= TARGET_VS_KANNEL else 'NOT met'}")  # fmt: skip
    print(f"baseline, Kannel 1 bind (window {WINDOW}): {kannel:,.0f} msg/s")


if __name__ == "__main__":
    main()
