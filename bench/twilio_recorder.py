"""A fake Twilio in a process of its own that writes, when told to stop (SIGTERM), when each message arrived.

    python bench/twilio_recorder.py PORT LATENCY OUT.json [--sent-after S] [--delivered-after S]

OUT.json is the fake's `arrivals`: [time.time(), To, Body] for each create, noted as the request came,
before the fake's latency. "ready" on stdout once it listens. The benchmarks of events and hooks use it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

from herald.fakes.twilio import FakeTwilio


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("latency", type=float)
    parser.add_argument("out")
    parser.add_argument("--sent-after", type=float, default=None)
    parser.add_argument("--delivered-after", type=float, default=None)
    args = parser.parse_args()
    fake = FakeTwilio(
        port=args.port, latency=args.latency, sent_after=args.sent_after, delivered_after=args.delivered_after
    )
    fake.record_requests = False
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with fake:
        print("ready", flush=True)
        await stop.wait()
    with open(args.out, "w") as out:
        json.dump(fake.arrivals, out)


if __name__ == "__main__":
    asyncio.run(main())
