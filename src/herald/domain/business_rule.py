"""Business rules as data: the audience query's parameters, variables and what makes one of its messages unique."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from herald.domain.dedup import DedupScope


class ParamKind(Enum):
    """What a rule parameter holds, so the UI can offer the right input."""

    OFFICE = "office"
    LOAN_OFFICER = "loan_officer"
    DAYS = "days"
    LOAN_TYPE = "loan_type"


@dataclass(frozen=True)
class RuleParameter:
    """One parameter of a rule, under Fineract's placeholder name (`officeId`, `fromX` ...)."""

    name: str
    label: str
    kind: ParamKind
    default: int | None
    description: str
    allows_all: bool = False  # an office parameter where -1 means every office (triggered loan/savings rules)


@dataclass(frozen=True)
class BusinessRule:
    """One audience query: who it selects, what variables it offers, what makes a message unique.

    `fact` names what `h_fact` identifies; with `dedup_scope` it builds the message's dedup key.
    `derived_variables` are computed by the runner in Python rather than selected by the SQL.
    Triggered rules also name the Fineract `events` (entity, action) that fire them, the
    `event_key` (the injected ids that together identify the fact and must all be present: one
    for most events, the loan and the instalment number for an instalment's), and whether one
    event `fans_out` to several clients (group loans), in which case the fact id carries the client.
    """

    id: int
    name: str
    triggered: bool
    category: str | None
    description: str
    parameters: tuple[RuleParameter, ...]
    variables: tuple[str, ...]
    fact: str
    dedup_scope: DedupScope
    sql_file: str
    derived_variables: tuple[str, ...] = ()
    events: tuple[tuple[str, str], ...] = ()
    event_key: tuple[str, ...] = ()
    fans_out: bool = False

    def event_fact(self, ids: Mapping[str, int]) -> str:
        """The fact id of one event: its `event_key` ids joined by "/" ("4410/3"); a single id stays as it is."""
        return "/".join(str(ids[name]) for name in self.event_key)

    def parameter(self, name: str) -> RuleParameter | None:
        """The parameter called `name`, or None when the rule has no such parameter."""
        for p in self.parameters:
            if p.name == name:
                return p
        return None
