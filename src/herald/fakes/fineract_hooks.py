"""A stand-in for Fineract's tellers: it books repayments and deposits in the demo database and posts the hooks.

Each event is written to the (demo) core-banking database first, as Fineract commits a command
before it publishes the hook, then POSTed to herald's hook URL with Fineract's headers and body.
Used by the demo and the hook benchmark; `python -m herald.fakes.fineract_hooks` runs it alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import aiohttp
from sqlalchemy import Engine, create_engine, func, insert, select

from herald.corebank import schema
from herald.corebank.codes import LoanStatus
from herald.corebank.demo_receipts import receipt_number


@dataclass
class HookStats:
    sent: int = 0
    refused: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds from POST to herald's answer


class FineractHookSimulator:
    """Books events in the demo database and posts them to herald at `rate` hooks per second."""

    def __init__(
        self,
        corebank_url: str,
        hook_url: str,
        *,
        tenant: str = "default",
        seed: int = 1,
        today: date | None = None,
        failed_ratio: float = 0.0,
    ) -> None:
        self.engine: Engine = create_engine(corebank_url)
        if self.engine.dialect.name == "sqlite":
            # Fineract's databases let herald read while tellers write; a SQLite file needs WAL for that.
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        self.hook_url = hook_url
        self.tenant = tenant
        self.rng = random.Random(seed)
        self.today = today or datetime.now(UTC).date()
        self.failed_ratio = failed_ratio
        self.stats = HookStats()
        with self.engine.connect() as conn:
            self._loans = [
                (r.id, r.client_id)
                for r in conn.execute(
                    select(schema.m_loan.c.id, schema.m_loan.c.client_id).where(
                        schema.m_loan.c.loan_status_id == LoanStatus.ACTIVE, schema.m_loan.c.client_id.is_not(None)
                    )
                )
            ]
            self._next_txn = int(conn.execute(select(func.max(schema.m_loan_transaction.c.id))).scalar() or 0) + 1
            self._next_detail = int(conn.execute(select(func.max(schema.m_payment_detail.c.id))).scalar() or 0) + 1
        if not self._loans:
            raise ValueError("the demo database has no active loans to repay")

    def book_repayment(self, chosen: int | None = None) -> dict[str, Any]:
        """Write one repayment as Fineract would and return the hook body it publishes."""
        loan_id, client_id = self.rng.choice(self._loans)
        txn_id, self._next_txn = self._next_txn, self._next_txn + 1
        amount = Decimal(chosen if chosen is not None else self.rng.choice([500, 750, 1000, 1500, 2500, 4000]))
        now = datetime.now(UTC).replace(tzinfo=None)
        receipt = receipt_number("LR", txn_id)  # an M-Pesa repayment carries its receipt, as the teller enters it
        detail_id = None
        with self.engine.begin() as conn:
            if receipt is not None:
                detail_id, self._next_detail = self._next_detail, self._next_detail + 1
                conn.execute(
                    insert(schema.m_payment_detail).values(id=detail_id, payment_type_id=2, receipt_number=receipt)
                )
            conn.execute(
                insert(schema.m_loan_transaction).values(
                    id=txn_id,
                    loan_id=loan_id,
                    payment_detail_id=detail_id,
                    office_id=1,
                    is_reversed=False,
                    transaction_type_enum=2,
                    transaction_date=self.today,
                    submitted_on_date=self.today,
                    amount=amount,
                    created_by=1,
                    created_on_utc=now,
                    last_modified_on_utc=now,
                )
            )
        text = self.today.strftime("%d %B %Y")
        request = {
            "transactionDate": text,
            "transactionAmount": int(amount),
            "paymentTypeId": 2,
            "note": "M-Pesa",
            **({"receiptNumber": receipt} if receipt is not None else {}),
            "locale": "en",
            "dateFormat": "dd MMMM yyyy",
        }
        body: dict[str, Any] = {
            "entityName": "LOAN",
            "actionName": "REPAYMENT",
            "createdBy": 7,
            "createdByName": "teller.nairobi",
            "createdByFullName": "Grace Achieng",
            "request": request,
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        if self.rng.random() >= self.failed_ratio:  # a failed command carries no response (Fineract's shape)
            changes = request | {"transactionAmount": str(int(amount))}
            body |= {
                "officeId": 1,
                "clientId": client_id,
                "response": {"clientId": client_id, "loanId": loan_id, "resourceId": txn_id, "changes": changes},
            }
        return body

    async def post(self, session: aiohttp.ClientSession, body: dict[str, Any]) -> None:
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "X-Fineract-Entity": body["entityName"],
            "X-Fineract-Action": body["actionName"],
            "Fineract-Platform-TenantId": self.tenant,
        }
        started = time.perf_counter()
        try:
            async with session.post(self.hook_url, data=json.dumps(body), headers=headers) as answer:
                await answer.read()
                ok = answer.status < 300
        except aiohttp.ClientError:
            ok = False
        self.stats.latencies.append(time.perf_counter() - started)
        if ok:
            self.stats.sent += 1
        else:
            self.stats.refused += 1

    async def run(
        self,
        rate: float,
        count: int,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        amounts: Callable[[int], int] | None = None,
        in_order: bool = False,
    ) -> None:
        """Post `count` repayment hooks at `rate` per second (each posted without waiting for the previous,
        unless `in_order`: the demo's, so that the same seed gives herald the hooks in the same order).

        `amounts(n)` chooses the n-th amount (the benchmark makes every amount unique to trace it).
        """
        tasks: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            start = time.perf_counter()
            for n in range(count):
                delay = start + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                body = await asyncio.to_thread(self.book_repayment, amounts(n) if amounts else None)
                if on_event is not None:
                    on_event(body)
                if in_order:
                    await self.post(session, body)
                    continue
                task = asyncio.create_task(self.post(session, body))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.gather(*tasks)

    def close(self) -> None:
        self.engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Post Fineract repayment hooks to herald.")
    parser.add_argument("--corebank", default="sqlite:///var/fineract-demo.sqlite")
    parser.add_argument(
        "--url", required=True, help="herald's hook URL, e.g. http://127.0.0.1:8080/fineract/hooks/<secret>/"
    )
    parser.add_argument("--rate", type=float, default=5.0, help="hooks per second")
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--tenant", default="default")
    args = parser.parse_args(argv)
    simulator = FineractHookSimulator(args.corebank, args.url, tenant=args.tenant)
    asyncio.run(simulator.run(args.rate, args.count))
    print(f"posted {simulator.stats.sent} hooks, {simulator.stats.refused} refused")
    simulator.close()


if __name__ == "__main__":
    main()
