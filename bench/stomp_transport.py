"""Benchmark: Fineract's events through a real ActiveMQ to a handle that does nothing, against plain stomp.py.

A broker of the tests' own (tests/activemq.py, full JIT) gets N persistent BytesMessages of ~1 KB
per run. herald's StompSource takes them (one cumulative `client` ack after each batch, with a receipt per
batch). Two baselines: a plain stomp.py subscriber with `ack: auto`, which acknowledges nothing
itself and so is the most the broker and the client library give, and one that acknowledges each
message (client-individual) the moment it arrives, the ceiling for the acknowledgement mode. All
run in the same process, alternating, over fresh queues; the medians are printed. The consumer overall must drain a
backlog at 2,000 events/s, so the transport must be well above that. Also printed: how long the
broker took to start, and how long `run` took to return after `stop` was set.

    .venv/bin/python bench/stomp_transport.py --messages 20000 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the broker fixture lives with the tests

import stomp  # type: ignore[import-untyped]
from tests.activemq import Broker, activemq_broker, new_queue

from herald.events.stomp import StompSource
from herald.events.transport import Delivery

TARGET = 2000.0  # events/s the consumer as a whole must drain


def herald_run(broker: Broker, queue_name: str, count: int) -> tuple[float, float]:
    """Seconds from `run` to the count-th delivery handled (and acknowledged), and from `stop` to `run` returning."""
    seen = 0
    done = threading.Event()

    def handle(batch: Sequence[Delivery]) -> None:
        nonlocal seen
        seen += len(batch)
        if seen >= count:
            done.set()

    stop = threading.Event()
    source = StompSource(broker.host, broker.stomp_port, queue_name)
    began = time.perf_counter()
    thread = threading.Thread(target=source.run, args=(handle, stop), daemon=True)
    thread.start()
    if not done.wait(600):
        raise SystemExit(f"StompSource got {seen} of {count} messages in 600 s")
    drained = time.perf_counter() - began
    stopping = time.perf_counter()
    stop.set()
    thread.join()
    return drained, time.perf_counter() - stopping


def baseline_run(broker: Broker, queue_name: str, count: int, ack: str) -> float:
    """Seconds from subscribe to the count-th message of a plain stomp.py subscriber (`ack` auto or
    client-individual: then each message is acknowledged as it arrives, in the receiver thread, no receipts)."""
    seen = 0
    done = threading.Event()

    class Counting(stomp.ConnectionListener):  # type: ignore[misc]
        def on_message(self, frame: Any) -> None:
            nonlocal seen
            if ack != "auto":
                conn.ack(frame.headers["ack"])
            seen += 1
            if seen >= count:
                done.set()

    began = time.perf_counter()
    conn = stomp.Connection12([(broker.host, broker.stomp_port)], auto_decode=False)
    conn.set_listener("count", Counting())
    conn.connect(wait=True)
    conn.subscribe(f"/queue/{queue_name}", id="1", ack=ack, headers={"activemq.prefetchSize": "500"})
    if not done.wait(600):
        raise SystemExit(f"plain stomp.py got {seen} of {count} messages in 600 s")
    took = time.perf_counter() - began
    conn.disconnect()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--size", type=int, default=1024, help="body bytes (an envelope with a loan payload is ~1 KB)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with activemq_broker(quick_start=False) as broker:
        print(f"broker started in {broker.startup_seconds[0]:.2f} s (STOMP CONNECT answered)")
        rates: dict[str, list[float]] = {"auto": [], "client-individual": [], "herald": []}
        stops: list[float] = []
        for round_number in range(1, args.rounds + 1):
            for who in rates:
                queue_name = new_queue()
                bodies = (b"\xc3\x01" + os.urandom(args.size - 2) for _ in range(args.messages))
                sent_at = time.perf_counter()
                broker.send_many(queue_name, bodies)
                sending = time.perf_counter() - sent_at
                if who == "herald":
                    took, stopped = herald_run(broker, queue_name, args.messages)
                    stops.append(stopped)
                else:
                    took = baseline_run(broker, queue_name, args.messages, who)
                rates[who].append(args.messages / took)
                left = broker.queue_depth(queue_name)
                print(
                    f"round {round_number} {who:>17}: {args.messages / took:8.0f} msgs/s"
                    f" (sent at {args.messages / sending:.0f} msgs/s; {left} left on the queue)"
                )
        median = {who: statistics.median(values) for who, values in rates.items()}
        verdict = "ok" if median["herald"] >= 2 * TARGET else "BELOW twice the target"
        print(
            f"median: StompSource {median['herald']:.0f} msgs/s; plain stomp.py with auto ack {median['auto']:.0f},"
            f" with client-individual acks {median['client-individual']:.0f};"
            f" target for the whole consumer {TARGET:.0f}/s: {verdict}"
        )
        print(f"run returned {max(stops) * 1000:.0f} ms after stop at worst (must be < 1000)")


if __name__ == "__main__":
    main()
