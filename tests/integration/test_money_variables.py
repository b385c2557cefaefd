"""Every money variable of every rule reads one way: the account's currency code and its own decimals.

Run over the demo core bank (four currencies: KES and TZS with two decimals, UGX and RWF with none),
so one campaign across offices would show "KES 4,000.00" and "UGX 4,000", never "4,000.00" next to
"4,000" with nothing saying which is which (issue 12 item 9).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from herald.corebank.demo import create_demo_database
from herald.corebank.demo_catalog import CURRENCIES
from herald.corebank.recent_events import latest_event
from herald.corebank.runner import run_rule
from herald.domain.business_rule import BusinessRule
from herald.domain.variables import money_text, office_name_text
from herald.rules.catalog import MONEY_VARIABLES, all_rules

TODAY = date(2026, 11, 20)
_MONEY = re.compile(r"(?P<code>[A-Z]{3}) \d{1,3}(,\d{3})*(\.(?P<decimals>\d+))?")
_WIDE = {
    "officeId": 1,
    "loanOfficerId": -1,
    "fromX": -400,
    "toY": 400,
    "cycleX": 0,
    "cycleY": 4000,
    "overdueX": 0,
    "overdueY": 4000,
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    path: Path = tmp_path_factory.mktemp("money") / "fineract.sqlite"
    create_demo_database(f"sqlite:///{path}", clients=300, seed=1, today=TODAY)
    engine = sa.create_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def _params(rule: BusinessRule) -> dict[str, int]:
    return {p.name: _WIDE.get(p.name, p.default if p.default is not None else -1) for p in rule.parameters}


def _money_rules() -> list[BusinessRule]:
    return [r for r in all_rules() if MONEY_VARIABLES & set(r.variables)]


def _check(rule: BusinessRule, variables: dict[str, str]) -> int:
    seen: set[str] = set()
    checked = 0
    for name in MONEY_VARIABLES & set(variables):
        value = variables[name]
        if not value:
            continue
        found = _MONEY.fullmatch(value)
        assert found, f"rule {rule.id} {name} = {value!r} is not '<currency> <amount>'"
        code = found.group("code")
        digits = len(found.group("decimals") or "")
        assert code in CURRENCIES and digits == CURRENCIES[code].digits, f"rule {rule.id} {name} = {value!r}"
        seen.add(code)
        checked += 1
    assert len(seen) <= 1, f"rule {rule.id}: one recipient's amounts in several currencies {seen}"
    return checked


@pytest.mark.parametrize("rule", _money_rules(), ids=lambda r: str(r.id))
def test_every_money_variable_carries_its_currency_and_its_decimals(rule: BusinessRule, demo: sa.Engine) -> None:
    with demo.connect() as conn:
        if rule.triggered:
            found = latest_event(conn, rule, _params(rule) | {"officeId": 1}, TODAY)
            assert found is not None, f"the demo has a {rule.name} event"
            rows = [found.row]
        else:
            rows = list(run_rule(conn, rule, _params(rule), TODAY))
        checked = sum(_check(rule, r.variables) for r in rows)
        currencies = {m.group("code") for r in rows for v in r.variables.values() if (m := _MONEY.fullmatch(v))}
    assert checked > 0, f"the demo gives rule {rule.id} recipients with amounts"
    if not rule.triggered and len(rows) > 50:
        assert len(currencies) > 1, "the demo's offices mix currencies, which is what this test is about"


def test_money_and_office_names_as_clients_read_them() -> None:
    assert money_text("4000.005", 2, "KES") == "KES 4,000.00"  # half-even, as Fineract rounds
    assert money_text(4000, 0, "UGX") == "UGX 4,000"
    assert money_text(1234.5, None, None) == "1,234.50"
    assert [office_name_text(n) for n in ("..Nairobi", "....Kawangware", "Head Office", None)] == [
        "Nairobi",
        "Kawangware",
        "Head Office",
        "",
    ]
