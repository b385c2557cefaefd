"""Re-sending failed messages: an explicit action that makes new messages and keeps the failed ones as history.

A re-send of a message whose dedup key is `K` gets the key `K#resend-1`, a re-send of that one
`K#resend-2`, and so on. Only the newest message of each chain is looked at, and only if it
FAILED, so re-sending twice (or two people clicking at once) never sends anything twice: the
second attempt would need the very key the first one already took. The automatic re-send of
failures that pass (services/transient_resend.py) takes the next key of the same chain, so a
person and the policy can never both send one.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from herald.clock import Clock
from herald.domain.campaign import CampaignStatus
from herald.domain.message import MessageStatus
from herald.errors import LifecycleError
from herald.services import audit
from herald.services import campaigns as campaign_service
from herald.services.audit import SYSTEM, Actor
from herald.store import campaign_messages
from herald.store import messages as message_store
from herald.store.campaign_messages import CampaignMessage
from herald.store.messages import UNKNOWN_OUTCOME

MARK = "#resend-"
KEY_LIMIT = 200  # messages.dedup_key is String(200)


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


def resend_counts(*, store: Engine, campaign_id: int | None = None) -> dict[int, dict[MessageStatus, int]]:
    """Re-sends (manual or by the policy for failures that pass) per campaign per status; the tabs'
    counts minus these are the first attempts."""
    with store.connect() as conn:
        return campaign_messages.resend_counts(conn, MARK, campaign_id)


def first_attempts(
    counts: dict[MessageStatus, int] | None, resends: dict[MessageStatus, int] | None
) -> dict[MessageStatus, int]:
    """The tabs' counts of one campaign without its re-sends."""
    counts, resends = counts or {}, resends or {}
    return {s: counts.get(s, 0) - resends.get(s, 0) for s in MessageStatus}


def resend_failed(
    campaign_id: int,
    message_ids: Collection[int] | None = None,
    *,
    store: Engine,
    clock: Clock,
    actor: Actor = SYSTEM,
) -> ResendResult:
    """New PENDING copies of the campaign's FAILED messages (all, or those in `message_ids`)."""
    campaign = campaign_service.get(campaign_id, store=store)
    if campaign.status is not CampaignStatus.ACTIVE:
        raise LifecycleError(
            f'Campaign "{campaign.name}" is {campaign.status.name.capitalize()}: its messages are not sent, '
            "so a re-send would only wait.",
            hint="Activate or reactivate it first.",
        )
    now = clock.now()
    with store.begin() as conn:
        newest: dict[str, tuple[int, CampaignMessage]] = {}
        for message in campaign_messages.failed_or_resent(conn, campaign.id, MARK):
            base, n = chain_of(message.dedup_key)
            if base not in newest or n > newest[base][0]:
                newest[base] = (n, message)
        wanted = [
            (base, n, message)
            for base, (n, message) in newest.items()
            if message.status is MessageStatus.FAILED and (message_ids is None or message.id in message_ids)
        ]
        new_rows = [copy_of(message, f"{base}{MARK}{n + 1}", campaign.provider, now) for base, n, message in wanted]
        fitting = [r for r in new_rows if len(r[1]) <= KEY_LIMIT]
        created = message_store.insert_new(conn, fitting)
        # A failure whose outcome is unknown may have been sent: its copy carries the doubt, so the
        # send job asks the provider about it before anything goes out.
        for base, n, message in wanted:
            if message.error_code == UNKNOWN_OUTCOME and message.in_doubt_since is not None:
                campaign_messages.carry_doubt(conn, campaign.id, f"{base}{MARK}{n + 1}", message.in_doubt_since)
        result = ResendResult(failed=len(wanted), resent=created, skipped=len(wanted) - created)
        detail = {"id": campaign.id, "failed": result.failed, "resent": result.resent, "skipped": result.skipped}
        if message_ids is not None:
            detail["chosen"] = len(message_ids)
        audit.record(conn, actor, "campaign.resend", now, target=campaign.name, tenant=campaign.tenant, detail=detail)
    return result


def copy_of(message: CampaignMessage, key: str, provider: str, now: datetime) -> tuple[Any, ...]:
    """A new PENDING message with `message`'s text and number under `key`, as a row for insert_new."""
    values = {
        "campaign_id": message.campaign_id,
        "dedup_key": key,
        "client_id": message.client_id,
        "office_id": message.office_id,
        "mobile_no": message.mobile_no,
        "body": message.body,
        "status": MessageStatus.PENDING,
        "reason": None,
        "encoding": message.encoding,
        "segments": message.segments,
        "provider": provider,  # the campaign's provider now; failover starts afresh
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    return tuple(values[c] for c in message_store.NEW_MESSAGE_COLUMNS)
