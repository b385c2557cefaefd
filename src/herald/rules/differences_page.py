"""Renders docs/fineract-differences.md from herald.rules.differences, so the page and `herald rules show` agree.

After changing an entry, write the page again from the repository root:

    .venv/bin/python -m herald.rules.differences_page > docs/fineract-differences.md

tests/unit/test_fineract_differences.py fails while the page and the entries disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

from herald.rules.catalog import all_rules
from herald.rules.differences import DIFFERENCES, Difference, differences_for

_INTRO = """\
# How herald's business rules differ from Fineract's

herald runs the SMS business rules Fineract ships (ids 166-187: the audience queries of Direct and
Scheduled campaigns and the recipients of Triggered ones) under the same names, parameters and
template variables, from its own SQL files (`src/herald/rules/sql/`), and five triggered rules of
its own, 1001-1005, for events Fineract has no SMS rule for ([D35](#D35)). This page lists every way
those rules knowingly behave differently from Fineract's shipped reports: what Fineract does, what
herald does instead, and why. `herald rules show <rule>` prints the entries that apply to a rule.

**If Fineract runs on PostgreSQL, its own SMS campaigns send nothing.** PostgreSQL lower-cases the
shipped rules' column names, so Fineract finds no `mobileNo` and drops every client of every Direct
and Scheduled campaign and of the Triggered ones it runs as SQL ([D4](#D4)); Happy Birthday fails
outright ([D6](#D6)). herald's rules give the same clients and messages on PostgreSQL as on
MySQL/MariaDB. See them on your Fineract database (read-only; nothing is sent by a preview):

```sh
export HERALD_COREBANK_URL=postgresql+psycopg://USER:PASSWORD@HOST:5432/fineract_default
herald campaigns create --name Birthdays --rule "Happy Birthday" -p officeId=1 --message "Happy birthday {{firstName}}!"
herald campaigns preview Birthdays
```

The README's "Fineract on PostgreSQL" shows the same on an empty PostgreSQL database with demo data.

Ids are stable and cited in herald's code ("see docs/fineract-differences.md#D4"). D1-D23 are
defects of Fineract's shipped rules; D24 onwards are herald's own choices. Where an entry says
"checked", the behaviour was reproduced with Fineract's shipped SQL on a real database; "read from
its source" means Fineract's Java.

This page is generated from `src/herald/rules/differences.py`; edit that file, then run
`.venv/bin/python -m herald.rules.differences_page > docs/fineract-differences.md`.
"""


def _rule_list(d: Difference) -> str:
    if not d.rules:
        return "none of herald's rules"
    ids = list(d.rules)
    runs: list[str] = []
    start = prev = ids[0]
    for rid in [*ids[1:], None]:
        if rid is not None and rid == prev + 1:
            prev = rid
            continue
        if prev - start >= 2:
            runs.append(f"{start}-{prev}")
        else:
            runs.extend(str(n) for n in range(start, prev + 1))
        if rid is not None:
            start = prev = rid
    return ", ".join(runs)


def entry(d: Difference) -> str:
    """One entry as Markdown, with an anchor named by its id."""
    return (
        f'<a id="{d.id}"></a>\n'
        f"### {d.id}: {d.title}\n\n"
        f"*Rules:* {_rule_list(d)}. *Stance:* {d.stance.value}.\n\n"
        f"- **Fineract:** {d.fineract}\n"
        f"- **herald:** {d.herald}\n"
        f"- **Why:** {d.why}\n"
    )


def _links(differences: Iterable[Difference]) -> str:
    return ", ".join(f"[{d.id}](#{d.id})" for d in differences)


def _index() -> str:
    everywhere = [d for d in DIFFERENCES if set(d.rules) >= {r.id for r in all_rules()}]
    lines = [
        "## By rule",
        "",
        f"Every rule: {_links(everywhere)}. Besides those:",
        "",
        "| rule | differences |",
        "|---|---|",
    ]
    for rule in all_rules():
        own = [d for d in differences_for(rule.id) if d not in everywhere]
        lines.append(f"| {rule.id} {rule.name} | {_links(own)} |")
    return "\n".join(lines) + "\n"


def page() -> str:
    """The whole page, exactly as docs/fineract-differences.md holds it."""
    entries = "\n".join(entry(d) for d in DIFFERENCES)
    return f"{_INTRO}\n{_index()}\n## The differences\n\n{entries}"


if __name__ == "__main__":
    print(page(), end="")
