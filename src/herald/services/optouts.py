"""The opt-out list as people change it by hand (CLI, API): add or take off a number, each change audited.

STOP replies and provider unsubscribes reach the list on their own (webhooks, the send job);
these are the deliberate changes somebody makes, so the audit log names who made them and
shows the number masked, never in full.
"""

from __future__ import annotations

from sqlalchemy import Engine

from herald.clock import Clock
from herald.domain import wire
from herald.domain.phones import PhoneRejection, mask, normalize
from herald.errors import ValidationError
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


def remove_number(number: str, actor: Actor, *, store: Engine, clock: Clock, default_region: str) -> tuple[str, bool]:
    """Take a number off the list (the client asked to be messaged again); (its E.164 form, whether it was on)."""
    e164 = _e164(number, default_region)
    now = clock.now()
    with store.begin() as conn:
        gone = optouts.remove(conn, e164)
        if gone:
            audit.record(conn, actor, "optout.remove", now, target=mask(e164))
    return e164, gone
