"""Benchmark: messages per second through the fake Twilio, herald's TwilioProvider against the official SDK's loop.

The fake runs in its own process (`python -m herald.fakes.twilio`) with a fixed latency per request,
so client and server do not share one event loop or one core. herald sends every message through
`TwilioProvider.send()` in batches of `max_batch`, a few batches at once as the send job runs them,
with `max_in_flight` requests open. The `twilio` SDK sends one message after another, which is how
it is used in a plain loop; it is measured on a sample and its time for the full run extrapolated.

    .venv/bin/python bench/twilio_throughput.py --messages 100000 --latency 0.05 --max-in-flight 256
"""

from __future__ import annotations

import argparse
import asyncio
import math
import subprocess
import sys
import time
from datetime import UTC, datetime

from pydantic import SecretStr

from herald.demo_services import free_port
from herald.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN
from herald.providers.base import OutboundMessage
from herald.providers.config import TwilioSettings
from herald.providers.registry import build_provider

TARGET_RATIO = 50.0
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


async def run_herald(url: str, messages: list[OutboundMessage], max_in_flight: int) -> tuple[float, int]:
    """Seconds for all messages and how many were refused."""
    settings = TwilioSettings(
        name="bench",
        account_sid=ACCOUNT_SID,
        auth_token=SecretStr(AUTH_TOKEN),
        from_number=SENDER,
        base_url=url,
        max_in_flight=max_in_flight,
        timeout=30,
    )

    async def no_sink(name: str, reports: object) -> None:
        return None

    provider = build_provider(settings, now=lambda: datetime.now(UTC), public_url=None, report_sink=no_sink)
    size = provider.max_batch
    batches = [messages[i : i + size] for i in range(0, len(messages), size)]
    # Enough batches at once to keep max_in_flight requests open while one batch waits for its slowest.
    workers = math.ceil(max_in_flight / size) + 1
    queue: asyncio.Queue[list[OutboundMessage]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)
    refused = 0

    async def worker() -> None:
        nonlocal refused
        while not queue.empty():
            results = await provider.send(queue.get_nowait())
            refused += sum(1 for r in results if not r.accepted)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed = time.perf_counter() - started
    await provider.close()
    return elapsed, refused


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
    parser.add_argument("--max-in-flight", type=int, default=256)
    parser.add_argument("--sdk-sample", type=int, default=1_000, help="messages the SDK sends (then extrapolated)")
    args = parser.parse_args()

    port = free_port()
    fake = start_fake(port, args.latency)
    url = f"http://127.0.0.1:{port}"
    try:
        messages = _messages(args.messages)
        herald_s, refused = asyncio.run(run_herald(url, messages, args.max_in_flight))
        sample = messages[: args.sdk_sample]
        sdk_s = run_sdk(url, sample)
    finally:
        fake.terminate()
        fake.wait(timeout=10)

    herald_rate = args.messages / herald_s
    sdk_rate = len(sample) / sdk_s
    ratio = herald_rate / sdk_rate
    print(f"fake Twilio in its own process, {args.latency * 1000:g} ms per request")
    print(
        f"herald TwilioProvider: {args.messages:,} messages in {herald_s:.1f} s = {herald_rate:,.0f} msg/s "
        f"(max_in_flight {args.max_in_flight}, refused {refused})"
    )
    print(
        f"twilio SDK loop:       {len(sample):,} messages in {sdk_s:.1f} s = {sdk_rate:,.1f} msg/s "
        f"(sample; {args.messages:,} would take about {args.messages / sdk_rate / 60:.0f} min, extrapolated)"
    )
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"ratio: {ratio:,.0f}x  (target >= {TARGET_RATIO:g}x: {verdict})")


if __name__ == "__main__":
    main()
