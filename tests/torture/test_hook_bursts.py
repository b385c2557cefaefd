"""Hooks in a burst: every repayment hook posted three times at once, hooks that make nothing among them.

`herald serve` stores hooks that arrive together in one batch (services/hook_batches.py); this
attacks what batching could break: a repeat of a hook in the same batch or the next, a hook the
rule cannot use beside good ones, every answer about its own hook. Counted at the provider.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from herald.demo.servers import free_port
from herald.domain.message import MessageStatus
from herald.fakes.fineract_hooks import FineractHookSimulator
from tests.torture.conftest import sqlite_url
from tests.torture.harness import scenario

pytestmark = pytest.mark.xdist_group("torture-load")

REPAYMENTS = 150
COPIES = 3  # Fineract's retries, a second hook on the same event, a proxy replaying: the same body again
UNUSABLE = 8  # of each kind
SECRET = "burst-hook-secret"


async def _post_all(url: str, bodies: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """POST every body at once (one connection each, up to 200 open), answers in the bodies' order."""
    start = asyncio.Event()

    async def one(session: aiohttp.ClientSession, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        await start.wait()
        headers = {
            "Content-Type": "application/json",
            "X-Fineract-Entity": body["entityName"],
            "X-Fineract-Action": body["actionName"],
            "Fineract-Platform-TenantId": "default",
        }
        async with session.post(url, data=json.dumps(body), headers=headers) as answer:
            return answer.status, await answer.json()

    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        tasks = [asyncio.create_task(one(session, body)) for body in bodies]
        await asyncio.sleep(0.05)
        start.set()
        return await asyncio.gather(*tasks)


def test_a_burst_of_repeated_and_unusable_hooks_sends_each_repayment_once(tmp_path: Path, demo_corebank: Path) -> None:
    with scenario(tmp_path, sqlite_url(tmp_path), demo_corebank) as s:
        s.provider("primary", latency=0.005)
        s.triggered_campaign("Repaid", "primary")
        port = free_port()
        s.wait_started(s.start_serve(port, SECRET))
        assert s.wait_for(lambda: _listening(port), 20.0), "herald serve did not listen"
        url = f"http://127.0.0.1:{port}/fineract/hooks/{SECRET}/"
        tellers = FineractHookSimulator(f"sqlite:///{s.corebank}", url)
        try:  # every amount differs, so every text does: the provider's log says which came twice
            good = [tellers.book_repayment(1000 + n) for n in range(REPAYMENTS)]
        finally:
            tellers.close()
        odd: list[tuple[str, dict[str, Any]]] = []  # hooks that must make nothing, beside the good ones
        for k, body in enumerate(good[: 3 * UNUSABLE]):
            response = dict(body["response"])
            kind = ("malformed", "unknown", "failed")[k % 3]
            if kind == "malformed":  # refused with the reason
                response["resourceId"] = "R-17"
            elif kind == "unknown":  # a transaction the core bank does not have: nothing to say
                response["resourceId"] = 10**9 + k
            else:  # Fineract's shape of a command that failed: no resourceId
                del response["resourceId"]
            odd.append((kind, body | {"response": response}))
        posts: list[tuple[int | str, dict[str, Any]]] = [
            (n, body) for n, body in enumerate(good) for _ in range(COPIES)
        ]
        posts += odd
        random.Random(7).shuffle(posts)
        answers = asyncio.run(_post_all(url, [body for _, body in posts]))

        created: dict[int, int] = {}
        duplicates: dict[int, int] = {}
        for (n, _), (status, answer) in zip(posts, answers, strict=True):
            if n == "malformed":
                assert status == 400 and "resourceId" in answer["error"]["message"], (status, answer)
            elif n == "failed":
                assert status == 200 and "ignored" in answer, (status, answer)
            elif n == "unknown":
                assert status == 200 and (answer["created"], answer["duplicates"]) == (0, 0), (status, answer)
            else:
                assert isinstance(n, int) and status == 200, (status, answer)
                assert answer["campaigns"] == 1, answer
                created[n] = created.get(n, 0) + answer["created"]
                duplicates[n] = duplicates.get(n, 0) + answer["duplicates"]
        # Each hook's answer is about that hook: one copy of each repayment made its message, the others found it.
        assert created == {n: 1 for n in range(REPAYMENTS)}
        assert duplicates == {n: COPIES - 1 for n in range(REPAYMENTS)}

        finished = s.run_until_final(time.monotonic() + 60.0)
        s.verdict(finished=finished).check()
        assert s.count_messages("Repaid") == REPAYMENTS
        # At the provider: each repayment's receipt once (demo clients without a usable number got none).
        sendable = sum(1 for r in s.rows() if r.status != MessageStatus.INVALID)
        assert s.accepted_count() == sendable > REPAYMENTS * 0.8


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
