"""The catalog of business rules (Fineract ids 166-187, herald's own 1001-1005): parameters, variables, dedup facts."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from herald.domain.business_rule import BusinessRule, ParamKind, RuleParameter
from herald.domain.dedup import DedupScope
from herald.domain.wire import BIGINT_MAX
from herald.errors import ParameterError, UnknownRuleError
from herald.rules.catalog_triggered import TRIGGERED
from herald.rules.parameters import (
    CYCLE_X,
    CYCLE_Y,
    FROM_X,
    LOAN_OFFICER,
    MAX_DAYS,
    OFFICE,
    OVERDUE_X,
    OVERDUE_Y,
    SIX,
    TO_Y,
)

# How the runner renders a variable: money with the currency's digits, dates with the campaign's
# date format, everything else as plain text.
# Triggered rules keep Fineract's spellings (LoanAmount, loanamount, RepaymentDate), listed here too.
MONEY_VARIABLES = frozenset(
    {"loanAmount", "loanOutstanding", "loanDisbursed", "totalDue", "totalOverdue", "repaymentAmount",
     "totalFullyPaid", "LoanAmount", "LoanOutstanding", "loanamount", "depositAmount", "withdrawAmount",
     "balance", "disbursedAmount", "firstInstalmentAmount"}
)
DATE_VARIABLES = frozenset(
    {"paymentDueDate", "dueDate", "repaymentDate", "dateOfBirth", "RepaymentDate", "transactionDate",
     "disbursementDate", "firstDueDate", "closedOnDate"}
)

# The ids a triggered rule's event injects (hook response fields mapped to Fineract's placeholders;
# installmentNumber is the instalment of an external repayment due / overdue event, 1-based).
EVENT_IDS = (
    "loanTransactionId", "loanId", "clientId", "groupId", "savingsId", "savingsTransactionId", "installmentNumber",
)

# Pairs that bound one window: the lower must not exceed the upper.
_RANGES = (("fromX", "toY"), ("cycleX", "cycleY"), ("overdueX", "overdueY"))

_CLIENT = (*SIX, "officeName", "officeNumber")
_LOAN = (
    *SIX, "loanAmount", "loanOutstanding", "loanDisbursed", "officeNumber", "loanAccountId",
    "guarantorLastName", "numberOfGuarantors", "groupName",
)
_DUE = (*_LOAN, "paymentDueDate", "totalDue", "totalOverdue")
_RECEIVED = (
    *SIX, "loanId", "loanAmount", "loanOutstanding", "officeNumber", "loanAccountNumber", "loanAccountId",
    "repaymentAmount", "repaymentDate",
)

_BASE = (OFFICE, LOAN_OFFICER)
_WINDOW = (OFFICE, LOAN_OFFICER, FROM_X, TO_Y)
_OVERDUE_WINDOW = (*_WINDOW, OVERDUE_X, OVERDUE_Y)

_ONCE = DedupScope.ONCE
_EACH = DedupScope.PER_OCCURRENCE

_RULES: tuple[BusinessRule, ...] = (
    BusinessRule(
        166, "Active Clients", False, "Client",
        "Every active client of the office and its sub-offices.",
        _BASE, _CLIENT, "client", _EACH, "166_active_clients.sql", ("officeName",),
    ),
    BusinessRule(
        167, "Prospective Clients", False, "Client",
        "Active clients who have never had a loan (rejected or withdrawn applications do not count).",
        _BASE, _CLIENT, "client", _EACH, "167_prospective_clients.sql", ("officeName",),
    ),
    BusinessRule(
        168, "Active Loan Clients", False, "Client",
        "Active loans disbursed between cycleX and cycleY days ago; one message per loan.",
        (OFFICE, LOAN_OFFICER, CYCLE_X, CYCLE_Y), _LOAN, "loan", _EACH, "168_active_loan_clients.sql",
    ),
    BusinessRule(
        169, "Loan in arrears", False, "Loan",
        "Active loans in arrears since between fromX and toY days ago; one message per loan.",
        _WINDOW, (*_LOAN, "paymentDueDate", "totalDue"), "loan", _EACH, "169_loan_in_arrears.sql",
    ),
    BusinessRule(
        170, "Loan payments due", False, "Loan",
        "Unpaid instalments of active loans due between fromX and toY days ago (negative = in the future,"
        " e.g. -3 to -1 for 'due in 1 to 3 days'); each instalment is reminded once.",
        _WINDOW, _DUE, "instalment", _ONCE, "170_loan_payments_due.sql",
    ),
    BusinessRule(
        171, "Dormant Prospects", False, "Client",
        "Active clients without a loan, activated more than 3 whole months ago.",
        _BASE, (*_CLIENT, "dormant"), "client", _EACH, "171_dormant_prospects.sql", ("officeName", "dormant"),
    ),
    BusinessRule(
        172, "Active group leaders", False, "Client",
        "Active clients who lead an active group.",
        _BASE, (*_CLIENT, "groupName"), "client", _EACH, "172_active_group_leaders.sql", ("officeName",),
    ),
    BusinessRule(
        173, "Loan payments due (Overdue Loans)", False, "Loan",
        "Unpaid instalments due between fromX and toY days ago on loans in arrears for overdueX to overdueY"
        " days; each instalment is reminded once.",
        _OVERDUE_WINDOW, _DUE, "instalment", _ONCE, "173_loan_payments_due_overdue_loans.sql",
    ),
    BusinessRule(
        174, "Loan payments received (Active Loans)", False, "Loan",
        "Payments received between fromX and toY days ago on loans that are not in arrears; each payment"
        " is acknowledged once.",
        _WINDOW, _RECEIVED, "loan_transaction", _ONCE, "174_loan_payments_received_active_loans.sql",
    ),
    BusinessRule(
        175, "Loan payments received (Overdue Loans)", False, "Loan",
        "Payments received between fromX and toY days ago on loans in arrears for overdueX to overdueY"
        " days; each payment is acknowledged once.",
        _OVERDUE_WINDOW, _RECEIVED, "loan_transaction", _ONCE, "175_loan_payments_received_overdue_loans.sql",
    ),
    BusinessRule(
        176, "Happy Birthday", False, "Client",
        "Active clients whose birthday is today (29 February birthdays on 28 February in other years).",
        _BASE, (*_CLIENT, "dateOfBirth", "age"), "client", DedupScope.PER_YEAR, "176_happy_birthday.sql",
        ("officeName", "age"),
    ),
    BusinessRule(
        177, "Loan fully repaid", False, "Loan",
        "Loans fully repaid (closed or overpaid) between fromX and toY days ago; each loan is thanked once.",
        _WINDOW, (*_LOAN, "dueDate", "totalDue", "totalFullyPaid"), "loan", _ONCE,
        "177_loan_fully_repaid.sql",
    ),
    BusinessRule(
        178, "Loan outstanding after final instalment date", False, "Loan",
        "Active loans with a balance whose final instalment date was between fromX and toY days ago.",
        _WINDOW, _DUE, "loan", _EACH, "178_loan_outstanding_after_final_instalment_date.sql",
    ),
)


GATEWAY_RULE = BusinessRule(
    id=0,
    name="Fineract message gateway",
    triggered=True,
    category=None,
    description="Messages an unchanged Fineract hands to herald as its message gateway.",
    parameters=(),
    variables=(),
    fact="fineract_message",
    dedup_scope=DedupScope.ONCE,
    sql_file="",
)
"""The stand-in rule of gateway campaigns: Fineract chose the audience and rendered the text. Not in the
catalog (nobody picks it); the store gives it to the campaigns the drop-in gateway keeps."""


@cache
def _registry() -> tuple[BusinessRule, ...]:
    return (*_RULES, *TRIGGERED)


@cache
def _by_id() -> dict[int, BusinessRule]:
    return {r.id: r for r in _registry()}


@cache
def _by_name() -> dict[str, BusinessRule]:
    return {r.name.casefold(): r for r in _registry()}


def all_rules(triggered: bool | None = None) -> tuple[BusinessRule, ...]:
    """The rules herald can run in Fineract id order: all of them, or only the (non-)triggered ones."""
    if triggered is None:
        return _registry()
    return tuple(r for r in _registry() if r.triggered is triggered)


def _unknown(what: object) -> UnknownRuleError:
    known = "; ".join(f"{r.id} {r.name}" for r in _registry())
    return UnknownRuleError(f"Unknown business rule {what!r}. Known rules: {known}.", field="businessRule")


def get_rule(id_or_name: int | str) -> BusinessRule:
    """The rule with this Fineract id (an int or a digit string) or this exact name, case-insensitively."""
    if isinstance(id_or_name, bool):
        raise _unknown(id_or_name)
    key: int | str = id_or_name
    if isinstance(key, str) and key.strip().isdigit():
        key = int(key.strip())
    rule = _by_id().get(key) if isinstance(key, int) else _by_name().get(key.strip().casefold())
    if rule is None:
        raise _unknown(id_or_name)
    return rule


def rules_for_event(entity: str, action: str) -> tuple[BusinessRule, ...]:
    """The triggered rules a Fineract hook (entity, action) fires, e.g. ("LOAN", "REPAYMENT") -> 179."""
    pair = (entity.strip().upper(), action.strip().upper())
    return tuple(r for r in _registry() if pair in r.events)


def _as_int(p: RuleParameter, value: object) -> int:
    # Fineract stores parameter values as strings ("1", "-1"); bools and floats are refused
    # because True == 1 and 1.5 would silently become a different office or window.
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isascii() and digits.isdigit() and len(digits) <= 19:
            number = int(text)
    if number is not None and abs(number) <= BIGINT_MAX:  # the rules bind it to BIGINT columns
        return number
    raise ParameterError(
        f"{p.label} ({p.name}) must be a whole number (at most 19 digits), not {value!r:.40}.", field=p.name,
    )


def validate_parameters(rule: BusinessRule, raw: Mapping[str, object]) -> dict[str, int]:
    """The rule's parameters as integers, defaults applied; ParameterError names the first bad one.

    `reportName`, which Fineract stores next to the parameters, is accepted when it names this rule.
    So are the ids a triggered rule gets from its event (`loanId` ...) when they hold Fineract's
    placeholder -1: a campaign copied from Fineract stores them, but only the event may set them.
    """
    for name, value in raw.items():
        if rule.parameter(name) is not None:
            continue
        if name == "reportName" and str(value).strip().casefold() == rule.name.casefold():
            continue
        if rule.triggered and name in EVENT_IDS:
            if str(value).strip() in ("", "-1"):
                continue
            raise ParameterError(
                f"{name} comes from the Fineract event that triggers rule {rule.id} {rule.name!r};"
                f" a campaign cannot set it (only -1, Fineract's placeholder, is accepted), not {value!r}.",
                field=name,
            )
        expected = ", ".join(p.name for p in rule.parameters)
        raise ParameterError(
            f"Rule {rule.id} {rule.name!r} has no parameter {name!r}; it takes {expected}.", field=name,
        )
    values: dict[str, int] = {}
    for p in rule.parameters:
        value = raw.get(p.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if p.default is None:
                raise ParameterError(
                    f"{p.label} ({p.name}) is required by rule {rule.id} {rule.name!r}.", field=p.name,
                )
            values[p.name] = p.default
            continue
        values[p.name] = _as_int(p, value)
    for p in rule.parameters:
        _check_range(p, values[p.name])
    for low, high in _RANGES:
        if low in values and high in values and values[low] > values[high]:
            lo, hi = rule.parameter(low), rule.parameter(high)
            assert lo is not None and hi is not None
            raise ParameterError(
                f"{lo.label} ({low} = {values[low]}) must not be greater than {hi.label}"
                f" ({high} = {values[high]}): the window would be empty.",
                field=low,
            )
    return values


def _check_range(p: RuleParameter, value: int) -> None:
    if p.kind is ParamKind.OFFICE and p.allows_all and value <= 0 and value != -1:
        raise ParameterError(
            f"{p.label} ({p.name}) must be an office id (a positive number) or -1 for every office, not {value}.",
            field=p.name,
        )
    if p.kind is ParamKind.OFFICE and not p.allows_all and value <= 0:
        raise ParameterError(
            f"{p.label} ({p.name}) must be an office id (a positive number), not {value};"
            " choose the head office to cover every office.",
            field=p.name,
        )
    if p.kind is ParamKind.LOAN_OFFICER and value <= 0 and value not in (-1, -10):
        raise ParameterError(
            f"{p.label} ({p.name}) must be a staff id, -1 (every officer) or -10 (no officer), not {value}.",
            field=p.name,
        )
    if p.kind is ParamKind.LOAN_TYPE and value not in (-1, 1, 2, 3, 4):
        raise ParameterError(
            f"{p.label} ({p.name}) must be -1 (any) or a loan type code 1-4, not {value}.", field=p.name,
        )
    if p.kind is ParamKind.DAYS and abs(value) > MAX_DAYS:
        raise ParameterError(
            f"{p.label} ({p.name}) = {value} is beyond a century of days; check the number.", field=p.name,
        )
