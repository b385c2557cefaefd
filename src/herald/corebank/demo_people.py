"""Generates one chunk of demo clients with their groups, loans and savings accounts."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from herald.corebank.codes import (
    ClientStatus,
    GroupLevel,
    GroupStatus,
    LegalForm,
    LoanStatus,
    LoanType,
    PeriodFrequency,
    SavingsStatus,
    SavingsSubStatus,
    SavingsTransactionType,
)
from herald.corebank.demo_catalog import (
    COUNTRIES,
    CURRENCIES,
    FEMALE_NAMES,
    GROUP_WORDS,
    LOAN_PRODUCTS,
    MALE_NAMES,
    OFFICES,
    PHONE_STYLES,
    SAVINGS_PRODUCTS,
    OfficeSeed,
    format_phone,
    malformed_phone,
    subscriber_digits,
)
from herald.corebank.demo_loans import LoanBuilder, LoanRequest, LoanRows, Money, Scenario
from herald.corebank.demo_receipts import payment_detail

Row = dict[str, Any]
S = Scenario


class Weighted:
    """A weighted choice that costs one random number."""

    def __init__(self, pairs: Sequence[tuple[Any, int]]) -> None:
        self._values = [value for value, _ in pairs]
        self._cumulative = list(itertools.accumulate(weight for _, weight in pairs))

    def pick(self, rng: random.Random) -> Any:
        return self._values[bisect.bisect_right(self._cumulative, rng.random() * self._cumulative[-1])]


_CLIENT_STATUS = Weighted([
    (ClientStatus.ACTIVE, 70), (ClientStatus.PENDING, 9), (ClientStatus.CLOSED, 9),
    (ClientStatus.REJECTED, 4), (ClientStatus.WITHDRAWN, 4), (ClientStatus.TRANSFER_IN_PROGRESS, 2),
    (ClientStatus.TRANSFER_ON_HOLD, 2),
])
# Client ids 1..10 get these, so even a tiny demo has every status.
_FORCED_CLIENT_STATUS = (300, 300, 300, 300, 100, 600, 700, 800, 303, 304)
_SCENARIO = Weighted([
    (S.ON_TIME, 50), (S.ARREARS, 14), (S.MATURED_OVERDUE, 4), (S.CLOSED_RECENTLY, 2), (S.CLOSED, 6),
    (S.WRITTEN_OFF, 2), (S.OVERPAID, 1), (S.PENDING, 5), (S.APPROVED, 3), (S.REJECTED, 3),
    (S.WITHDRAWN, 2),
])
# The first borrowers get these, so even a tiny demo gives every business rule something to find.
_FORCED_SCENARIOS = (
    S.ON_TIME_PAID_YESTERDAY, S.ARREARS_PAID_RECENTLY, S.ON_TIME_DUE_IN_2_DAYS, S.ARREARS,
    S.MATURED_OVERDUE, S.CLOSED_RECENTLY, S.WRITTEN_OFF, S.OVERPAID, S.PENDING, S.APPROVED,
    S.REJECTED, S.WITHDRAWN, S.ON_TIME_PAID_YESTERDAY, S.ARREARS_PAID_RECENTLY,
)
_SAVINGS_STATUS = Weighted([
    (SavingsStatus.ACTIVE, 80), (SavingsStatus.APPROVED, 4), (SavingsStatus.SUBMITTED_AND_PENDING_APPROVAL, 5),
    (SavingsStatus.REJECTED, 3), (SavingsStatus.WITHDRAWN_BY_APPLICANT, 2), (SavingsStatus.CLOSED, 6),
])
_PHONE_STYLE = Weighted([(style, weight) for weight, style in PHONE_STYLES])
_OFFICE = Weighted([(office, office.client_weight) for office in OFFICES])
_BORROWING = (ClientStatus.ACTIVE, ClientStatus.TRANSFER_IN_PROGRESS, ClientStatus.TRANSFER_ON_HOLD)


def _audit(day: date) -> datetime:
    return datetime.combine(day, time(8, 15))


@dataclass(frozen=True)
class Reference:
    """Ids of the reference rows a chunk points at."""

    officers: dict[int, list[int]]
    gender_cv: tuple[int, int]
    leader_cv: int
    secretary_cv: int
    purpose_cv: tuple[int, ...]
    client_type_cv: tuple[int, ...]


@dataclass
class ChunkRows(LoanRows):
    """All rows of one chunk, per table; `TABLE_ORDER` is the insert order."""

    m_client: list[Row] = field(default_factory=list)
    m_group: list[Row] = field(default_factory=list)
    m_group_client: list[Row] = field(default_factory=list)
    m_group_roles: list[Row] = field(default_factory=list)
    m_savings_account: list[Row] = field(default_factory=list)
    m_savings_account_transaction: list[Row] = field(default_factory=list)


TABLE_ORDER = (
    "m_client", "m_group", "m_group_client", "m_group_roles", "m_loan", "m_loan_repayment_schedule",
    "m_loan_arrears_aging", "m_payment_detail", "m_loan_transaction", "m_guarantor", "m_savings_account",
    "m_savings_account_transaction",
)


class PeopleGenerator:
    """Holds the random stream and id counters across chunks, so chunking never changes the data."""

    def __init__(self, rng: random.Random, today: date, ref: Reference, money: Callable[[int, int], Money]) -> None:
        self._rng = rng
        self._today = today
        self._ref = ref
        self._counters: dict[str, itertools.count[int]] = {}
        self._borrowers = 0
        self._groups_made = 0
        self._loans = LoanBuilder(rng, today, self.next_id, money)

    def next_id(self, table: str) -> int:
        return next(self._counters.setdefault(table, itertools.count(1)))

    def chunk(self, size: int) -> ChunkRows:
        rng = self._rng
        out = ChunkRows()
        clients = []
        for _ in range(size):
            client_id = self.next_id("m_client")
            status = ClientStatus(_FORCED_CLIENT_STATUS[client_id - 1]) if client_id <= 10 \
                else _CLIENT_STATUS.pick(rng)
            clients.append((client_id, _OFFICE.pick(rng) if client_id > 1 else OFFICES[1], status))
        membership = self._groups(clients, out)
        for client_id, office, status in clients:
            earliest, closed = self._client_loans(client_id, office, status, membership.get(client_id), out)
            activated = self._client_row(client_id, office, status, earliest, closed, out)
            if activated is not None:
                self._savings(client_id, None, office.id, office.region, activated, out)
        return out

    def _groups(self, clients: list[tuple[int, OfficeSeed, ClientStatus]], out: ChunkRows) -> dict[int, int]:
        rng, today = self._rng, self._today
        membership: dict[int, int] = {}
        for office in OFFICES:
            members = [c for c, o, s in clients if o is office and s in (*_BORROWING, 100, 600)
                       and (c <= 3 or rng.random() < 0.45)]
            center_id = 0
            previous: list[int] = []
            while members:
                size = rng.randint(5, 15)
                take, members = members[:size], members[size:]
                if self._groups_made % 3 == 0 or center_id == 0:
                    center_id = self._group_row(office.id, GroupLevel.CENTER, None, out)
                group_id = self._group_row(office.id, GroupLevel.GROUP, center_id, out)
                for client_id in take:
                    membership[client_id] = group_id
                    out.m_group_client.append({"group_id": group_id, "client_id": client_id})
                if previous and rng.random() < 0.1:  # some clients belong to two groups
                    out.m_group_client.append({"group_id": group_id, "client_id": previous[0]})
                for client_id, role in zip(take, (self._ref.leader_cv, self._ref.secretary_cv), strict=False):
                    out.m_group_roles.append({"id": self.next_id("m_group_roles"), "client_id": client_id,
                                              "group_id": group_id, "role_cv_id": role})
                if self._groups_made == 1 or rng.random() < 0.08:
                    self._group_loan(group_id, office.id, office.region, out)
                if rng.random() < 0.05:
                    self._savings(None, group_id, office.id, office.region, today - timedelta(days=400), out)
                previous = take
        return membership

    def _group_row(self, office_id: int, level: GroupLevel, parent: int | None, out: ChunkRows) -> int:
        rng, today = self._rng, self._today
        group_id = self.next_id("m_group")
        word = GROUP_WORDS[rng.randrange(len(GROUP_WORDS))]
        status = GroupStatus.ACTIVE if rng.random() < 0.9 else rng.choice((GroupStatus.PENDING, GroupStatus.CLOSED))
        if level is GroupLevel.GROUP and self._groups_made == 0:
            status = GroupStatus.ACTIVE  # the first group always has an active leader to find
        submitted = today - timedelta(days=rng.randint(30, 2500))
        if level is GroupLevel.GROUP:
            self._groups_made += 1
        out.m_group.append({
            "id": group_id, "account_no": f"{group_id:09d}", "status_enum": int(status),
            "activation_date": None if status is GroupStatus.PENDING else submitted + timedelta(days=7),
            "office_id": office_id, "staff_id": self._officer(office_id), "parent_id": parent,
            "level_id": int(level),
            "display_name": f"{word} {'Center' if level is GroupLevel.CENTER else 'Group'} {group_id}",
            "hierarchy": f".{group_id}." if parent is None else f".{parent}.{group_id}.",
            "closedon_date": today - timedelta(days=rng.randint(1, 29)) if status is GroupStatus.CLOSED else None,
            "submittedon_date": submitted,
        })
        return group_id

    def _officer(self, office_id: int) -> int | None:
        officers = self._ref.officers[office_id]
        return None if self._rng.random() < 0.06 else officers[self._rng.randrange(len(officers))]

    def _product(self, region: str, *, weekly: bool = False, group: bool = False) -> Any:
        currency = COUNTRIES[region].currency
        choices = [p for p in LOAN_PRODUCTS if p.currency == currency and p.for_groups == group
                   and (not weekly or p.frequency is PeriodFrequency.WEEKS)] or \
                  [p for p in LOAN_PRODUCTS if p.currency == currency and not p.for_groups]
        return choices[self._rng.randrange(len(choices))]

    def _group_loan(self, group_id: int, office_id: int, region: str, out: ChunkRows) -> None:
        request = LoanRequest(
            self.next_id("m_loan"), None, group_id, office_id, self._officer(office_id),
            self._product(region, weekly=True, group=True), int(LoanType.GROUP), S.ON_TIME, 1,
            self._purpose())
        self._loans.build(request, out, self._person_name)

    def _purpose(self) -> int | None:
        purposes = self._ref.purpose_cv
        return None if self._rng.random() < 0.2 else purposes[self._rng.randrange(len(purposes))]

    def _person_name(self) -> tuple[str, str]:
        rng = self._rng
        names = FEMALE_NAMES if rng.random() < 0.6 else MALE_NAMES
        last = COUNTRIES["KE"].last_names
        return names[rng.randrange(len(names))], last[rng.randrange(len(last))]

    def _client_loans(self, client_id: int, office: OfficeSeed, status: ClientStatus, group_id: int | None,
                      out: ChunkRows) -> tuple[date | None, date | None]:
        """Create the client's loans; return the earliest submission and the latest closing date."""
        rng, today = self._rng, self._today
        region, office_id = office.region, office.id
        officer = self._officer(office_id)
        plan: list[tuple[Scenario, LoanStatus | None]] = []
        if status is ClientStatus.ACTIVE:
            if self._borrowers < len(_FORCED_SCENARIOS):
                plan.append((_FORCED_SCENARIOS[self._borrowers], None))
                self._borrowers += 1
            elif rng.random() < 0.65:
                plan.append((_SCENARIO.pick(rng), None))
                self._borrowers += 1
        elif status in _BORROWING[1:] and rng.random() < 0.8:
            plan.append((S.ON_TIME, LoanStatus(int(status))))
        history = 0
        if plan or status is ClientStatus.CLOSED:
            roll = rng.random()
            history = 2 if roll < 0.15 else 1 if roll < 0.55 or status is ClientStatus.CLOSED else 0
        earliest: date | None = None
        latest_close: date | None = None
        closed_by = today - timedelta(days=rng.randint(30, 900))
        for index, (scenario, forced_status) in enumerate(plan):
            weekly = scenario in (S.ON_TIME_PAID_YESTERDAY, S.ON_TIME_DUE_IN_2_DAYS)
            jlg = group_id is not None and rng.random() < 0.6
            request = LoanRequest(
                self.next_id("m_loan"), client_id, group_id if jlg else None, office_id, officer,
                self._product(region, weekly=weekly), int(LoanType.JLG if jlg else LoanType.INDIVIDUAL),
                scenario, history + index + 1, self._purpose(), status=forced_status)
            earliest = self._loans.build(request, out, self._person_name)
            closed_by = earliest - timedelta(days=rng.randint(1, 60))
        for counter in range(history, 0, -1):
            request = LoanRequest(
                self.next_id("m_loan"), client_id, None, office_id, officer, self._product(region),
                int(LoanType.INDIVIDUAL), S.CLOSED, counter, self._purpose(), closed_by=closed_by)
            submitted = self._loans.build(request, out, self._person_name)
            if latest_close is None:
                latest_close = closed_by
            earliest = submitted
            closed_by = submitted - timedelta(days=rng.randint(1, 60))
        return earliest, latest_close

    def _client_row(self, client_id: int, office: OfficeSeed, status: ClientStatus, earliest_loan: date | None,
                    last_close: date | None, out: ChunkRows) -> date | None:
        """Append the client; return the activation date when the client was ever activated."""
        rng, today, ref = self._rng, self._today, self._ref
        female = rng.random() < 0.62
        names = FEMALE_NAMES if female else MALE_NAMES
        country = COUNTRIES[office.region]
        first = names[rng.randrange(len(names))]
        middle = names[rng.randrange(len(names))] if rng.random() < 0.25 else None
        last = country.last_names[rng.randrange(len(country.last_names))]
        entity = client_id > 10 and rng.random() < 0.02
        born: date | None = today - timedelta(days=rng.randint(18 * 365, 70 * 365))
        if client_id == 1:
            born = date(today.year - 32, today.month, today.day)  # a birthday today, even on 29 February
        elif client_id == 2:
            born = date(1984, 2, 29)
        elif rng.random() < 0.05 or entity:
            born = None
        activated = submitted = closed = rejected = withdrawn = None
        if status in (*_BORROWING, ClientStatus.CLOSED):
            activated = today - timedelta(days=rng.randint(0, 2500))
            if earliest_loan is not None:
                activated = min(activated, earliest_loan - timedelta(days=rng.randint(0, 30)))
            submitted = activated - timedelta(days=rng.randint(0, 14))
            if status is ClientStatus.CLOSED:
                closed = min(today, (last_close or activated) + timedelta(days=rng.randint(1, 60)))
        else:
            submitted = today - timedelta(days=rng.randint(0, 90 if status is ClientStatus.PENDING else 900))
            if status is ClientStatus.REJECTED:
                rejected = min(today, submitted + timedelta(days=rng.randint(0, 14)))
            elif status is ClientStatus.WITHDRAWN:
                withdrawn = min(today, submitted + timedelta(days=rng.randint(0, 14)))
        roll = rng.random()
        if roll < 0.03:
            mobile = None
        elif roll < 0.05:
            mobile = malformed_phone(rng.randrange(4), client_id)
        else:
            prefixes = country.client_prefixes
            nsn = "7" + prefixes[rng.randrange(len(prefixes))][1] + subscriber_digits(client_id)
            mobile = format_phone(_PHONE_STYLE.pick(rng), country.calling_code, nsn)
        display = f"{last} {rng.choice(GROUP_WORDS)} Traders" if entity else \
            " ".join(part for part in (first, middle, last) if part)
        out.m_client.append({
            "id": client_id, "account_no": f"{client_id:09d}", "status_enum": int(status),
            "office_id": office.id,
            "transfer_to_office_id": (office.id % len(OFFICES)) + 1 if status in _BORROWING[1:] else None,
            "staff_id": self._officer(office.id),
            "firstname": None if entity else first, "middlename": None if entity else middle,
            "lastname": None if entity else last, "fullname": display if entity else None,
            "display_name": display, "mobile_no": mobile,
            "email_address": f"{first}.{last}{client_id}@example.com".lower() if rng.random() < 0.08 else None,
            "date_of_birth": born,
            "gender_cv_id": None if entity else ref.gender_cv[0 if female else 1],
            "client_type_cv_id": ref.client_type_cv[1 if entity else 0] if rng.random() < 0.5 else None,
            "legal_form_enum": int(LegalForm.ENTITY) if entity else (None if rng.random() < 0.1 else 1),
            "submittedon_date": submitted, "activation_date": activated, "office_joining_date": activated,
            "closedon_date": closed, "rejectedon_date": rejected, "withdrawn_on_date": withdrawn,
            "created_on_utc": _audit(submitted),
            "last_modified_on_utc": _audit(closed or rejected or withdrawn or activated or submitted),
        })
        return activated

    def _savings(self, client_id: int | None, group_id: int | None, office_id: int, region: str,
                 activated: date, out: ChunkRows) -> None:
        rng, today = self._rng, self._today
        if client_id is not None and rng.random() >= 0.55:
            return
        currency = COUNTRIES[region].currency
        product = next(p for p in SAVINGS_PRODUCTS if p[3] == currency)
        status = _SAVINGS_STATUS.pick(rng)
        account_id = self.next_id("m_savings_account")
        opened = activated + timedelta(days=rng.randint(0, max(0, min(60, (today - activated).days))))
        unit = CURRENCIES[currency].min_principal // 50
        balance = deposits = withdrawals = 0
        running = status in (SavingsStatus.ACTIVE, SavingsStatus.CLOSED)
        closed_on = None
        if running:
            span = (today - opened).days
            days = [opened + timedelta(days=rng.randint(0, span)) for _ in range(rng.randint(2, 10))]
            if rng.random() < 0.3:
                days.append(today - timedelta(days=rng.randint(0, 3)))  # recent activity for triggered rules
            days.sort()
            for day in days:
                withdraw = balance > unit and rng.random() < 0.35
                amount = min(balance, unit * rng.randint(1, 15)) if withdraw else unit * rng.randint(1, 30)
                if status is SavingsStatus.CLOSED and day == days[-1]:
                    withdraw, amount, closed_on = True, balance, day
                reversed_ = rng.random() < 0.02
                if not reversed_:
                    balance += -amount if withdraw else amount
                    deposits += 0 if withdraw else amount
                    withdrawals += amount if withdraw else 0
                kind = SavingsTransactionType.WITHDRAWAL if withdraw else SavingsTransactionType.DEPOSIT
                tid = self.next_id("m_savings_account_transaction")
                detail = None if withdraw else payment_detail("SD", tid, self.next_id, out.m_payment_detail)
                out.m_savings_account_transaction.append({
                    "id": tid, "savings_account_id": account_id, "payment_detail_id": detail,
                    "office_id": office_id, "transaction_type_enum": int(kind), "is_reversed": reversed_,
                    "transaction_date": day, "submitted_on_date": day, "amount": Decimal(amount),
                    "running_balance_derived": Decimal(balance), "created_by": 1,
                    "created_on_utc": _audit(day), "last_modified_on_utc": _audit(day),
                })
        dormant = status is SavingsStatus.ACTIVE and rng.random() < 0.06
        out.m_savings_account.append({
            "id": account_id, "account_no": f"{account_id:09d}", "client_id": client_id, "group_id": group_id,
            "product_id": product[0], "field_officer_id": self._officer(office_id), "status_enum": int(status),
            "sub_status_enum": int(SavingsSubStatus.DORMANT if dormant else SavingsSubStatus.NONE),
            "account_type_enum": int(LoanType.INDIVIDUAL if client_id else LoanType.GROUP),
            "deposit_type_enum": 100, "submittedon_date": opened,
            "approvedon_date": opened if status in (200, 300, 600) else None,
            "rejectedon_date": opened if status is SavingsStatus.REJECTED else None,
            "withdrawnon_date": opened if status is SavingsStatus.WITHDRAWN_BY_APPLICANT else None,
            "activatedon_date": opened if running else None, "closedon_date": closed_on,
            "currency_code": currency, "currency_digits": CURRENCIES[currency].digits,
            "account_balance_derived": Decimal(balance), "total_deposits_derived": Decimal(deposits),
            "total_withdrawals_derived": Decimal(withdrawals),
            "created_on_utc": _audit(opened), "last_modified_on_utc": _audit(closed_on or opened),
        })

