"""Crafted Fineract rows for end-to-end tests: a small builder over the core-banking schema."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, create_engine, insert

from herald.corebank import schema
from herald.corebank.schema import metadata

STAMP = datetime(2026, 1, 1, 0, 0)


class FineractBuilder:
    """Creates the schema in a fresh database and inserts just the rows a test names."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        metadata.create_all(self.engine)
        self._ids = itertools.count(1)
        with self.engine.begin() as conn:
            conn.execute(insert(schema.m_appuser).values(id=1, username="mifos"))
            conn.execute(
                insert(schema.m_office).values(
                    id=1, parent_id=None, hierarchy=".", name="Head Office", opening_date=date(2020, 1, 1)
                )
            )
            conn.execute(
                insert(schema.m_product_loan).values(
                    id=1,
                    short_name="GL",
                    name="Group Loan KES",
                    currency_code="KES",
                    currency_digits=2,
                    repay_every=1,
                    repayment_period_frequency_enum=1,
                    number_of_repayments=12,
                )
            )

    def _insert(self, table: Any, **values: Any) -> int:
        values.setdefault("id", next(self._ids) + 100)
        with self.engine.begin() as conn:
            conn.execute(insert(table).values(**values))
        return int(values["id"])

    def office(self, name: str, parent_hierarchy: str = ".") -> int:
        oid = next(self._ids) + 1
        return self._insert(
            schema.m_office,
            id=oid,
            parent_id=1,
            hierarchy=f"{parent_hierarchy}{oid}.",
            name=name,
            opening_date=date(2020, 1, 1),
        )

    def client(
        self,
        first: str,
        mobile: str | None,
        *,
        office_id: int = 1,
        status: int = 300,
        dob: date | None = None,
        **columns: Any,
    ) -> int:
        cid = next(self._ids) + 1000
        return self._insert(
            schema.m_client,
            id=cid,
            account_no=f"{cid:09d}",
            status_enum=status,
            office_id=office_id,
            firstname=first,
            lastname="Wanjiru",
            display_name=f"{first} Wanjiru",
            mobile_no=mobile,
            date_of_birth=dob,
            **({"activation_date": date(2024, 1, 1)} | columns),  # e.g. activation_date, rejectedon_date
            created_on_utc=STAMP,
            last_modified_on_utc=STAMP,
        )

    def loan(
        self,
        client_id: int,
        *,
        status: int = 300,
        principal: str = "10000",
        outstanding: str = "6000",
        **columns: Any,
    ) -> int:
        lid = next(self._ids) + 5000
        return self._insert(
            schema.m_loan,
            id=lid,
            account_no=f"L{lid:08d}",
            client_id=client_id,
            product_id=1,
            loan_status_id=status,
            loan_type_enum=1,
            currency_code="KES",
            currency_digits=2,
            principal_amount_proposed=Decimal(principal),
            approved_principal=Decimal(principal),
            principal_amount=Decimal(principal),
            net_disbursal_amount=Decimal(principal),
            number_of_repayments=12,
            repay_every=1,
            repayment_period_frequency_enum=1,
            term_frequency=12,
            term_period_frequency_enum=1,
            principal_disbursed_derived=Decimal(principal),
            principal_outstanding_derived=Decimal(outstanding),
            total_outstanding_derived=Decimal(outstanding),
            created_on_utc=STAMP,
            last_modified_on_utc=STAMP,
            **({"disbursedon_date": date(2026, 9, 1)} | columns),
        )

    def repayment(
        self,
        loan_id: int,
        on: date,
        amount: str,
        *,
        reversed_: bool = False,
        created: datetime = STAMP,
        txn_id: int | None = None,
    ) -> int:
        """A repayment; `txn_id` gives it an id of the test's choosing (a transaction that committed late)."""
        tid = txn_id if txn_id is not None else next(self._ids) + 90000
        return self._insert(
            schema.m_loan_transaction,
            id=tid,
            loan_id=loan_id,
            office_id=1,
            is_reversed=reversed_,
            transaction_type_enum=2,
            transaction_date=on,
            submitted_on_date=on,
            amount=Decimal(amount),
            created_by=1,
            created_on_utc=created,
            last_modified_on_utc=created,
        )

    def savings(self, client_id: int, *, status: int = 300, balance: str = "5000", **columns: Any) -> int:
        with self.engine.begin() as conn:
            if conn.execute(schema.m_savings_product.select()).first() is None:
                conn.execute(
                    insert(schema.m_savings_product).values(
                        id=1,
                        name="Akiba",
                        short_name="AKB",
                        currency_code="KES",
                        currency_digits=2,
                        nominal_annual_interest_rate=Decimal("4"),
                    )
                )
        sid = next(self._ids) + 7000
        return self._insert(
            schema.m_savings_account,
            id=sid,
            account_no=f"S{sid:08d}",
            client_id=client_id,
            product_id=1,
            status_enum=status,
            submittedon_date=date(2026, 1, 5),
            currency_code="KES",
            currency_digits=2,
            account_balance_derived=Decimal(balance),
            created_on_utc=STAMP,
            last_modified_on_utc=STAMP,
            **columns,
        )

    def savings_transaction(
        self, savings_id: int, kind: int, amount: str, on: date, balance: str, *, created: datetime = STAMP
    ) -> int:
        tid = next(self._ids) + 80000
        return self._insert(
            schema.m_savings_account_transaction,
            id=tid,
            savings_account_id=savings_id,
            office_id=1,
            transaction_type_enum=kind,
            is_reversed=False,
            transaction_date=on,
            submitted_on_date=on,
            amount=Decimal(amount),
            running_balance_derived=Decimal(balance),
            created_by=1,
            created_on_utc=created,
            last_modified_on_utc=created,
        )
