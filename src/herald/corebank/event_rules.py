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
from collections.abc import Callable, Collection, Iterator, Mapping
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
        self._statement = sa.text(load_sql(rule))
        self._renderers: dict[tuple[date, tuple[str, ...]], Callable[[Any], AudienceRow]] = {}

    def run(self, event: Mapping[str, object], today: date) -> list[AudienceRow]:
        """The recipients of one event (ParameterError for ids the rule cannot use)."""
        rule = self.rule
        binds = {**self._campaign, "today": _day(self.conn, today), **event_ids(rule, event)}
        try:
            result = self.conn.execute(self._statement, binds)
        except sa_exc.SQLAlchemyError as e:
            raise _corebank_error(e, rule, self.conn) from None
        try:
            keys = tuple(result.keys())
            render = self._renderers.get((today, keys))
            if render is None:
                render = _EventRenderer(rule, list(keys), today, self.date_format, self.zone, self.only).render
                self._renderers[(today, keys)] = render
            rows = [render(row) for row in result]
        except sa_exc.SQLAlchemyError as e:
            raise _corebank_error(e, rule, self.conn) from None
        finally:
            result.close()
        fact = rule.event_fact(binds)
        return [dataclasses.replace(r, fact_id=f"{fact}:{r.client_id}" if rule.fans_out else fact) for r in rows]


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
