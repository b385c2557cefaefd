"""Re-sending failed messages: an explicit action that makes new messages and keeps the failed ones as history.

A re-send of a message whose dedup key is `K` gets the key `K#resend-1`, a re-send of that one
`K#resend-2`, and so on. Only the newest message of each chain is looked at, and only if it
FAILED, so re-sending twice (or two people clicking at once) never sends anything twice: the
second attempt would need the very key the first one already took.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update

from herald.app import Herald
from herald.domain.campaign import CampaignStatus
from herald.domain.message import MessageStatus
from herald.errors import LifecycleError
from herald.services import audit
from herald.services import campaigns as campaign_service
from herald.services.audit import SYSTEM, Actor
from herald.store import messages as message_store
from herald.store.messages import UNKNOWN_OUTCOME
from herald.store.tables import messages

MARK = "#resend-"
_KEY_LIMIT = 200  # messages.dedup_key is String(200)


@dataclass(frozen=True)
class ResendResult:
    failed: int  # failed messages that were the newest of their chain
    resent: int  # new PENDING messages made
    skipped: int  # already re-sent meanwhile, or a key that would not fit


def chain_of(key: str) -> tuple[str, int]:
    """(the original key, which re-send this is): "loan:7#resend-2" -> ("loan:7", 2)."""
    base, sep, number = key.rpartition(MARK)
    if sep and number.isdigit():
        return base, int(number)
    return key, 0


def resend_failed(
    herald: Herald, campaign_id: int, message_ids: Collection[int] | None = None, actor: Actor = SYSTEM
) -> ResendResult:
    """New PENDING copies of the campaign's FAILED messages (all, or those in `message_ids`)."""
    campaign = campaign_service.get(herald, campaign_id)
    if campaign.status is not CampaignStatus.ACTIVE:
        raise LifecycleError(
            f'Campaign "{campaign.name}" is {campaign.status.name.capitalize()}: its messages are not sent, '
            "so a re-send would only wait.",
            hint="Activate or reactivate it first.",
        )
    now = herald.clock.now()
    with herald.store.begin() as conn:
        # A chain only grows from a FAILED message, so failed ones and earlier re-sends are all that matter:
        # a large campaign's delivered messages are never read.
        rows = conn.execute(
            select(messages)
            .where(
                messages.c.campaign_id == campaign.id,
                or_(messages.c.status == MessageStatus.FAILED, messages.c.dedup_key.contains(MARK, autoescape=True)),
            )
            .order_by(messages.c.id)
        ).all()
        newest: dict[str, tuple[int, Any]] = {}
        for row in rows:
            base, n = chain_of(row.dedup_key)
            if base not in newest or n > newest[base][0]:
                newest[base] = (n, row)
        wanted = [
            (base, n, row)
            for base, (n, row) in newest.items()
            if row.status == MessageStatus.FAILED and (message_ids is None or row.id in message_ids)
        ]
        new_rows = [_copy(row, f"{base}{MARK}{n + 1}", campaign.provider, now) for base, n, row in wanted]
        fitting = [r for r in new_rows if len(r[1]) <= _KEY_LIMIT]
        created = message_store.insert_new(conn, fitting)
        # A failure whose outcome is unknown may have been sent: its copy carries the doubt, so the
        # send job asks the provider about it before anything goes out.
        for base, n, row in wanted:
            if row.error_code == UNKNOWN_OUTCOME and row.in_doubt_since is not None:
                conn.execute(
                    update(messages)
                    .where(messages.c.campaign_id == campaign.id, messages.c.dedup_key == f"{base}{MARK}{n + 1}")
                    .values(in_doubt_since=row.in_doubt_since)
                )
        result = ResendResult(failed=len(wanted), resent=created, skipped=len(wanted) - created)
        detail = {"id": campaign.id, "failed": result.failed, "resent": result.resent, "skipped": result.skipped}
        if message_ids is not None:
            detail["chosen"] = len(message_ids)
        audit.record(conn, actor, "campaign.resend", now, target=campaign.name, tenant=campaign.tenant, detail=detail)
    return result


def _copy(row: Any, key: str, provider: str, now: Any) -> tuple[Any, ...]:
    values = {
        "campaign_id": row.campaign_id,
        "dedup_key": key,
        "client_id": row.client_id,
        "office_id": row.office_id,
        "mobile_no": row.mobile_no,
        "body": row.body,
        "status": MessageStatus.PENDING,
        "reason": None,
        "encoding": row.encoding,
        "segments": row.segments,
        "provider": provider,  # the campaign's provider now; failover starts afresh
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    return tuple(values[c] for c in message_store.NEW_MESSAGE_COLUMNS)
