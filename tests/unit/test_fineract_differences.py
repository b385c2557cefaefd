"""docs/fineract-differences.md, the entries `herald rules show` prints and the ids cited in the code all agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from herald.domain.business_rule import BusinessRule
from herald.rules.catalog import all_rules
from herald.rules.differences import DIFFERENCES, PAGE, Stance, differences_for, get_difference
from herald.rules.differences_page import page
from herald.rules.sql_notes import SUMMARY_FIELDS, header, sql_summary

ROOT = Path(__file__).parents[2]
CITED = re.compile(r"\bD(\d{1,3})\b")
LINKED = re.compile(r"fineract-differences\.md#(\w+)")
RULE_IDS = {r.id for r in all_rules()}


def _sources() -> list[Path]:
    """Every file whose comments may cite a difference: herald's code and SQL, the tests, the README."""
    files = [*(ROOT / "src" / "herald").rglob("*.py"), *(ROOT / "src" / "herald").rglob("*.sql")]
    files += [*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py"), ROOT / "README.md"]
    return [f for f in files if ".venv" not in f.parts]


def test_the_page_in_docs_is_the_one_rendered_from_the_entries() -> None:
    on_disk = (ROOT / PAGE).read_text(encoding="utf-8")
    assert on_disk == page(), (
        f"{PAGE} is out of date: run `.venv/bin/python -m herald.rules.differences_page > {PAGE}`"
    )


def test_every_difference_cited_or_linked_in_the_code_is_defined_on_the_page() -> None:
    known = {d.id for d in DIFFERENCES}
    undefined: list[str] = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        cited = {f"D{n}" for n in CITED.findall(text)} | set(LINKED.findall(text))
        undefined += [f"{path.relative_to(ROOT)}: {d}" for d in sorted(cited - known)]
    assert undefined == []
    anchors = set(re.findall(r'<a id="(\w+)"></a>', (ROOT / PAGE).read_text(encoding="utf-8")))
    assert anchors == known


def test_each_rules_sql_cites_only_differences_that_list_that_rule() -> None:
    wrong: list[str] = []
    for rule in all_rules():
        for cited in sorted({f"D{n}" for n in CITED.findall(header(rule))}):
            if rule.id not in get_difference(cited).rules:
                wrong.append(f"{rule.sql_file} cites {cited}, which does not list rule {rule.id}")
    assert wrong == []


def test_ids_are_unique_in_order_and_name_real_rules() -> None:
    assert [d.id for d in DIFFERENCES] == [f"D{n}" for n in range(1, len(DIFFERENCES) + 1)]
    for d in DIFFERENCES:
        assert set(d.rules) <= RULE_IDS, d.id
        assert list(d.rules) == sorted(set(d.rules)), d.id
        assert (not d.rules) == (d.stance is Stance.NOT_APPLICABLE), d.id
        assert d.title and d.fineract and d.herald and d.why, d.id


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: str(r.id))
def test_every_rule_has_an_sql_summary_and_at_least_one_difference(rule: BusinessRule) -> None:
    summary = sql_summary(rule)
    assert list(summary) == list(SUMMARY_FIELDS)
    assert all(len(text) > 10 for text in summary.values())
    assert differences_for(rule.id)


def test_the_postgresql_failures_of_fineracts_shipped_rules_are_listed_where_they_apply() -> None:
    # What an institution on PostgreSQL most needs to know: Fineract's own rules send nothing there.
    assert get_difference("D4") in differences_for(166)
    assert "PostgreSQL" in get_difference("D4").title
    assert get_difference("D6") in differences_for(176)
    assert "does not run on PostgreSQL" in get_difference("D6").title
