"""The opt-out list as people read and change it by hand (UI, CLI, API): search it, add or take off a number, audited.

STOP replies and provider unsubscribes reach the list on their own (webhooks, the send job);
these are the deliberate changes somebody makes, so the audit log names who made them and
shows the number masked, never in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine

from herald.clock import Clock
from herald.domain import wire
from herald.domain.phones import PhoneRejection, mask, normalize
from herald.errors import PermissionDeniedError, ValidationError
from herald.services import audit
from herald.services.audit import Actor
from herald.store import optouts
from herald.store.optouts import OptOut


def _e164(number: str, default_region: str) -> str:
    if wire.text_problem(number, 40):
        raise ValidationError(f"{number[:40]!r} is not a phone number.", field="number")
    phone = normalize(number, default_region)
    if isinstance(phone, PhoneRejection):
        raise ValidationError(
            f"{mask(number)} is {phone.problem.value}; give the number as +<country><number>.", field="number"
        )
    return phone.e164


def recent(limit: int, *, store: Engine) -> list[OptOut]:
    """The list, newest first (numbers in full: the caller masks them for whoever may not see them)."""
    with store.connect() as conn:
        return optouts.recent(conn, limit)


def add_number(
    number: str, reason: str, actor: Actor, *, store: Engine, clock: Clock, default_region: str
) -> tuple[str, bool]:
    """Put a number on the list; (its E.164 form, whether it was new there)."""
    e164 = _e164(number, default_region)
    reason = wire.cleaned(reason.strip(), 200) or "added by hand"
    now = clock.now()
    with store.begin() as conn:
        added = optouts.add(conn, [e164], source=actor.via, detail=reason, now=now) > 0
        audit.record(conn, actor, "optout.add", now, target=mask(e164), detail={"reason": reason, "new": added})
    return e164, added


def remove_number(
    number: str, actor: Actor, *, store: Engine, clock: Clock, default_region: str, reason: str | None = None
) -> tuple[str, bool]:
    """Take a number off the list (the client asked to be messaged again); (its E.164 form, whether it was on).

    The reason, when given, goes to the audit log: the list itself forgets the number entirely.
    """
    e164 = _e164(number, default_region)
    why = wire.cleaned(reason.strip(), 200) if reason else ""
    now = clock.now()
    with store.begin() as conn:
        gone = optouts.remove(conn, e164)
        if gone:
            audit.record(conn, actor, "optout.remove", now, target=mask(e164), detail={"reason": why} if why else None)
    return e164, gone


@dataclass(frozen=True)
class Found:
    """One page of a search of the list: how many match, the newest of them, and what was searched for."""

    total: int
    rows: list[OptOut]
    searched: str  # how the query was read, in words, for the page to say


class NumberSearch(StrEnum):
    """How far someone may search the list by number, from what they may already see or learn."""

    PART = "part"  # admins: they see numbers in full anyway
    WHOLE = "whole"  # campaign managers: adding or taking a number off already tells whether it is there
    NONE = "none"  # viewers: words only; a yes/no per guessed number would unmask the list bit by bit


def find(query: str, *, numbers: NumberSearch, limit: int, store: Engine, default_region: str) -> Found:
    """The entries matching what someone typed: words of the source or reason, or a number as far as allowed.

    Whoever sees numbers masked may not search by part of one: matching "+2547123" and then
    "+25471234" would spell out numbers they may not see.
    """
    text = wire.cleaned(query.strip(), 60)
    digits = "".join(c for c in text if c.isdigit())
    looks_like_number = bool(text) and len(digits) >= 3 and all(c.isdigit() or c in "+ -()." for c in text)
    with store.connect() as conn:
        if not text:
            total, rows = optouts.search(conn, digits=None, number=None, words=None, limit=limit)
            return Found(total, rows, "")
        if not looks_like_number:
            if digits and numbers is not NumberSearch.PART:  # "called from 0712", "called from 07123", ...
                raise PermissionDeniedError(
                    "Only admins can search the reasons for digits: a reason may quote a number, shown to you masked.",
                    hint="Search by words of the reason without digits.",
                )
            total, rows = optouts.search(conn, digits=None, number=None, words=text, limit=limit)
            return Found(total, rows, f'source or reason containing "{text}"')
        if numbers is NumberSearch.NONE:
            raise PermissionDeniedError(
                "Only campaign managers and admins can look a number up on the opt-out list.",
                hint="Search by words of the reason, or ask a campaign manager.",
            )
        phone = normalize(text, default_region)
        whole = phone.e164 if not isinstance(phone, PhoneRejection) else None
        if numbers is NumberSearch.PART:
            part = whole.lstrip("+") if whole is not None else digits
            total, rows = optouts.search(conn, digits=part, number=None, words=None, limit=limit)
            return Found(total, rows, f"numbers containing {part}")
        if whole is None:
            raise ValidationError(
                f"{mask(text)} is not a whole phone number; only admins can search by part of a number. "
                "Type the whole number (+<country><number>) to see whether it is on the list.",
                field="q",
            )
        total, rows = optouts.search(conn, digits=None, number=whole, words=None, limit=limit)
        return Found(total, rows, f"the number {mask(whole)}")
