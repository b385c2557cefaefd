"""Dedup keys: what makes one campaign message unique, so that no message is ever created twice."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class DedupScope(StrEnum):
    """How long a rule's underlying fact stays "already messaged".

    ONCE: the fact itself is the event (a repayment, an instalment, a loan closing): one message
    ever, however many runs and overlapping windows see it.
    PER_OCCURRENCE: the fact is a standing state (an active client, a loan in arrears): one message
    per campaign occurrence (each tick of a Scheduled campaign, once for a Direct one).
    PER_YEAR: one message per calendar year of the occurrence (birthdays).
    """

    ONCE = "once"
    PER_OCCURRENCE = "per_occurrence"
    PER_YEAR = "per_year"


DIRECT_OCCURRENCE = "direct"
"""Occurrence label of a Direct campaign: its audience is messaged once, reactivation included."""


def occurrence_label(occurrence: datetime | None) -> str:
    """The stable text of an occurrence: its UTC instant to the minute, or the Direct label."""
    if occurrence is None:
        return DIRECT_OCCURRENCE
    return occurrence.strftime("%Y%m%dT%H%MZ")


def dedup_key(fact: str, fact_id: object, scope: DedupScope, occurrence: datetime | None) -> str:
    """The key unique per campaign: `<fact>:<id>` plus the occurrence or year when the scope says so.

    `occurrence` is the campaign tick (UTC) being materialized, None for a Direct campaign.
    """
    base = f"{fact}:{fact_id}"
    if scope is DedupScope.ONCE:
        return base
    if scope is DedupScope.PER_YEAR:
        year = occurrence.year if occurrence is not None else DIRECT_OCCURRENCE
        return f"{base}@{year}"
    return f"{base}@{occurrence_label(occurrence)}"
