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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

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


NO_CODE = "none"  # how a failure without a provider error code is chosen (UI and `--code none`)


@dataclass(frozen=True)
class ResendResult:
    failed: int  # failed messages that were the newest of their chain (and of a chosen code)
    resent: int  # new PENDING messages made
    skipped: int  # already re-sent meanwhile, or a key that would not fit
    by_code: dict[str, int] = field(default_factory=dict)  # the failed ones looked at, per failure code


def code_of(message: CampaignMessage) -> str:
    """The failure code a re-send is chosen by: the provider's error code, or NO_CODE."""
    return message.error_code or NO_CODE


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


def _newest_failed(conn: Connection, campaign_id: int) -> list[tuple[str, int, CampaignMessage]]:
    """(original key, re-send number, message) for each chain whose newest message FAILED."""
    newest: dict[str, tuple[int, CampaignMessage]] = {}
    for message in campaign_messages.failed_or_resent(conn, campaign_id, MARK):
        base, n = chain_of(message.dedup_key)
        if base not in newest or n > newest[base][0]:
            newest[base] = (n, message)
    return [(base, n, m) for base, (n, m) in newest.items() if m.status is MessageStatus.FAILED]


def resendable(campaign_id: int, *, store: Engine) -> list[CampaignMessage]:
    """The campaign's failed messages a re-send would copy now: the newest of each chain, if it FAILED."""
    with store.connect() as conn:
        return [message for _, _, message in _newest_failed(conn, campaign_id)]


def resend_failed(
    campaign_id: int,
    message_ids: Collection[int] | None = None,
    *,
    store: Engine,
    clock: Clock,
    actor: Actor = SYSTEM,
    codes: Collection[str] | None = None,
) -> ResendResult:
    """New PENDING copies of the campaign's FAILED messages (all, those in `message_ids`, or those
    whose failure code is in `codes`; NO_CODE stands for a failure without one)."""
    campaign = campaign_service.get(campaign_id, store=store)
    if campaign.status is not CampaignStatus.ACTIVE:
        raise LifecycleError(
            f'Campaign "{campaign.name}" is {campaign.status.name.capitalize()}: its messages are not sent, '
            "so a re-send would only wait.",
            hint="Activate or reactivate it first.",
        )
    now = clock.now()
    with store.begin() as conn:
        wanted = [
            (base, n, message)
            for base, n, message in _newest_failed(conn, campaign.id)
            if (message_ids is None or message.id in message_ids) and (codes is None or code_of(message) in codes)
        ]
        new_rows = [copy_of(message, f"{base}{MARK}{n + 1}", campaign.provider, now) for base, n, message in wanted]
        fitting = [r for r in new_rows if len(r[1]) <= KEY_LIMIT]
        created = message_store.insert_new(conn, fitting)
        # A failure whose outcome is unknown may have been sent: its copy carries the doubt, so the
        # send job asks the provider about it before anything goes out.
        for base, n, message in wanted:
            if message.error_code == UNKNOWN_OUTCOME and message.in_doubt_since is not None:
                campaign_messages.carry_doubt(conn, campaign.id, f"{base}{MARK}{n + 1}", message.in_doubt_since)
        by_code: dict[str, int] = {}
        for _, _, message in wanted:
            by_code[code_of(message)] = by_code.get(code_of(message), 0) + 1
        result = ResendResult(failed=len(wanted), resent=created, skipped=len(wanted) - created, by_code=by_code)
        detail: dict[str, Any] = {
            "id": campaign.id,
            "failed": result.failed,
            "resent": result.resent,
            "skipped": result.skipped,
        }
        if message_ids is not None:
            detail["chosen"] = len(message_ids)
        if codes is not None:
            detail["codes"] = sorted(codes)
        audit.record(conn, actor, "campaign.resend", now, target=campaign.name, tenant=campaign.tenant, detail=detail)
    return result


@dataclass(frozen=True)
class ChainMarks:
    """For rows of a tab: which were re-sent (and as which message), and which are a re-send (of which)."""

    resent_as: dict[int, CampaignMessage] = field(default_factory=dict)
    resend_of: dict[int, CampaignMessage] = field(default_factory=dict)


def chain_marks(campaign_id: int, ids: Collection[int], *, store: Engine) -> ChainMarks:
    """The re-send chain neighbours of these messages of the campaign, for the tabs' marks."""
    with store.connect() as conn:
        keys = campaign_messages.keys_of(conn, campaign_id, list(ids))
        after: dict[str, int] = {}
        before: dict[str, int] = {}
        for mid, key in keys.items():
            base, n = chain_of(key)
            after[f"{base}{MARK}{n + 1}"] = mid
            if n:
                before[base if n == 1 else f"{base}{MARK}{n - 1}"] = mid
        found = campaign_messages.by_keys(conn, campaign_id, [*after, *before])
    marks = ChainMarks()
    for message in found:
        if message.dedup_key in after:
            marks.resent_as[after[message.dedup_key]] = message
        if message.dedup_key in before:
            marks.resend_of[before[message.dedup_key]] = message
    return marks


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
        "language": message.language,
    }
    return tuple(values[c] for c in message_store.NEW_MESSAGE_COLUMNS)
