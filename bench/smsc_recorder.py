"""The fake SMSC in a process of its own that writes, when told to stop (SIGTERM), when it answered each submit_sm.

    python bench/smsc_recorder.py PORT LATENCY OUT.json [--receipt-after S]

OUT.json is [[time.time() of the submit_sm_resp, destination], ...] for every accepted submit_sm.
No receipts are pushed unless `--receipt-after` says when (seconds after each submit), as a real SMSC
pushes one per message. "ready" on stdout
once it listens. bench/smpp_throughput.py uses it for herald and for Kannel alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

from herald.fakes.smsc import FakeSmsc

SYSTEM_ID, PASSWORD = "bench", "secret"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("latency", type=float)
    parser.add_argument("out")
    parser.add_argument("--receipt-after", type=float, default=None)
    args = parser.parse_args()
    fake = FakeSmsc(
        port=args.port, system_id=SYSTEM_ID, password=PASSWORD, latency=args.latency, receipt_after=args.receipt_after
    )
    await fake.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    answered = [[s.at.timestamp(), s.sm.destination_addr] for s in fake.submitted if s.message_id]
    await fake.close()
    with open(args.out, "w") as out:
        json.dump({"answered": answered, "arrivals": fake.arrivals, "binds": fake.binds}, out)


if __name__ == "__main__":
    asyncio.run(main())
