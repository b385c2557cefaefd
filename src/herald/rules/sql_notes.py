"""What each rule's SQL file says about itself: the Selects, Grain and Dedup fact paragraphs of its header.

Every file in rules/sql opens with a comment block reviewed with the SQL under it; `herald rules show`
prints these three paragraphs as the rule's SQL summary, so the summary cannot drift from the file.
"""

from __future__ import annotations

import re
from importlib import resources

from herald.domain.business_rule import BusinessRule

SUMMARY_FIELDS = ("Selects", "Grain", "Dedup fact")
_FIELD = re.compile(r"^-- ([A-Za-z][A-Za-z ]*): (.*)$")
_CONTINUATION = re.compile(r"^--\s{2,}(.*)$")


def sql_text(rule: BusinessRule) -> str:
    """The rule's SQL file as shipped in the package, comments included."""
    return resources.files("herald.rules").joinpath("sql", rule.sql_file).read_text(encoding="utf-8")


def header(rule: BusinessRule) -> str:
    """The comment block that opens the rule's SQL file, as text."""
    lines: list[str] = []
    for line in sql_text(rule).splitlines():
        if not line.startswith("--"):
            break
        lines.append(line)
    return "\n".join(lines)


def sql_summary(rule: BusinessRule) -> dict[str, str]:
    """The header's Selects, Grain and Dedup fact paragraphs, each joined into one line."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in header(rule).splitlines():
        field = _FIELD.match(line)
        if field:
            current = found.setdefault(field.group(1), []) if field.group(1) in SUMMARY_FIELDS else None
            if current is not None:
                current.append(field.group(2).strip())
            continue
        more = _CONTINUATION.match(line)
        if more and current is not None:
            current.append(more.group(1).strip())
        else:
            current = None
    return {name: " ".join(found[name]) for name in SUMMARY_FIELDS if name in found}
