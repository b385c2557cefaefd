"""What herald keeps about one message beyond its row: its re-send chain, its parts, reports parked for it,
who re-sent it (the audit log), its number's opt-out, and which tenant each campaign reads.

herald stores each message's latest state (status, provider, provider id, attempt count, error,
times), not one row per attempt or per report: these are the facts around it that the message page
can show honestly, all read in one connection.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from herald.domain.message import MessageStatus
from herald.store.optouts import OptOut
from herald.store.tables import audit_log, campaigns, message_parts, messages, opt_outs, parked_reports

CHUNK = 500


@dataclass(frozen=True)
class ChainLink:
    """One message of a re-send chain: the original (`resend` 0) or its n-th re-send."""

    id: int
    dedup_key: str
    status: MessageStatus
    created_at: datetime


@dataclass(frozen=True)
class Part:
    """One part of a long message a provider took as several, with what its last report said."""

    part_id: str
    external_id: str
    status: MessageStatus | None


@dataclass(frozen=True)
class ParkedReport:
    """A report that arrived before herald had recorded its provider id, still waiting for it."""

    status: MessageStatus
    at: datetime
    error_code: str | None
    error_text: str | None
    received_at: datetime


@dataclass(frozen=True)
class Resend:
    """An audit entry of a re-send: who (or "system", the policy for failures that pass), how, and when."""

    actor: str | None
    via: str
    at: datetime
    detail: dict[str, Any]


def dedup_key(conn: Connection, message_id: int) -> str | None:
    return conn.execute(select(messages.c.dedup_key).where(messages.c.id == message_id)).scalar_one_or_none()


def chain(conn: Connection, campaign_id: int, base_key: str, mark: str) -> list[ChainLink]:
    """The message keyed `base_key` and every re-send of it (`base_key` + `mark` + n), in id order."""
    query = (
        select(messages.c.id, messages.c.dedup_key, messages.c.status, messages.c.created_at)
        .where(
            messages.c.campaign_id == campaign_id,
            or_(messages.c.dedup_key == base_key, messages.c.dedup_key.startswith(base_key + mark, autoescape=True)),
        )
        .order_by(messages.c.id)
    )
    return [ChainLink(r.id, r.dedup_key, MessageStatus(r.status), r.created_at) for r in conn.execute(query)]


def parts(conn: Connection, message_id: int) -> list[Part]:
    query = select(message_parts).where(message_parts.c.message_id == message_id).order_by(message_parts.c.part_id)
    return [
        Part(r.part_id, r.external_id, MessageStatus(r.status) if r.status is not None else None)
        for r in conn.execute(query)
    ]


def parked(conn: Connection, external_id: str | None) -> list[ParkedReport]:
    """Reports parked under this provider id (any provider: one account may be shared), oldest first."""
    if external_id is None:
        return []
    query = select(parked_reports).where(parked_reports.c.external_id == external_id).order_by(parked_reports.c.id)
    return [
        ParkedReport(MessageStatus(r.status), r.at, r.error_code, r.error_text, r.received_at)
        for r in conn.execute(query)
    ]


def resends_at(conn: Connection, campaign_id: int, times: Iterable[datetime]) -> dict[datetime, Resend]:
    """The re-send audit entries of this campaign written at these instants (a re-send's copies are
    created in the same transaction, at the same instant, as its entry), by instant."""
    wanted = sorted(set(times))
    found: dict[datetime, Resend] = {}
    for start in range(0, len(wanted), CHUNK):
        query = select(audit_log).where(
            audit_log.c.action == "campaign.resend", audit_log.c.at.in_(wanted[start : start + CHUNK])
        )
        for r in conn.execute(query):
            detail = r.detail if isinstance(r.detail, dict) else {}
            if detail.get("id") == campaign_id:
                found[r.at] = Resend(r.actor, r.via, r.at, detail)
    return found


def opt_out(conn: Connection, number: str | None) -> OptOut | None:
    if not number:
        return None
    r = conn.execute(select(opt_outs).where(opt_outs.c.number == number)).first()
    return OptOut(r.number, r.source, r.detail, r.created_at) if r is not None else None


def campaign_tenants(conn: Connection, campaign_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """(name, tenant) of each of these campaigns."""
    wanted = sorted(set(campaign_ids))
    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(wanted), CHUNK):
        query = select(campaigns.c.id, campaigns.c.name, campaigns.c.tenant).where(
            campaigns.c.id.in_(wanted[start : start + CHUNK])
        )
        found.update({int(r.id): (str(r.name), str(r.tenant)) for r in conn.execute(query)})
    return found
