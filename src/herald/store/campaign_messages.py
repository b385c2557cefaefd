"""Reading one campaign's messages by what identifies them: dedup keys, re-send chains, new PENDING ones,
provider ids.

The send path's claims and updates are in `store.messages`; these are the queries the campaign
services (re-send and its policy, triggered events, the drop-in gateway) ask, mostly of a single
campaign, and who holds a provider id (the in-doubt lookup must not adopt another message's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, or_, select, true, update

from herald.domain.campaign import CampaignStatus, TriggerType
from herald.domain.message import MessageStatus
from herald.store.tables import campaigns, messages

_IN_LIMIT = 500  # keys per IN (...): well under every database's bind-parameter limit


@dataclass(frozen=True, kw_only=True)
class CampaignMessage:
    """One stored message, as the campaign services read it."""

    id: int
    campaign_id: int
    dedup_key: str
    client_id: int | None
    office_id: int | None
    mobile_no: str | None
    body: str
    status: MessageStatus
    reason: str | None
    encoding: str
    segments: int
    external_id: str | None
    in_doubt_since: datetime | None
    error_code: str | None
    error_text: str | None
    created_at: datetime
    delivered_at: datetime | None
    language: str | None = None  # the template's language it was written in (domain/languages.py)


def _message(row: Row[Any]) -> CampaignMessage:
    return CampaignMessage(
        id=row.id,
        campaign_id=row.campaign_id,
        dedup_key=row.dedup_key,
        client_id=row.client_id,
        office_id=row.office_id,
        mobile_no=row.mobile_no,
        body=row.body,
        status=MessageStatus(row.status),
        reason=row.reason,
        encoding=row.encoding,
        segments=row.segments,
        external_id=row.external_id,
        in_doubt_since=row.in_doubt_since,
        error_code=row.error_code,
        error_text=row.error_text,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        language=row.language,
    )


def failed_or_resent(conn: Connection, campaign_id: int, mark: str) -> list[CampaignMessage]:
    """The campaign's FAILED messages and every re-send (a key holding `mark`), oldest first.

    A re-send chain only grows from a FAILED message, so these are all a re-send needs to read:
    a large campaign's delivered messages never are."""
    query = (
        select(messages)
        .where(
            messages.c.campaign_id == campaign_id,
            or_(messages.c.status == MessageStatus.FAILED, messages.c.dedup_key.contains(mark, autoescape=True)),
        )
        .order_by(messages.c.id)
    )
    return [_message(r) for r in conn.execute(query)]


@dataclass(frozen=True, kw_only=True)
class TransientFailure:
    """A FAILED message whose report said the failure passes, with what a re-send of it needs."""

    message: CampaignMessage
    failed_at: datetime  # when herald applied the report
    campaign: str  # its campaign's name
    tenant: str  # its campaign's: whose office profiles say the local time
    provider: str  # its campaign's provider now: a re-send goes there


def transient_failures(conn: Connection, since: datetime, until: datetime, limit: int) -> list[TransientFailure]:
    """Active campaigns' messages that failed for a reason that passes between `since` and `until`, oldest first,
    that the re-send policy has not settled yet; not those Fineract handed over as its gateway."""
    query = (
        select(
            messages,
            campaigns.c.name.label("campaign_name"),
            campaigns.c.tenant,
            campaigns.c.provider.label("campaign_provider"),
        )
        .join(campaigns, campaigns.c.id == messages.c.campaign_id)
        .where(
            # Only a FAILED report sets the flag and FAILED is final: the partial index on it is the whole
            # search (a status term here would have SQLite pick the status index instead).
            messages.c.resend_pending == true(),
            messages.c.updated_at > since,
            messages.c.updated_at <= until,
            campaigns.c.status == CampaignStatus.ACTIVE,
            # Fineract reads a gateway message's status by its own id and would never see a copy.
            campaigns.c.trigger_type != TriggerType.GATEWAY,
        )
        .order_by(messages.c.id)
        .limit(limit)
    )
    return [
        TransientFailure(
            message=_message(r),
            failed_at=r.updated_at,
            campaign=r.campaign_name,
            tenant=r.tenant,
            provider=r.campaign_provider,
        )
        for r in conn.execute(query)
        if r.status == MessageStatus.FAILED
    ]


def expire_resends(conn: Connection, before: datetime) -> None:
    """Failures reported before `before` are past any re-send window: the policy is done with them."""
    conn.execute(
        update(messages)
        .where(messages.c.resend_pending == true(), messages.c.updated_at <= before)
        .values(resend_pending=False)
    )


def settle_resends(conn: Connection, ids: Sequence[int]) -> None:
    """The re-send policy is done with these failed messages (copied, or never to be): it reads them no more."""
    for start in range(0, len(ids), _IN_LIMIT):
        chunk = list(ids[start : start + _IN_LIMIT])
        conn.execute(update(messages).where(messages.c.id.in_(chunk)).values(resend_pending=False))


def taken_keys(conn: Connection, campaign_id: int, keys: Sequence[str]) -> set[str]:
    """Which of these dedup keys the campaign's messages already hold."""
    taken: set[str] = set()
    for start in range(0, len(keys), _IN_LIMIT):
        query = select(messages.c.dedup_key).where(
            messages.c.campaign_id == campaign_id, messages.c.dedup_key.in_(keys[start : start + _IN_LIMIT])
        )
        taken |= set(conn.execute(query).scalars())
    return taken


def carry_doubt(conn: Connection, campaign_id: int, dedup_key: str, since: datetime) -> None:
    """The message keyed `dedup_key` may already be at the provider since `since`: ask before sending it."""
    conn.execute(
        update(messages)
        .where(messages.c.campaign_id == campaign_id, messages.c.dedup_key == dedup_key)
        .values(in_doubt_since=since)
    )


def by_keys(conn: Connection, campaign_id: int, keys: Sequence[str]) -> list[CampaignMessage]:
    """The campaign's messages with these dedup keys (those that exist)."""
    found: list[CampaignMessage] = []
    for start in range(0, len(keys), _IN_LIMIT):
        query = select(messages).where(
            messages.c.campaign_id == campaign_id, messages.c.dedup_key.in_(keys[start : start + _IN_LIMIT])
        )
        found += [_message(r) for r in conn.execute(query)]
    return found


def keys_of(conn: Connection, campaign_id: int, ids: Sequence[int]) -> dict[int, str]:
    """The dedup keys of these messages of the campaign (those that are its)."""
    keys: dict[int, str] = {}
    for start in range(0, len(ids), _IN_LIMIT):
        query = select(messages.c.id, messages.c.dedup_key).where(
            messages.c.campaign_id == campaign_id, messages.c.id.in_(list(ids[start : start + _IN_LIMIT]))
        )
        keys |= {mid: key for mid, key in conn.execute(query)}
    return keys


def untried_pending_ids(conn: Connection, campaign_id: int, keys: Sequence[str]) -> list[int]:
    """The ids of the campaign's messages with these keys that are PENDING and never tried: the ones just made."""
    ids: list[int] = []
    for start in range(0, len(keys), _IN_LIMIT):
        query = select(messages.c.id).where(
            messages.c.campaign_id == campaign_id,
            messages.c.dedup_key.in_(keys[start : start + _IN_LIMIT]),
            messages.c.status == MessageStatus.PENDING,
            messages.c.attempts == 0,
        )
        ids += conn.execute(query).scalars()
    return ids


def resend_counts(conn: Connection, mark: str, campaign_id: int | None = None) -> dict[int, dict[MessageStatus, int]]:
    """Messages per campaign per status whose dedup key holds `mark`: the re-sends among the tabs' counts."""
    query = (
        select(messages.c.campaign_id, messages.c.status, func.count())
        .where(messages.c.dedup_key.contains(mark, autoescape=True))
        .group_by(messages.c.campaign_id, messages.c.status)
    )
    if campaign_id is not None:
        query = query.where(messages.c.campaign_id == campaign_id)
    counts: dict[int, dict[MessageStatus, int]] = {}
    for cid, status, n in conn.execute(query):
        counts.setdefault(cid, {s: 0 for s in MessageStatus})[MessageStatus(status)] = n
    return counts


def external_id_holders(conn: Connection, provider: str, external_ids: Sequence[str]) -> dict[str, int]:
    """Which message holds each of these provider ids (those held)."""
    held: dict[str, int] = {}
    for start in range(0, len(external_ids), 500):
        chunk = list(external_ids[start : start + 500])
        query = select(messages.c.external_id, messages.c.id).where(
            messages.c.provider == provider, messages.c.external_id.in_(chunk)
        )
        held |= {ext: mid for ext, mid in conn.execute(query)}
    return held
