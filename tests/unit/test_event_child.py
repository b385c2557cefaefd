"""The worker's side of its event consumer process (`EventChild`), against real child processes.

The child here is a small Python program standing in for `herald events consume --for-worker`: what
is under test is how the worker reads, restarts and ends whatever runs there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import pytest

from herald.services.event_stream import EventChild


class Submitted:
    """Where EventChild hands the ids it read (the worker's ImmediateSender in herald)."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    def submit(self, ids: list[int]) -> None:
        self.ids.extend(ids)


def _child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


async def _run_until(child: EventChild, done: asyncio.Future[None] | None = None, seconds: float = 20.0) -> None:
    task = asyncio.create_task(child.run(grace=2.0))
    try:
        if done is not None:
            await asyncio.wait_for(done, seconds)
        else:
            await asyncio.sleep(seconds)
    finally:
        child.stop()
        await asyncio.wait_for(task, 10)


def test_reports_are_sent_a_line_that_is_no_report_is_ignored_and_a_dead_child_is_started_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # each run says a stray line, then one report, then dies: the worker must send the ids of every run
    code = (
        "import sys; sys.stdout.write('not json\\n{\"pending\": \"x\"}\\n');"
        " sys.stdout.write('{\"pending\": [1, 2], \"events\": 2, \"created\": 2, \"parked\": 0}\\n'); sys.exit(3)"
    )
    sent = Submitted()

    async def scenario() -> None:
        child = EventChild(sent, os.environ, argv=_child(code))  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        twice: asyncio.Future[None] = loop.create_future()

        async def watch() -> None:
            while len(sent.ids) < 4:
                await asyncio.sleep(0.05)
            twice.set_result(None)

        watcher = asyncio.create_task(watch())
        await _run_until(child, twice)
        watcher.cancel()

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert sent.ids[:4] == [1, 2, 1, 2]  # the second run's report came after a restart
    assert "ended with code 3; starting it again" in caplog.text
    assert "not its report" in caplog.text


def test_a_consumer_that_cannot_start_is_tried_again_and_stop_still_ends_the_worker_side(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent = Submitted()

    async def scenario() -> None:
        child = EventChild(sent, os.environ, argv=["/nonexistent/herald-python"])  # type: ignore[arg-type]
        await _run_until(child, seconds=1.5)

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert "did not start" in caplog.text and "starting it again" in caplog.text
    assert sent.ids == []


def test_stop_closes_the_childs_stdin_and_a_child_that_ignores_it_is_killed() -> None:
    # a child that never reads its stdin and ignores SIGTERM: asked, told, then killed
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"
    sent = Submitted()
    pids: list[int] = []

    async def scenario() -> None:
        child = EventChild(sent, os.environ, argv=_child(code))  # type: ignore[arg-type]
        task = asyncio.create_task(child.run(grace=0.5))
        while child.pid is None:
            await asyncio.sleep(0.02)
        pids.append(child.pid)
        child.stop()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)
