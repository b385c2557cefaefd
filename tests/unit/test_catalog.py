"""The rule catalog: lookup, parameter validation, SQL hygiene and that every declared variable exists.

A D-number in a comment (D12) names an entry of docs/fineract-differences.md.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import date, timedelta
from importlib import resources
from typing import Any

import pytest
import sqlalchemy as sa

from herald.corebank.event_rules import run_triggered, triggered_binds
from herald.corebank.runner import age_on, bind_values, load_sql, minus_months, run_rule, sql_columns, whole_months
from herald.corebank.schema import metadata
from herald.domain.business_rule import BusinessRule, ParamKind
from herald.domain.dedup import DedupScope
from herald.errors import ParameterError, UnknownRuleError
from herald.rules import catalog
from herald.rules.catalog import (
    all_rules,
    get_rule,
    rules_for_event,
    validate_parameters,
)

SQL_DIR = resources.files("herald.rules").joinpath("sql")
TODAY = date(2023, 3, 15)


def _sql_text(rule: BusinessRule) -> str:
    return SQL_DIR.joinpath(rule.sql_file).read_text(encoding="utf-8")


def _window_params(rule: BusinessRule) -> dict[str, int]:
    params = {"officeId": 1}
    for p in rule.parameters:
        if p.kind is ParamKind.DAYS:
            params[p.name] = 0
    return params


def _binds(conn: sa.Connection, rule: BusinessRule) -> dict[str, Any]:
    """The binds of an audience rule, or of a triggered rule for an event with its key id."""
    if rule.triggered:
        return triggered_binds(conn, rule, _window_params(rule), dict.fromkeys(rule.event_key, 1), TODAY)
    return bind_values(conn, rule, _window_params(rule), TODAY)


# --- lookup -----------------------------------------------------------------------------------


def test_the_catalog_holds_the_thirteen_audience_and_fourteen_triggered_rules_in_id_order() -> None:
    rules = all_rules()
    herald_own = list(range(1001, 1006))  # after Fineract's 166-187, clear of its other report ids
    assert [r.id for r in rules] == [*range(166, 188), *herald_own]
    assert [r.id for r in all_rules(triggered=False)] == list(range(166, 179))
    assert [r.id for r in all_rules(triggered=True)] == [*range(179, 188), *herald_own]
    assert all(r.triggered == (r.id >= 179) for r in rules)
    assert {r.sql_file for r in rules} == {p.name for p in SQL_DIR.iterdir() if p.name.endswith(".sql")}
    for r in rules:
        assert r.sql_file.startswith(f"{r.id}_")


def test_facts_and_dedup_scopes_make_each_message_unique() -> None:
    scope = {r.id: (r.fact, r.dedup_scope) for r in all_rules()}
    once, each = DedupScope.ONCE, DedupScope.PER_OCCURRENCE
    assert scope == {
        166: ("client", each), 167: ("client", each), 168: ("loan", each), 169: ("loan", each),
        170: ("instalment", once), 171: ("client", each), 172: ("client", each),
        173: ("instalment", once), 174: ("loan_transaction", once), 175: ("loan_transaction", once),
        176: ("client", DedupScope.PER_YEAR), 177: ("loan", once), 178: ("loan", each),
        179: ("loan_transaction", once), 180: ("loan_approval", once), 181: ("loan_rejection", once),
        182: ("client_rejection", once), 183: ("client_activation", once), 184: ("savings_rejection", once),
        185: ("savings_activation", once), 186: ("savings_transaction", once), 187: ("savings_transaction", once),
        1001: ("loan_repayment_due", once), 1002: ("loan_repayment_overdue", once),
        1003: ("loan_disbursement", once), 1004: ("loan_closure", once), 1005: ("client_creation", once),
    }
    keys = {r.id: (r.event_key, r.fans_out) for r in all_rules(triggered=True)}
    instalment = ("loanId", "installmentNumber")
    assert keys == {
        179: (("loanTransactionId",), True), 180: (("loanId",), True), 181: (("loanId",), True),
        182: (("clientId",), False), 183: (("clientId",), False), 184: (("savingsId",), False),
        185: (("savingsId",), False), 186: (("savingsTransactionId",), False),
        187: (("savingsTransactionId",), False),
        1001: (instalment, True), 1002: (instalment, True), 1003: (("loanId",), True), 1004: (("loanId",), True),
        1005: (("clientId",), False),
    }


@pytest.mark.parametrize("key", [170, "170", "Loan payments due", "loan PAYMENTS due", " Loan payments due "])
def test_get_rule_by_id_or_exact_name_case_insensitively(key: int | str) -> None:
    assert get_rule(key).id == 170


@pytest.mark.parametrize("key", [165, 188, "Loan payments", "Birthday", True])
def test_unknown_rules_are_refused_with_the_list_of_known_rules(key: int | str) -> None:
    with pytest.raises(UnknownRuleError) as refused:
        get_rule(key)
    assert "166 Active Clients" in str(refused.value)
    assert "178 Loan outstanding after final instalment date" in str(refused.value)
    assert "187 Savings Withdrawal" in str(refused.value)


@pytest.mark.parametrize(
    ("key", "rule_id"), [(179, 179), ("187", 187), ("Loan Repayment", 179), ("savings deposit", 186)]
)
def test_triggered_rules_are_found_and_flagged_triggered(key: int | str, rule_id: int) -> None:
    rule = get_rule(key)
    assert (rule.id, rule.triggered) == (rule_id, True)
    assert rule.events and rule.event_key


def test_each_hook_event_fires_its_rule() -> None:
    fired = {pair: [r.id for r in rules_for_event(*pair)] for r in all_rules() for pair in r.events}
    assert fired == {
        ("LOAN", "REPAYMENT"): [179], ("LOAN", "RECOVERYPAYMENT"): [179], ("LOAN", "APPROVE"): [180],
        ("LOAN", "REJECT"): [181], ("CLIENT", "REJECT"): [182], ("CLIENT", "ACTIVATE"): [183],
        ("SAVINGSACCOUNT", "REJECT"): [184], ("SAVINGSACCOUNT", "ACTIVATE"): [185],
        ("SAVINGSACCOUNT", "DEPOSIT"): [186], ("SAVINGSACCOUNT", "WITHDRAWAL"): [187],
        ("LOAN", "REPAYMENT_DUE"): [1001], ("LOAN", "REPAYMENT_OVERDUE"): [1002], ("LOAN", "DISBURSE"): [1003],
        ("LOAN", "DISBURSETOSAVINGS"): [1003], ("LOAN", "CLOSE"): [1004], ("CLIENT", "CREATE"): [1005],
    }
    assert [r.id for r in rules_for_event("loan", " repayment ")] == [179]
    assert rules_for_event("LOAN", "CREATE") == ()  # an application entered: no rule
    assert rules_for_event("SAVINGSACCOUNT", "WITHDRAW") == ()  # an application withdrawn, not money out
    assert not any(r.events for r in all_rules(triggered=False))


# --- parameters -------------------------------------------------------------------------------


def test_valid_parameters_become_integers_with_defaults() -> None:
    assert validate_parameters(get_rule(166), {"officeId": "1"}) == {"officeId": 1, "loanOfficerId": -1}
    assert validate_parameters(get_rule(170), {"officeId": 2, "loanOfficerId": "-10", "fromX": "-3", "toY": -1}) == {
        "officeId": 2, "loanOfficerId": -10, "fromX": -3, "toY": -1,
    }
    assert validate_parameters(get_rule(166), {"officeId": 1, "loanOfficerId": 7})["loanOfficerId"] == 7


@pytest.mark.parametrize("rule_id", [179, 180, 181, 186, 187])
def test_triggered_loan_and_savings_rules_take_minus_one_for_every_office(rule_id: int) -> None:
    values = validate_parameters(get_rule(rule_id), {"officeId": "-1"})
    assert values["officeId"] == -1
    assert validate_parameters(get_rule(rule_id), {})["officeId"] == -1  # and default to it
    assert validate_parameters(get_rule(rule_id), {"officeId": 3})["officeId"] == 3


def test_triggered_parameters_and_fineracts_stored_placeholders() -> None:
    assert validate_parameters(get_rule(180), {"officeId": 2, "loanOfficerId": -10, "loanType": "3"}) == {
        "officeId": 2, "loanOfficerId": -10, "loanType": 3,
    }
    # A campaign copied from Fineract stores the injected ids as -1 and the report name: accepted, dropped.
    copied = {"officeId": "-1", "loanOfficerId": "-1", "loanId": "-1", "clientId": "-1", "groupId": "-1",
              "loanType": "-1", "reportName": "Loan Approved"}
    assert validate_parameters(get_rule(180), copied) == {"officeId": -1, "loanOfficerId": -1, "loanType": -1}
    assert validate_parameters(get_rule(183), {"officeId": 1, "clientId": -1}) == {"officeId": 1, "loanOfficerId": -1}
    assert [p.name for p in get_rule(179).parameters] == ["officeId", "loanOfficerId", "loanType"]
    assert [p.name for p in get_rule(186).parameters] == ["officeId", "loanOfficerId"]


def test_fineracts_report_name_is_accepted_only_for_its_own_rule() -> None:
    assert validate_parameters(get_rule(166), {"officeId": 1, "reportName": "Active Clients"})["officeId"] == 1
    with pytest.raises(ParameterError) as refused:
        validate_parameters(get_rule(166), {"officeId": 1, "reportName": "Happy Birthday"})
    assert refused.value.field == "reportName"


@pytest.mark.parametrize(
    ("rule_id", "raw", "field", "says"),
    [
        (166, {}, "officeId", "Office (officeId) is required"),
        (166, {"officeId": ""}, "officeId", "is required"),
        (170, {"officeId": 1, "fromX": 1}, "toY", "To Y Number (toY) is required"),
        (168, {"officeId": 1, "cycleX": 1}, "cycleY", "Cycle Y Number"),
        (166, {"officeId": "one"}, "officeId", "whole number"),
        (166, {"officeId": 1.0}, "officeId", "whole number"),
        (166, {"officeId": True}, "officeId", "whole number"),
        (166, {"officeId": "1.5"}, "officeId", "whole number"),
        (166, {"officeId": "--1"}, "officeId", "whole number"),
        (166, {"officeId": 0}, "officeId", "positive"),
        (166, {"officeId": "-1"}, "officeId", "head office"),
        (166, {"officeId": 1, "loanOfficerId": -5}, "loanOfficerId", "-10 (no officer)"),
        (166, {"officeId": 1, "loanOfficerId": 0}, "loanOfficerId", "staff id"),
        (166, {"officeId": 1, "fromX": 1}, "fromX", "has no parameter 'fromX'"),
        (170, {"officeId": 1, "fromX": 5, "toY": 1}, "fromX", "must not be greater than To Y Number"),
        (168, {"officeId": 1, "cycleX": 30, "cycleY": 10}, "cycleX", "must not be greater"),
        (173, {"officeId": 1, "fromX": 0, "toY": 1, "overdueX": 9, "overdueY": 3}, "overdueX", "empty"),
        (170, {"officeId": 1, "fromX": 0, "toY": 10**9}, "toY", "century"),
        # -1 = every office only where Fineract's triggered rule allows it.
        (182, {"officeId": -1}, "officeId", "head office"),
        (185, {"officeId": -1}, "officeId", "head office"),
        (183, {}, "officeId", "is required"),
        (179, {"officeId": -2}, "officeId", "-1 for every office"),
        (186, {"officeId": 0}, "officeId", "-1 for every office"),
        (179, {"loanType": 7}, "loanType", "loan type code"),
        (186, {"loanType": 1}, "loanType", "has no parameter 'loanType'"),
        (180, {"loanId": 5}, "loanId", "comes from the Fineract event"),
        (186, {"savingsTransactionId": "9"}, "savingsTransactionId", "comes from the Fineract event"),
        (166, {"officeId": 1, "clientId": -1}, "clientId", "has no parameter"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(
    rule_id: int, raw: dict[str, object], field: str, says: str
) -> None:
    with pytest.raises(ParameterError) as refused:
        validate_parameters(get_rule(rule_id), raw)
    assert refused.value.field == field
    assert says in str(refused.value)


def test_every_rule_takes_office_and_officer_and_paired_windows() -> None:
    for rule in all_rules():
        names = [p.name for p in rule.parameters]
        assert names[:2] == ["officeId", "loanOfficerId"]
        for low, high in (("fromX", "toY"), ("cycleX", "cycleY"), ("overdueX", "overdueY")):
            assert (low in names) == (high in names)


# --- SQL hygiene ------------------------------------------------------------------------------

_FORBIDDEN = {
    "string concatenation || (MySQL reads it as OR)": r"\|\|",
    "text substitution ${...}": r"\$\{",
    "positional or pyformat placeholders": r"\?|%s|%\(",
    "vendor date functions (bind dates computed in Python)": (
        r"(?i)\b(current_date|current_timestamp|now|curdate|sysdate|datediff|date_add|date_sub|"
        r"timestampdiff|interval|extract|date_part|date_trunc|strftime|julianday|to_char|to_date|age|"
        r"dayofyear|dayofmonth|month|year|last_day)\b\s*\(?"
    ),
    "LIMIT / FILTER / TOP": r"(?i)\b(limit|filter|top)\b",
    "boolean literals": r"(?i)(?<!:)\b(true|false)\b",
    "quoted identifiers": r"[\"`]",
    "PostgreSQL casts": r"::",
    "vendor casts": r"(?i)cast\s*\((?![^()]*\bas\s+char\(10\)\s*\))",
    "statement separators": r";",
    # SQLite prepares a statement again at every run whose LIKE pattern is a bare bind (its LIKE planning
    # reads the value): 0.44 ms instead of 0.07 for a triggered rule, run once per event. An expression
    # around the bind, e.g. LIKE COALESCE(:officePrefix, ''), is planned once.
    "a bare bind as a LIKE pattern": r"(?i)\blike\s+:\w",
}


def _code(rule: BusinessRule) -> str:
    return "\n".join(line for line in _sql_text(rule).splitlines() if not line.lstrip().startswith("--"))


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: str(r.id))
def test_sql_is_portable_and_uses_bind_parameters_only(rule: BusinessRule) -> None:
    code = _code(rule)
    for what, pattern in _FORBIDDEN.items():
        found = re.search(pattern, code)
        assert found is None, f"{rule.sql_file}: {what}: {found.group(0) if found else ''}"
    assert re.findall(r"(?<![:\w]):(?!\w)", code) == [], "a colon that is not a :name bind"


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: str(r.id))
def test_sql_starts_with_a_header_naming_grain_fact_and_fixed_defects(rule: BusinessRule) -> None:
    text = _sql_text(rule)
    header = text[: text.index("SELECT")]
    assert all(line.startswith("--") for line in header.strip().splitlines())
    assert header.startswith(f"-- {rule.id} {rule.name}\n")
    for word in ("Selects:", "Grain:", "Dedup fact:", "Fixes:"):
        assert word in header


@pytest.fixture
def fineract() -> Iterator[sa.Connection]:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.connect() as conn:
        conn.execute(sa.text(
            "INSERT INTO m_office (id, hierarchy, name, opening_date) VALUES (1, '.', 'HO', '2020-01-01')"
        ))
        yield conn
    engine.dispose()


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: str(r.id))
def test_every_bind_in_the_sql_is_computed_by_the_runner(rule: BusinessRule, fineract: sa.Connection) -> None:
    used = set(re.findall(r"(?<![:\w]):(\w+)", _code(rule)))
    assert used <= set(_binds(fineract, rule))


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: str(r.id))
def test_every_declared_variable_is_produced(rule: BusinessRule, fineract: sa.Connection) -> None:
    result = fineract.execute(sa.text(load_sql(rule)), _binds(fineract, rule))
    returned = {k.lower() for k in result.keys()}  # noqa: SIM118 - a Result iterates rows, not keys
    result.close()
    expected = {c.lower() for c in sql_columns(rule)}
    assert returned == expected, "the SQL returns exactly the declared variables, their sources and internals"
    assert {"id", "mobileno", "h_fact", "h_office", "h_digits"} <= returned
    assert set(rule.derived_variables) <= set(rule.variables)
    if rule.triggered:
        assert list(run_triggered(fineract, rule, _window_params(rule), dict.fromkeys(rule.event_key, 1), TODAY)) == []
    else:
        assert list(run_rule(fineract, rule, _window_params(rule), TODAY)) == []


@pytest.mark.parametrize("rule", all_rules(triggered=True), ids=lambda r: str(r.id))
def test_a_triggered_rule_is_never_run_as_an_audience(rule: BusinessRule, fineract: sa.Connection) -> None:
    # With no event every injected id would be -1, "any": every repayment ever made would be messaged.
    with pytest.raises(ParameterError, match="triggered: it runs for one Fineract event"):
        run_rule(fineract, rule, {"officeId": 1}, TODAY)
    with pytest.raises(ParameterError, match=f"needs the event's {' and '.join(rule.event_key)}"):
        run_triggered(fineract, rule, {"officeId": 1}, {}, TODAY)


@pytest.mark.parametrize(
    ("event", "field", "says"),
    [
        ({"loanTransactionId": 0}, "loanTransactionId", "positive whole number"),
        ({"loanTransactionId": True}, "loanTransactionId", "positive whole number"),
        ({"loanTransactionId": "7"}, "loanTransactionId", "positive whole number"),
        ({"loanTransactionId": 7, "loan": 3}, "loan", "not one herald binds"),
        ({"loanId": 3}, "loanTransactionId", "needs the event's loanTransactionId"),
    ],
)
def test_bad_event_ids_are_refused_naming_the_id(
    event: dict[str, object], field: str, says: str, fineract: sa.Connection
) -> None:
    with pytest.raises(ParameterError, match=says) as refused:
        run_triggered(fineract, get_rule(179), {}, event, TODAY)
    assert refused.value.field == field


def test_an_audience_rule_is_not_run_for_an_event(fineract: sa.Connection) -> None:
    with pytest.raises(ParameterError, match="not triggered"):
        run_triggered(fineract, get_rule(166), {"officeId": 1}, {"clientId": 1}, TODAY)


def test_a_rule_declaring_a_variable_its_sql_lacks_fails_loudly(fineract: sa.Connection) -> None:
    broken = dataclasses.replace(get_rule(166), variables=(*get_rule(166).variables, "shoeSize"))
    with pytest.raises(RuntimeError, match="shoeSize"):
        run_rule(fineract, broken, {"officeId": 1}, TODAY)


def test_every_variable_has_one_rendering_kind() -> None:
    for rule in all_rules():
        assert len(set(rule.variables)) == len(rule.variables)
    assert not catalog.MONEY_VARIABLES & catalog.DATE_VARIABLES


# --- date arithmetic behind the binds and derived variables ----------------------------------


def _days(start: date, end: date) -> Iterator[date]:
    while start <= end:
        yield start
        start += timedelta(days=1)


def test_the_dormancy_bound_matches_whole_months_since_activation() -> None:
    # 171 binds activatedBefore = today - 4 months + 1 day; that must select exactly the clients
    # with more than 3 whole months, the value the runner renders as `dormant`.
    for today in (date(2023, 3, 15), date(2023, 6, 30), date(2024, 2, 29), date(2023, 2, 28), date(2023, 5, 31)):
        bound = minus_months(today, 4) + timedelta(days=1)
        for activated in _days(today - timedelta(days=200), today):
            assert (activated < bound) == (whole_months(activated, today) > 3), (today, activated)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [(date(2023, 5, 31), 3, date(2023, 2, 28)), (date(2024, 6, 30), 4, date(2024, 2, 29)),
     (date(2023, 1, 15), 1, date(2022, 12, 15)), (date(2023, 3, 15), 27, date(2020, 12, 15))],
)
def test_minus_months_clamps_to_the_end_of_the_month(day: date, months: int, expected: date) -> None:
    assert minus_months(day, months) == expected


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(1990, 3, 15), date(2023, 3, 15), 33),
        (date(1990, 3, 16), date(2023, 3, 15), 32),
        (date(2000, 2, 29), date(2023, 2, 28), 23),  # greeted on 28 Feb in a common year
        (date(2000, 2, 29), date(2024, 2, 28), 23),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
        (date(2000, 3, 1), date(2024, 3, 1), 24),  # ceiling(days / 365) would say 25 (D12)
    ],
)
def test_age_is_whole_years_reached_on_this_birthday(born: date, today: date, age: int) -> None:
    assert age_on(born, today) == age


def test_birthday_binds_add_the_leap_day_on_28_february_of_common_years(fineract: sa.Connection) -> None:
    rule = get_rule(176)
    params: dict[str, Any] = {"officeId": 1}

    def pair(today: date) -> tuple[str, str]:
        b = bind_values(fineract, rule, params, today)
        return b["birthdayA"], b["birthdayB"]

    assert pair(date(2023, 2, 28)) == ("02-28", "02-29")
    assert pair(date(2024, 2, 28)) == ("02-28", "02-28")
    assert pair(date(2024, 2, 29)) == ("02-29", "02-29")
    assert pair(date(2023, 3, 15)) == ("03-15", "03-15")


def test_windows_bind_today_minus_the_upper_and_lower_day_counts(fineract: sa.Connection) -> None:
    b = bind_values(fineract, get_rule(173), {"officeId": 1, "fromX": -3, "toY": -1, "overdueX": 5,
                                              "overdueY": 10}, TODAY)
    assert (b["windowStart"], b["windowEnd"]) == ("2023-03-16", "2023-03-18")  # ISO text on SQLite
    assert (b["overdueStart"], b["overdueEnd"]) == ("2023-03-05", "2023-03-10")
    assert b["officePrefix"] == ".%"
