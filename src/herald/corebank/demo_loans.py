"""Builds one demo loan account: its row, instalments, transactions, arrears and guarantors."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from herald.corebank.codes import LoanStatus, LoanTransactionType, PeriodFrequency
from herald.corebank.demo_catalog import CURRENCIES, LoanProductSeed
from herald.corebank.demo_receipts import payment_detail

Row = dict[str, Any]
_ACTIVE_STATUSES = (LoanStatus.ACTIVE, LoanStatus.TRANSFER_IN_PROGRESS, LoanStatus.TRANSFER_ON_HOLD)


class Scenario(Enum):
    """The life a demo loan has had by `today`."""

    ON_TIME = "on time"
    ON_TIME_PAID_YESTERDAY = "on time, an instalment due and paid yesterday"
    ON_TIME_DUE_IN_2_DAYS = "on time, next instalment due in two days"
    ARREARS = "in arrears"
    ARREARS_PAID_RECENTLY = "in arrears, a part payment yesterday"
    MATURED_OVERDUE = "active past its final instalment date"
    CLOSED = "fully repaid"
    CLOSED_RECENTLY = "fully repaid in the last days"
    WRITTEN_OFF = "written off"
    OVERPAID = "overpaid"
    PENDING = "submitted, pending approval"
    APPROVED = "approved, not disbursed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn by the client"


@dataclass
class LoanRows:
    """Rows of one chunk, per table, in an order that satisfies the foreign keys."""

    m_loan: list[Row] = field(default_factory=list)
    m_loan_repayment_schedule: list[Row] = field(default_factory=list)
    m_loan_arrears_aging: list[Row] = field(default_factory=list)
    m_payment_detail: list[Row] = field(default_factory=list)
    m_loan_transaction: list[Row] = field(default_factory=list)
    m_guarantor: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class LoanRequest:
    """Who borrows, from which product, and how the loan went."""

    loan_id: int
    client_id: int | None
    group_id: int | None
    office_id: int
    officer_id: int | None
    product: LoanProductSeed
    loan_type: int
    scenario: Scenario
    counter: int
    purpose_cv_id: int | None
    closed_by: date | None = None
    status: LoanStatus | None = None


@dataclass
class _Instalment:
    due: date
    start: date
    parts: list[int]  # principal, interest, fee, penalty (minor units)
    paid: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    written_off: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    met_on: date | None = None

    def owed(self) -> list[int]:
        return [p - q - w for p, q, w in zip(self.parts, self.paid, self.written_off, strict=True)]


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = (date(year + (month == 11), (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month + 1, min(day.day, last))


def due_dates(product: LoanProductSeed, start: date) -> list[date]:
    if product.frequency is PeriodFrequency.WEEKS:
        step = 7 * product.repay_every
        return [start + timedelta(days=step * k) for k in range(1, product.repayments + 1)]
    return [add_months(start, product.repay_every * k) for k in range(1, product.repayments + 1)]


Money = Decimal | float
"""A money value: Decimal where the database has an exact NUMERIC, float for SQLite, which stores REAL."""


def exact_money(minor: int, digits: int) -> Money:
    """`minor` currency units (cents...) as an exact decimal amount."""
    return Decimal(minor).scaleb(-digits)


def float_money(minor: int, digits: int) -> Money:
    """The same amount as the nearest float: what SQLite would store for the decimal anyway."""
    return minor / _SCALES[digits]


_SCALES = (1, 10, 100, 1000)


@functools.lru_cache(maxsize=8192)
def _audit(day: date) -> datetime:
    return datetime.combine(day, time(9, 30))


class LoanBuilder:
    """Turns loan requests into rows; ids come from shared counters so they stay unique across chunks."""

    def __init__(self, rng: random.Random, today: date, next_id: Callable[[str], int],
                 money: Callable[[int, int], Money]) -> None:
        self._money = money
        self._rng = rng
        self._today = today
        self._next_id = next_id

    def build(self, req: LoanRequest, out: LoanRows, guarantor_names: Callable[[], tuple[str, str]]) -> date:
        """Append the loan's rows to `out`; return its submission date."""
        rng, today, product = self._rng, self._today, req.product
        currency = CURRENCIES[product.currency]
        scale = 10**currency.digits
        principal = rng.randrange(currency.min_principal, currency.max_principal + 1, currency.step)
        if req.group_id is not None and req.client_id is None:
            principal *= 5
        minor = principal * scale
        scenario = req.scenario
        start, end = self._disbursement_date(req, scenario)
        dues = due_dates(product, start)
        term_days = (dues[-1] - start).days
        interest = minor * product.annual_rate * term_days // (100 * 365)
        instalments = self._instalments(dues, start, minor, interest, minor * product.fee_percent // 100)
        submitted = start - timedelta(days=rng.randint(3, 21))
        if scenario in (Scenario.PENDING, Scenario.APPROVED):
            submitted = today - timedelta(days=rng.randint(0, 20))  # expected to disburse soon
        disbursed = scenario not in _NOT_DISBURSED
        payments = self._pay(scenario, instalments, start, end) if disbursed else []
        status = req.status or _STATUS[scenario]
        written_off_on = None
        if scenario is Scenario.WRITTEN_OFF:
            written_off_on = min(today - timedelta(days=1), instalments[-1].due + timedelta(days=60))
            for inst in instalments:
                if inst.met_on is None:
                    inst.written_off = inst.owed()
                    inst.met_on = written_off_on
        overpaid = 0
        if scenario is Scenario.OVERPAID and payments:
            overpaid = max(scale, minor // 50)
        loan = self._loan_row(req, status, principal, minor, scale, submitted, start, dues, instalments)
        closed_on = max((p[0] for p in payments), default=None)
        if status in (LoanStatus.CLOSED_OBLIGATIONS_MET, LoanStatus.OVERPAID):
            loan["closedon_date"] = closed_on
            loan["maturedon_date"] = closed_on
        if status is LoanStatus.OVERPAID:
            loan["total_overpaid_derived"] = self._money(overpaid, currency.digits)
            loan["overpaidon_date"] = closed_on
            loan["total_repayment_derived"] += loan["total_overpaid_derived"]
        if written_off_on is not None:
            loan["closedon_date"] = written_off_on
            loan["writtenoffon_date"] = written_off_on
        if scenario is Scenario.REJECTED:
            loan["rejectedon_date"] = min(today, submitted + timedelta(days=rng.randint(0, 7)))
        if scenario is Scenario.WITHDRAWN:
            loan["withdrawnon_date"] = min(today, submitted + timedelta(days=rng.randint(0, 7)))
        out.m_loan.append(loan)
        if scenario not in (Scenario.REJECTED, Scenario.WITHDRAWN):
            self._schedule_rows(req.loan_id, instalments, currency.digits, out, disbursed)
        if disbursed:
            self._transactions(req, minor, currency.digits, payments, overpaid, written_off_on, out)
            if rng.random() < 0.2:
                for _ in range(1 if rng.random() < 0.7 else 2):
                    first, last = guarantor_names()
                    out.m_guarantor.append({
                        "id": self._next_id("m_guarantor"), "loan_id": req.loan_id, "type_enum": 3,
                        "firstname": first, "lastname": last,
                        "mobile_number": f"07{rng.randint(10_000_000, 99_999_999)}",
                    })
        if status in _ACTIVE_STATUSES:
            self._arrears(req.loan_id, instalments, currency.digits, out)
        return submitted

    def _disbursement_date(self, req: LoanRequest, scenario: Scenario) -> tuple[date, date]:
        """The disbursement (or expected disbursement) date, and the closing date of a repaid loan."""
        rng, today, product = self._rng, self._today, req.product
        dues = due_dates(product, today)
        term = (dues[-1] - today).days
        period = (dues[0] - today).days
        start = today + timedelta(days=rng.randint(1, 14))
        if scenario is Scenario.ON_TIME_PAID_YESTERDAY:
            start = today - timedelta(days=1 + period * rng.randint(1, product.repayments - 2))
        elif scenario is Scenario.ON_TIME_DUE_IN_2_DAYS:
            start = today + timedelta(days=2 - period * rng.randint(1, product.repayments - 2))
        elif scenario in (Scenario.ON_TIME, Scenario.ARREARS, Scenario.ARREARS_PAID_RECENTLY):
            start = today - timedelta(days=rng.randint(period + 2, term - 1))
        elif scenario is Scenario.MATURED_OVERDUE:
            start = today - timedelta(days=term + rng.randint(3, 90))
        elif scenario is Scenario.WRITTEN_OFF:
            start = today - timedelta(days=term + rng.randint(70, 500))
        elif scenario in (Scenario.REJECTED, Scenario.WITHDRAWN):
            start = today - timedelta(days=rng.randint(1, 400))
        elif scenario in (Scenario.CLOSED, Scenario.CLOSED_RECENTLY, Scenario.OVERPAID):
            if scenario is not Scenario.CLOSED:
                end = today - timedelta(days=rng.randint(0, 9))
            else:
                end = req.closed_by or today - timedelta(days=rng.randint(10, 700))
            return end - timedelta(days=term + rng.randint(-term // 3, 5)), end
        return start, today

    def _instalments(self, dues: list[date], start: date, minor: int, interest: int, fee: int) -> list[_Instalment]:
        count = len(dues)
        result = []
        previous = start
        for k, due in enumerate(dues):
            last = k == count - 1
            principal = minor - (minor // count) * (count - 1) if last else minor // count
            share = interest - (interest // count) * (count - 1) if last else interest // count
            result.append(_Instalment(due, previous, [principal, share, fee if k == 0 else 0, 0]))
            previous = due
        return result

    def _pay(self, scenario: Scenario, instalments: list[_Instalment], start: date,
             end: date) -> list[tuple[date, list[int]]]:
        """Mark instalments paid per the scenario; return (date, parts paid) per payment."""
        rng, today = self._rng, self._today
        payments: list[tuple[date, list[int]]] = []

        def pay(inst: _Instalment, day: date, limit: int | None = None) -> None:
            owed = inst.owed()
            amounts = [0, 0, 0, 0]
            # Fineract's default allocation: penalty, fee, interest, then principal.
            for part in (3, 2, 1, 0):
                amount = owed[part] if limit is None else min(owed[part], limit)
                amounts[part] = amount
                inst.paid[part] += amount
                if limit is not None:
                    limit -= amount
            if all(v == 0 for v in inst.owed()):
                inst.met_on = day
            payments.append((day, amounts))

        past_due = [inst for inst in instalments if inst.due < today]
        if scenario in (Scenario.CLOSED, Scenario.CLOSED_RECENTLY, Scenario.OVERPAID):
            for inst in instalments[:-1]:
                pay(inst, min(end, max(start, inst.due - timedelta(days=self._early_days()))))
            pay(instalments[-1], end)  # the payment that closes the loan
            return payments
        if scenario in (Scenario.ARREARS, Scenario.ARREARS_PAID_RECENTLY, Scenario.MATURED_OVERDUE,
                        Scenario.WRITTEN_OFF):
            stop = rng.randint(0, max(0, len(past_due) - 1))
            if scenario is Scenario.WRITTEN_OFF:
                stop = min(stop, len(instalments) // 2)
            for inst in past_due[:stop]:
                pay(inst, min(today - timedelta(days=1), inst.due + timedelta(days=rng.randint(0, 4))))
            oldest = past_due[stop]
            for inst in past_due[stop:]:
                if (today - inst.due).days > 7:
                    inst.parts[3] = (inst.parts[0] + inst.parts[1]) // 50
            recent = scenario is Scenario.ARREARS_PAID_RECENTLY or (
                scenario is not Scenario.WRITTEN_OFF and rng.random() < 0.35)
            if recent:
                day = max(oldest.due, today - timedelta(days=1 if scenario is Scenario.ARREARS_PAID_RECENTLY
                                                        else rng.randint(0, 6)))
                pay(oldest, day, limit=max(1, sum(oldest.owed()) // 3))
            return payments
        exact = scenario in (Scenario.ON_TIME_PAID_YESTERDAY, Scenario.ON_TIME_DUE_IN_2_DAYS)
        for inst in instalments:  # on time
            day = inst.due - timedelta(days=0 if exact else self._early_days())
            if day <= today:
                pay(inst, max(start, day))
        return payments

    def _early_days(self) -> int:
        roll = self._rng.random()
        return 0 if roll < 0.6 else 1 if roll < 0.8 else 2 if roll < 0.9 else self._rng.randint(3, 5)

    def _loan_row(self, req: LoanRequest, status: LoanStatus, principal: int, minor: int, scale: int,
                  submitted: date, start: date, dues: list[date], instalments: list[_Instalment]) -> Row:
        product = req.product
        digits = CURRENCIES[product.currency].digits
        disbursed = req.scenario not in _NOT_DISBURSED

        to_money = self._money

        def money(value: int) -> Money:
            return to_money(value, digits)

        paid = [0, 0, 0, 0]
        outstanding = [0, 0, 0, 0]
        expected = 0
        for inst in instalments:
            owed = inst.owed()
            expected += sum(inst.parts)
            for k in range(4):
                paid[k] += inst.paid[k]
                outstanding[k] += owed[k] if disbursed else 0
        proposed = principal * scale if self._rng.random() < 0.8 else minor + minor // 10
        approved_on = None if req.scenario in (Scenario.PENDING, Scenario.REJECTED, Scenario.WITHDRAWN) \
            else min(self._today, submitted + timedelta(days=self._rng.randint(1, 3)))
        return {
            "id": req.loan_id, "account_no": f"{req.loan_id:09d}", "client_id": req.client_id,
            "group_id": req.group_id, "product_id": product.id, "loan_officer_id": req.officer_id,
            "loanpurpose_cv_id": req.purpose_cv_id, "loan_status_id": int(status),
            "loan_type_enum": req.loan_type, "currency_code": product.currency,
            "currency_digits": digits, "principal_amount_proposed": money(proposed),
            "approved_principal": money(minor), "principal_amount": money(minor),
            "net_disbursal_amount": money(minor), "annual_nominal_interest_rate": Decimal(product.annual_rate),
            "number_of_repayments": product.repayments, "repay_every": product.repay_every,
            "repayment_period_frequency_enum": int(product.frequency),
            "term_frequency": product.repayments * product.repay_every,
            "term_period_frequency_enum": int(product.frequency),
            "submittedon_date": submitted, "approvedon_date": approved_on, "rejectedon_date": None,
            "withdrawnon_date": None, "expected_disbursedon_date": start,
            "disbursedon_date": start if disbursed else None,
            "expected_firstrepaymenton_date": dues[0], "expected_maturedon_date": dues[-1],
            "maturedon_date": None, "closedon_date": None, "writtenoffon_date": None,
            "principal_disbursed_derived": money(minor if disbursed else 0),
            "principal_repaid_derived": money(paid[0]),
            "principal_outstanding_derived": money(outstanding[0]),
            "interest_outstanding_derived": money(outstanding[1]),
            "fee_charges_outstanding_derived": money(outstanding[2]),
            "penalty_charges_outstanding_derived": money(outstanding[3]),
            "total_outstanding_derived": money(sum(outstanding)),
            "total_expected_repayment_derived": money(expected),
            "total_repayment_derived": money(sum(paid)), "total_overpaid_derived": None,
            "loan_counter": req.counter, "loan_product_counter": req.counter,
            "overpaidon_date": None,
            "last_closed_business_date": self._today - timedelta(days=1) if status in _ACTIVE_STATUSES else None,
            "created_on_utc": _audit(submitted), "last_modified_on_utc": _audit(submitted),
        }

    def _schedule_rows(self, loan_id: int, instalments: list[_Instalment], digits: int, out: LoanRows,
                       disbursed: bool) -> None:
        to_money = self._money

        def money(value: int) -> Money:
            return to_money(value, digits)

        for number, inst in enumerate(instalments, start=1):
            wo = inst.written_off
            out.m_loan_repayment_schedule.append({
                "id": self._next_id("m_loan_repayment_schedule"), "loan_id": loan_id,
                "installment": number, "fromdate": inst.start, "duedate": inst.due,
                "principal_amount": money(inst.parts[0]), "interest_amount": money(inst.parts[1]),
                "fee_charges_amount": money(inst.parts[2]), "penalty_charges_amount": money(inst.parts[3]),
                "principal_completed_derived": money(inst.paid[0]) if disbursed else None,
                "interest_completed_derived": money(inst.paid[1]) if disbursed else None,
                "fee_charges_completed_derived": money(inst.paid[2]) if disbursed else None,
                "penalty_charges_completed_derived": money(inst.paid[3]) if disbursed else None,
                "principal_writtenoff_derived": money(wo[0]) if any(wo) else None,
                "interest_writtenoff_derived": money(wo[1]) if any(wo) else None,
                "completed_derived": inst.met_on is not None, "obligations_met_on_date": inst.met_on,
                "created_on_utc": _audit(inst.start), "last_modified_on_utc": _audit(inst.met_on or inst.start),
            })

    def _transactions(self, req: LoanRequest, minor: int, digits: int, payments: list[tuple[date, list[int]]],
                      overpaid: int, written_off_on: date | None, out: LoanRows) -> None:
        rng, today = self._rng, self._today

        to_money = self._money

        def money(value: int) -> Money:
            return to_money(value, digits)

        def add(kind: LoanTransactionType, day: date, amount: int, parts: list[int] | None, balance: int,
                reversed_on: date | None = None, over: int = 0) -> None:
            tid = self._next_id("m_loan_transaction")
            money_in = kind in (LoanTransactionType.REPAYMENT, LoanTransactionType.RECOVERY_REPAYMENT)
            detail = payment_detail("LR", tid, self._next_id, out.m_payment_detail) if money_in else None
            out.m_loan_transaction.append({
                "id": tid, "loan_id": req.loan_id, "payment_detail_id": detail,
                "office_id": req.office_id, "is_reversed": reversed_on is not None,
                "transaction_type_enum": int(kind), "transaction_date": day, "submitted_on_date": day,
                "amount": money(amount),
                "principal_portion_derived": money(parts[0]) if parts else None,
                "interest_portion_derived": money(parts[1]) if parts else None,
                "fee_charges_portion_derived": money(parts[2]) if parts else None,
                "penalty_charges_portion_derived": money(parts[3]) if parts else None,
                "overpayment_portion_derived": money(over) if over else None,
                "outstanding_loan_balance_derived": money(balance),
                "manually_adjusted_or_reversed": reversed_on is not None, "reversed_on_date": reversed_on,
                "created_by": 1, "created_on_utc": _audit(day), "last_modified_on_utc": _audit(reversed_on or day),
            })

        disbursed_on = out.m_loan[-1]["disbursedon_date"]
        balance = minor
        add(LoanTransactionType.DISBURSEMENT, disbursed_on, minor, [minor, 0, 0, 0], balance)
        payments.sort(key=lambda p: p[0])
        for index, (day, parts) in enumerate(payments):
            if rng.random() < 0.03:  # a mistaken entry, reversed by the teller
                add(LoanTransactionType.REPAYMENT, day, sum(parts), parts, balance,
                    reversed_on=min(today, day + timedelta(days=rng.randint(0, 2))))
            balance -= parts[0]
            over = overpaid if index == len(payments) - 1 else 0
            add(LoanTransactionType.REPAYMENT, day, sum(parts) + over, parts, balance, over=over)
        if written_off_on is not None:
            add(LoanTransactionType.WRITEOFF, written_off_on, balance, [balance, 0, 0, 0], 0)
            if rng.random() < 0.4 and written_off_on < today:
                day = written_off_on + timedelta(days=rng.randint(1, (today - written_off_on).days))
                add(LoanTransactionType.RECOVERY_REPAYMENT, day, max(1, balance // 4), None, 0)

    def _arrears(self, loan_id: int, instalments: list[_Instalment], digits: int, out: LoanRows) -> None:
        overdue = [inst for inst in instalments if inst.due < self._today and inst.met_on is None]
        if not overdue:
            return
        parts = [sum(inst.owed()[k] for inst in overdue) for k in range(4)]
        out.m_loan_arrears_aging.append({
            "loan_id": loan_id,
            "principal_overdue_derived": self._money(parts[0], digits),
            "interest_overdue_derived": self._money(parts[1], digits),
            "fee_charges_overdue_derived": self._money(parts[2], digits),
            "penalty_charges_overdue_derived": self._money(parts[3], digits),
            "total_overdue_derived": self._money(sum(parts), digits),
            "overdue_since_date_derived": overdue[0].due,
        })


_NOT_DISBURSED = (Scenario.PENDING, Scenario.APPROVED, Scenario.REJECTED, Scenario.WITHDRAWN)

_STATUS: dict[Scenario, LoanStatus] = {
    Scenario.ON_TIME: LoanStatus.ACTIVE,
    Scenario.ON_TIME_PAID_YESTERDAY: LoanStatus.ACTIVE,
    Scenario.ON_TIME_DUE_IN_2_DAYS: LoanStatus.ACTIVE,
    Scenario.ARREARS: LoanStatus.ACTIVE,
    Scenario.ARREARS_PAID_RECENTLY: LoanStatus.ACTIVE,
    Scenario.MATURED_OVERDUE: LoanStatus.ACTIVE,
    Scenario.CLOSED: LoanStatus.CLOSED_OBLIGATIONS_MET,
    Scenario.CLOSED_RECENTLY: LoanStatus.CLOSED_OBLIGATIONS_MET,
    Scenario.WRITTEN_OFF: LoanStatus.CLOSED_WRITTEN_OFF,
    Scenario.OVERPAID: LoanStatus.OVERPAID,
    Scenario.PENDING: LoanStatus.SUBMITTED_AND_PENDING_APPROVAL,
    Scenario.APPROVED: LoanStatus.APPROVED,
    Scenario.REJECTED: LoanStatus.REJECTED,
    Scenario.WITHDRAWN: LoanStatus.WITHDRAWN_BY_CLIENT,
}
