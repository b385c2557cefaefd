"""Webhook calls in a burst: Africa's Talking's reports, their repeats, STOP replies and unknown ids, all at once.

herald keeps webhook calls that arrive together in one transaction (services/batches.py), and a
provider like Africa's Talking posts one report per call, many at a time, and again when an answer
was slow. This attacks what committing them together could break: a call answered about another
call, a repeat in the same batch or the next, a refused call beside good ones, nothing lost. Over
real HTTP (uvicorn) to herald's webhook, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from herald.domain.message import MessageStatus
from herald.fakes.africastalking import FakeAfricasTalking
from herald.store import optouts
from herald.store.tables import messages, parked_reports
from herald.worker import sender_for
from tests.e2e.test_africastalking import SECRET, _campaign, _clients, _rows, _run
from tests.fineract_builder import FineractBuilder

CLIENTS = 40
COPIES = 3
REPLIERS = ["+254712000901", "+254712000902", "+254712000903"]


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_burst_of_reports_repeats_and_replies_is_kept_whole_and_each_call_is_answered_about_itself(
    tmp_path: Any, fineract: FineractBuilder, store: str, request: pytest.FixtureRequest
) -> None:
    database_url = request.getfixturevalue("pg_url") if store == "postgresql" else None
    _clients(fineract, CLIENTS)

    async def body(fake: FakeAfricasTalking, herald: Any, webhook: str) -> None:
        _campaign(herald)
        await sender_for(herald).run()
        rows = _rows(herald)
        assert len(rows) == CLIENTS and {r.status for r in rows} == {MessageStatus.WAITING_FOR_DELIVERY_REPORT}
        calls: list[tuple[str, dict[str, str]]] = []
        for r in rows:
            calls += [("report", {"id": r.external_id, "status": "Success", "phoneNumber": r.mobile_no})] * COPIES
        calls += [("unknown", {"id": f"ATXid_unknown_{n}", "status": "Failed"}) for n in range(5)]
        calls += [("refused", {"id": "x" * 500, "status": "Success"}) for _ in range(5)]
        calls += [
            ("stop", {"from": n, "to": "20880", "text": "STOP", "date": "2026-11-25 08:00:00", "id": f"in-{n}"})
            for n in REPLIERS
        ]
        random.Random(7).shuffle(calls)
        start = asyncio.Event()
        limits = httpx.Limits(max_connections=len(calls))
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:

            async def one(form: dict[str, str]) -> httpx.Response:
                await start.wait()
                return await http.post(webhook + f"?secret={SECRET}", data=form)

            tasks = [asyncio.create_task(one(form)) for _, form in calls]
            await asyncio.sleep(0.05)
            start.set()
            answers = await asyncio.gather(*tasks)
        applied = 0
        for (kind, _), answer in zip(calls, answers, strict=True):
            if kind == "refused":
                assert answer.status_code == 400, answer.text
                continue
            assert answer.status_code == 200, answer.text
            counts = answer.json()
            if kind == "stop":
                assert (counts["reports"], counts["inbound"], counts["opted_out"]) == (0, 1, 1), counts
            else:
                assert (counts["reports"], counts["inbound"]) == (1, 0), counts
                applied += counts["applied"]
                if kind == "unknown":
                    assert counts["applied"] == 0, counts
        assert applied == CLIENTS, "each message changes once, whichever of its repeats came first"
        assert {r.status for r in _rows(herald)} == {MessageStatus.DELIVERED}
        with herald.store.connect() as conn:
            assert optouts.contains(conn, REPLIERS) == set(REPLIERS)
            parked = conn.execute(select(func.count()).select_from(parked_reports)).scalar_one()
            delivered = conn.execute(
                select(func.count()).where(messages.c.status == MessageStatus.DELIVERED)
            ).scalar_one()
        assert (parked, delivered) == (5, CLIENTS)

    _run(tmp_path, fineract, body, database_url)
