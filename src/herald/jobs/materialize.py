"""Turning a campaign's audience into messages: run the rule, render, normalise, dedup-insert.

This is the heart of "Update SMS outbound with campaign message" and of Direct activation. It is
safe to run again at any moment: every message carries a dedup key that is unique per campaign,
so a re-run, an overlapping window or a crash half-way creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any

from herald.app import Herald
from herald.campaigns import Campaign
from herald.domain.dedup import dedup_key
from herald.domain.message import MessageStatus
from herald.domain.phones import PhoneRejection, normalize
from herald.domain.segments import count_segments
from herald.domain.templates import Template
from herald.rules.runner import AudienceRow, run_rule
from herald.store import messages as message_store

CHUNK = 5_000


@dataclass(frozen=True)
class Composed:
    """One audience row made into a message (sendable or INVALID with its reason)."""

    row: AudienceRow
    body: str
    mobile_no: str | None
    status: MessageStatus
    reason: str | None
    encoding: str
    segments: int


def compose(
    rows: Iterable[AudienceRow], template: Template, regions: dict[int, str], default_region: str
) -> Iterator[Composed]:
    """Render and check each row; a bad or missing number makes an INVALID message, never a send."""
    render = template.render
    for row in rows:
        body = render(row.variables)
        info = count_segments(body)
        phone = normalize(row.mobile_no, regions.get(row.office_id, default_region))
        if isinstance(phone, PhoneRejection):
            yield Composed(
                row,
                body,
                (row.mobile_no or "")[:50] or None,
                MessageStatus.INVALID,
                phone.problem.value,
                info.encoding.value,
                info.segments,
            )
        else:
            yield Composed(row, body, phone.e164, MessageStatus.PENDING, None, info.encoding.value, info.segments)


@dataclass
class MaterializeResult:
    campaign_id: int
    audience: int = 0
    created: int = 0
    invalid: int = 0
    already: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def materialize(
    herald: Herald,
    campaign: Campaign,
    occurrence: datetime | None,
    today: date,
    progress: Callable[[int], None] | None = None,
) -> MaterializeResult:
    """Create the messages of one campaign occurrence (None for a Direct campaign)."""
    template = Template.parse(campaign.template)
    regions = herald.office_regions()
    rule = campaign.rule
    result = MaterializeResult(campaign.id)
    now = herald.clock.now()
    with herald.corebank.connect() as source:
        rows = run_rule(source, rule, campaign.params, today, date_format=herald.settings.date_format)
        composed = compose(rows, template, regions, herald.settings.default_region)
        while True:
            chunk = list(islice(composed, CHUNK))
            if not chunk:
                break
            records = [_record(c, campaign, rule.fact, occurrence, now) for c in chunk]
            with herald.store.begin() as conn:
                created = message_store.insert_new(conn, records)
            result.audience += len(chunk)
            result.created += created
            result.invalid += sum(1 for c in chunk if c.status is MessageStatus.INVALID)
            if progress is not None:
                progress(len(chunk))
    result.already = result.audience - result.created
    return result


def _record(c: Composed, campaign: Campaign, fact: str, occurrence: datetime | None, now: datetime) -> dict[str, Any]:
    return {
        "campaign_id": campaign.id,
        "dedup_key": dedup_key(fact, c.row.fact_id, campaign.rule.dedup_scope, occurrence),
        "client_id": c.row.client_id,
        "office_id": c.row.office_id,
        "mobile_no": c.mobile_no,
        "body": c.body,
        "status": c.status,
        "reason": c.reason,
        "encoding": c.encoding,
        "segments": c.segments,
        "provider": campaign.provider,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
