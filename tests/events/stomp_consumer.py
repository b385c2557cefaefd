"""A consumer process for the kill -9 test: StompSource with a handle that records each batch, then stalls.

    python -m tests.events.stomp_consumer HOST PORT QUEUE RECORD_FILE BATCH_MOST

Each batch's bodies (hex, one a line) are appended to RECORD_FILE and flushed to disk before
`handle` returns. The first batch returns at once (so it is acknowledged); every later batch
stalls in `handle` for an hour, so a kill -9 lands while its messages are unacknowledged.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence

from herald.events.stomp import StompSource
from herald.events.transport import Delivery


def main() -> None:
    host, port, queue_name, record, batch_most = sys.argv[1:6]
    batches = 0

    def handle(batch: Sequence[Delivery]) -> None:
        nonlocal batches
        batches += 1
        with open(record, "a") as out:
            out.writelines(f"{batches} {d.body.hex()}\n" for d in batch)
            out.flush()
            os.fsync(out.fileno())
        if batches > 1:
            time.sleep(3600)

    # batch_window long enough that each batch is exactly batch_most messages when that many are queued
    source = StompSource(host, int(port), queue_name, batch_most=int(batch_most), batch_window=2.0)
    source.run(handle, threading.Event())


if __name__ == "__main__":
    main()
