"""Runs a triggered rule for one Fineract event: binds the event's ids and renders its recipients.

The event is the mapping of injected ids a hook or an external event carries
(`herald.rules.catalog.EVENT_IDS`); ids the event does not give are bound as -1, Fineract's "not
given". Every id of the rule's `event_key` must be present: without them the query would select
every repayment, approval, deposit or instalment ever made. The business date is bound as `:today`.

Variables rendered here rather than selected: `RepaymentTime` is the transaction's `created_on_utc`
as "HH:MM" in the caller's time zone (empty when no zone is given, because a UTC time would mislead
a client, or when the row has no time); `annualinterestrate` is the rate without trailing zeros
("18.5", not "18.500000"); `daysUntilDue` and `daysOverdue` count whole days between the
instalment's due date and the business date (0 on the due date itself), so no date arithmetic, which
every database spells differently, sits in the SQL.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from herald.corebank.runner import (
    AudienceRow,
    _as_date,
    _corebank_error,
    _office_hierarchy,
    _Renderer,
    load_sql,
)
from herald.domain.business_rule import BusinessRule
from herald.errors import ParameterError
from herald.rules.catalog import EVENT_IDS, validate_parameters

# Matches every office: every hierarchy starts with the head office's ".".
ALL_OFFICES = ".%"


def event_ids(rule: BusinessRule, event: Mapping[str, object]) -> dict[str, int]:
    """Every injected id as a positive integer, -1 for those the event does not give.

    ParameterError names an id that is unknown, not a positive whole number, or (one of the rule's
    own `event_key`) missing.
    """
    for name in event:
        if name not in EVENT_IDS:
            raise ParameterError(
                f"Event id {name!r} is not one herald binds; expected some of {', '.join(EVENT_IDS)}.",
                field=name,
            )
    ids: dict[str, int] = {}
    for name in EVENT_IDS:
        value = event.get(name)
        if value is None:
            ids[name] = -1
        elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
            ids[name] = value
        else:
            raise ParameterError(f"Event id {name} must be a positive whole number, not {value!r}.", field=name)
    missing = [name for name in rule.event_key if ids[name] == -1]
    if missing or not rule.event_key:
        names = " and ".join(missing or ["ids"])
        raise ParameterError(
            f"Rule {rule.id} {rule.name!r} needs the event's {names}: without it every"
            " event of the kind would be messaged.",
            field=(missing or ["event"])[0],
        )
    return ids


def campaign_binds(conn: sa.Connection, rule: BusinessRule, params: Mapping[str, object]) -> dict[str, Any]:
    """The bind parameters a campaign's filters give its triggered rule (the same for every event)."""
    if not rule.triggered:
        raise ParameterError(
            f"Rule {rule.id} {rule.name!r} is not triggered: it selects an audience, not an event's recipients.",
            field="businessRule",
        )
    p = validate_parameters(rule, params)
    office = p["officeId"]
    # -1 (allowed only where the catalog says so) means every office: one LIKE, never a join along
    # the office path, so a recipient appears once (docs/fineract-differences.md#D13).
    prefix = ALL_OFFICES if office == -1 else _office_hierarchy(conn, office) + "%"
    return {
        "officePrefix": prefix,
        "loanOfficerId": p["loanOfficerId"],
        "loanType": p.get("loanType", -1),
        "true": True,
        "false": False,
    }


def _day(conn: sa.Connection, today: date | None) -> date | str | None:
    # SQLite stores dates as ISO text and compares them so.
    return today.isoformat() if today is not None and conn.dialect.name == "sqlite" else today


def triggered_binds(
    conn: sa.Connection,
    rule: BusinessRule,
    params: Mapping[str, object],
    event: Mapping[str, object],
    today: date | None = None,
) -> dict[str, Any]:
    """Every bind parameter a triggered rule's SQL may use: campaign filters, event ids, booleans, today.

    `today` is the business date (ISO text on SQLite, which stores dates as text); None binds NULL,
    for the rules that do not compare dates.
    """
    return {**campaign_binds(conn, rule, params), "today": _day(conn, today), **event_ids(rule, event)}


def _as_datetime(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    # SQLite hands timestamps back as ISO text.
    return datetime.fromisoformat(str(value))


def _plain_number(value: object) -> str:
    if value is None or value == "":
        return ""
    # Decimal(str(x)) keeps a SQLite float's shortest form (18.5, not 18.499999...).
    number = Decimal(str(value)).normalize()
    return format(number, "f")


class _EventRenderer(_Renderer):
    """The runner's renderer plus the variables only triggered rules have."""

    def __init__(
        self,
        rule: BusinessRule,
        keys: list[str],
        today: date,
        date_format: str,
        zone: tzinfo | None,
        only: Collection[str] | None,
    ) -> None:
        self.zone = zone
        super().__init__(rule, keys, today, date_format, only)

    def _derivation(self, name: str, at: Callable[[str], int]) -> Callable[[Any], str]:
        if name == "RepaymentTime":
            i_time, zone = at("h_time"), self.zone

            def repayment_time(row: Any) -> str:
                moment = _as_datetime(row[i_time])
                if zone is None or moment is None:
                    return ""
                if moment.tzinfo is None:  # created_on_utc is stored without a zone, in UTC
                    moment = moment.replace(tzinfo=UTC)
                return moment.astimezone(zone).strftime("%H:%M")

            return repayment_time
        if name == "annualinterestrate":
            i_rate = at("annualinterestrate")
            return lambda row: _plain_number(row[i_rate])
        if name in ("daysUntilDue", "daysOverdue"):
            i_due, today, sign = at("dueDate"), self.today, 1 if name == "daysUntilDue" else -1

            def days(row: Any) -> str:
                due = _as_date(row[i_due])
                return "" if due is None else str(sign * (due - today).days)

            return days
        return super()._derivation(name, at)


class TriggeredQuery:
    """One campaign's triggered rule, ready to run for event after event on one connection.

    The filters are checked and the office's path is read once, the statement is made once, and the
    column plan of the rendering once per business date: what a burst of events repeats is only
    the rule's own query.
    """

    def __init__(
        self,
        conn: sa.Connection,
        rule: BusinessRule,
        params: Mapping[str, object],
        *,
        date_format: str = "%d %b %Y",
        zone: tzinfo | None = None,
        only: Collection[str] | None = None,
    ) -> None:
        self.conn, self.rule, self.date_format, self.zone, self.only = conn, rule, date_format, zone, only
        self._campaign = campaign_binds(conn, rule, params)
        self._sql = load_sql(rule)
        self._statement = sa.text(self._sql)
        self._renderers: dict[tuple[date, tuple[str, ...]], Callable[[Any], AudienceRow]] = {}

    def run(self, event: Mapping[str, object], today: date) -> list[AudienceRow]:
        """The recipients of one event (ParameterError for ids the rule cannot use)."""
        (outcome,) = self.run_many([(event, today)])
        if isinstance(outcome, ParameterError):
            raise outcome
        return outcome

    def run_many(
        self, events: Sequence[tuple[Mapping[str, object], date]]
    ) -> list[list[AudienceRow] | ParameterError]:
        """The recipients of each (event, business date), in order; an event whose ids the rule cannot use
        gets its ParameterError in its place and the others go on.

        The events go to the database a few dozen to a statement (`UNION ALL` of the rule, each arm with
        its own event's ids and date, tagged with its place): a burst of events costs a few statements,
        not one each. Only a handful of statement shapes exist (`_ARMS`), so each is prepared once.
        """
        rule = self.rule
        outcomes: list[list[AudienceRow] | ParameterError] = []
        ready: list[tuple[int, dict[str, Any], date]] = []  # place, the event's own binds, its date
        for place, (event, today) in enumerate(events):
            try:
                ids = event_ids(rule, event)
            except ParameterError as e:
                outcomes.append(e)
                continue
            outcomes.append([])
            ready.append((place, {"today": _day(self.conn, today), **ids}, today))
        start = 0
        while start < len(ready):
            arms = next(n for n in _ARMS if n <= len(ready) - start)
            chunk = ready[start : start + arms]
            start += arms
            binds = dict(self._campaign)
            if arms == 1:
                statement = self._statement
                binds.update(chunk[0][1])
            else:
                statement = _union(self._sql, arms)
                for arm, (_, own, _) in enumerate(chunk):
                    binds.update({f"{name}__{arm}": value for name, value in own.items()})
            for arm, rows in enumerate(self._fetch(statement, binds, arms > 1, [today for *_, today in chunk])):
                place, own, _ = chunk[arm]
                fact = rule.event_fact(own)
                outcomes[place] = [
                    dataclasses.replace(r, fact_id=f"{fact}:{r.client_id}" if rule.fans_out else fact) for r in rows
                ]
        return outcomes

    def _fetch(
        self, statement: sa.TextClause, binds: Mapping[str, Any], tagged: bool, days: Sequence[date]
    ) -> list[list[AudienceRow]]:
        """Each arm's rendered rows (a tagged statement's first column says whose a row is).

        The statement goes to the driver as the dialect spells it, compiled once per shape
        (`_driver_form`): a 64-arm statement has hundreds of binds, and SQLAlchemy's per-execution
        compile step cost more than the core bank's own work of running it.
        """
        rule = self.rule
        sql, order = _driver_form(statement, self.conn.dialect)
        given = tuple(binds[name] for name in order) if isinstance(order, tuple) else {n: binds[n] for n in order}
        try:
            result = self.conn.exec_driver_sql(sql, given)
        except sa_exc.SQLAlchemyError as e:
            raise _corebank_error(e, rule, self.conn) from None
        per_arm: list[list[AudienceRow]] = [[] for _ in days]
        try:
            keys = tuple(result.keys())
            renders: dict[int, Callable[[Any], AudienceRow]] = {}
            for row in result:
                arm = int(row[0]) if tagged else 0
                render = renders.get(arm)
                if render is None:
                    render = renders[arm] = self._renderer(days[arm], keys)
                per_arm[arm].append(render(row))
        except sa_exc.SQLAlchemyError as e:
            raise _corebank_error(e, rule, self.conn) from None
        finally:
            result.close()
        return per_arm

    def _renderer(self, today: date, keys: tuple[str, ...]) -> Callable[[Any], AudienceRow]:
        render = self._renderers.get((today, keys))
        if render is None:
            render = _EventRenderer(self.rule, list(keys), today, self.date_format, self.zone, self.only).render
            self._renderers[(today, keys)] = render
        return render


@functools.lru_cache(maxsize=256)
def _driver_form(statement: sa.TextClause, dialect: sa.Dialect) -> tuple[str, tuple[str, ...] | frozenset[str]]:
    """The statement as `dialect`'s driver takes it, and its binds: their order when the driver's
    parameters are positional (SQLite's "?"), their names when they are named (psycopg, PyMySQL)."""
    compiled = statement.compile(dialect=dialect)
    if compiled.positional:
        return compiled.string, tuple(compiled.positiontup or ())
    return compiled.string, frozenset(compiled.binds)


_ARMS = (64, 16, 4, 1)
"""How many events one statement asks about: a batch is taken in the largest of these that fit, so only
four statement shapes exist per rule and the database (and SQLAlchemy) prepares each once."""
_PER_EVENT = frozenset(EVENT_IDS) | {"today"}
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")  # a bind in text(): ":name", not "::cast" nor "\\:"


@functools.lru_cache(maxsize=256)
def _union(sql: str, arms: int) -> sa.TextClause:
    """A rule's statement asked `arms` times at once: arm k binds its event's ids and date as ":<name>__k"
    (the campaign's filters stay shared) and tags its rows with k in its first column, h_arm."""

    def arm(k: int) -> str:
        own = _BIND.sub(lambda m: f":{m[1]}__{k}" if m[1] in _PER_EVENT else m[0], sql)
        return f"SELECT {k} AS h_arm, h_q.* FROM (\n{own}\n) AS h_q"

    return sa.text("\nUNION ALL\n".join(arm(k) for k in range(arms)))


def run_triggered(
    conn: sa.Connection,
    rule: BusinessRule,
    params: Mapping[str, object],
    event: Mapping[str, object],
    today: date,
    *,
    date_format: str = "%d %b %Y",
    zone: tzinfo | None = None,
    only: Collection[str] | None = None,
) -> Iterator[AudienceRow]:
    """The recipients of one event with rendered variables; everything is checked and read at the call.

    `params` are the campaign's filters (officeId, loanOfficerId, loanType); `event` the injected
    ids, e.g. {"loanTransactionId": 77031, "loanId": 4410}. The fact id is the event's own id
    (`rule.event_key`; "4410/3" for instalment 3 of loan 4410), followed by ":<client id>" for rules
    where one event reaches several clients (group loans), so that each member's message has its
    own dedup key.
    """
    query = TriggeredQuery(conn, rule, params, date_format=date_format, zone=zone, only=only)
    return iter(query.run(event, today))
