"""Turning a campaign's audience into messages: run the rule, render, normalise, dedup-insert.

This is the heart of "Update SMS outbound with campaign message" and of Direct activation. It is
safe to run again at any moment: every message carries a dedup key that is unique per campaign,
so a re-run, an overlapping window or a crash half-way creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Set
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from multiprocessing import get_context
from typing import Any

from herald.app import Herald
from herald.config import Settings
from herald.corebank.runner import AudienceRow, run_rule
from herald.domain.campaign import Campaign
from herald.domain.dedup import dedup_key
from herald.domain.message import MessageStatus
from herald.domain.phones import PhoneRejection, normalize
from herald.domain.segments import count_segments
from herald.domain.templates import MAX_SEGMENTS, Template
from herald.errors import NotFoundError
from herald.store import campaigns as campaign_store
from herald.store import messages as message_store

CHUNK = 5_000
PARALLEL_FROM = 50_000
"""Audiences whose client ids span fewer than this are materialized in-process (spawning costs ~1 s)."""


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
    rows: Iterable[AudienceRow],
    template: Template,
    regions: dict[int, str],
    default_region: str,
    opted_out: frozenset[str] = frozenset(),
) -> Iterator[Composed]:
    """Render and check each row; a bad, missing or opted-out number, or a body of more than MAX_SEGMENTS
    segments (long variable values), makes an INVALID message, never a send."""
    render = template.render
    for row in rows:
        body = render(row.variables)
        info = count_segments(body)
        status, number, reason = recipient(row.mobile_no, regions.get(row.office_id, default_region), opted_out)
        if info.segments > MAX_SEGMENTS and status is MessageStatus.PENDING:
            status, reason = MessageStatus.INVALID, f"too long: {info.segments} segments, at most {MAX_SEGMENTS}"
        yield Composed(row, body, number, status, reason, info.encoding.value, info.segments)


def recipient(raw: str | None, region: str, opted_out: Set[str]) -> tuple[MessageStatus, str | None, str | None]:
    """(status, number to store, reason) for a number as Fineract holds it: PENDING with its E.164 form,
    or INVALID with why (no or bad number, opted out). Campaigns and the drop-in gateway both decide here."""
    phone = normalize(raw, region)
    if isinstance(phone, PhoneRejection):
        return MessageStatus.INVALID, (raw or "")[:50] or None, phone.problem.value
    if phone.e164 in opted_out:
        return MessageStatus.INVALID, phone.e164, "opted out"
    return MessageStatus.PENDING, phone.e164, None


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
    *,
    now: datetime | None = None,
    client_range: tuple[int, int] | None = None,
) -> MaterializeResult:
    """Create the messages of one campaign occurrence (None for a Direct campaign).

    `client_range` (low inclusive, high exclusive) limits the audience to those client ids: the
    unit of work of a parallel run.
    """
    template = Template.parse(campaign.template)
    regions = herald.office_regions(campaign.tenant)
    rule = campaign.rule
    result = MaterializeResult(campaign.id)
    now = now or herald.clock.now()
    with herald.corebank_for(campaign.tenant).connect() as source:
        rows = run_rule(
            source, rule, campaign.params, today, date_format=herald.settings.date_format, client_range=client_range
        )
        composed = compose(rows, template, regions, herald.settings.default_region, opted_out_numbers(herald))
        while True:
            chunk = list(islice(composed, CHUNK))
            if not chunk:
                break
            records = [record_row(c, campaign, occurrence, now) for c in chunk]
            with herald.store.begin() as conn:
                created = message_store.insert_new(conn, records)
            result.audience += len(chunk)
            result.created += created
            result.invalid += sum(1 for c in chunk if c.status is MessageStatus.INVALID)
            if progress is not None:
                progress(len(chunk))
    result.already = result.audience - result.created
    return result


def materialize_all(
    herald: Herald,
    campaign: Campaign,
    occurrence: datetime | None,
    today: date,
    progress: Callable[[int], None] | None = None,
    *,
    parallel_from: int = PARALLEL_FROM,
) -> MaterializeResult:
    """Materialize one occurrence, spreading a large audience over `materialize_workers` processes.

    Rendering and number checks are CPU-bound Python, so threads would not help: each process
    takes a range of client ids, runs the rule for it and inserts its own messages. The dedup key
    keeps the result identical to a serial run, and safe to repeat if a process dies.
    """
    workers = herald.settings.materialize_workers
    bounds = _client_id_bounds(herald, campaign.tenant)
    if workers <= 1 or bounds is None or bounds[1] - bounds[0] < parallel_from:
        return materialize(herald, campaign, occurrence, today, progress)
    now = herald.clock.now()
    low, high = bounds[0], bounds[1] + 1
    parts = workers * 8  # small parts keep both processes busy to the end and the progress bar moving
    step = -(-(high - low) // parts)
    ranges = [(start, min(start + step, high)) for start in range(low, high, step)]
    total = MaterializeResult(campaign.id)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(_materialize_part, herald.settings, campaign.id, occurrence, today, now, r) for r in ranges
        ]
        for future in as_completed(futures):
            part = future.result()
            total.audience += part.audience
            total.created += part.created
            total.invalid += part.invalid
            if progress is not None:
                progress(part.audience)
    total.already = total.audience - total.created
    return total


def opted_out_numbers(herald: Herald) -> frozenset[str]:
    """The opt-out list, read once per run: a few thousand numbers at most, checked per message."""
    from herald.store import optouts

    with herald.store.connect() as conn:
        return frozenset(optouts.all_numbers(conn))


def _client_id_bounds(herald: Herald, tenant: str) -> tuple[int, int] | None:
    from sqlalchemy import func, select

    from herald.corebank.schema import m_client

    with herald.corebank_for(tenant).connect() as conn:
        low, high = conn.execute(select(func.min(m_client.c.id), func.max(m_client.c.id))).one()
    return None if low is None else (int(low), int(high))


def _materialize_part(
    settings: Settings,
    campaign_id: int,
    occurrence: datetime | None,
    today: date,
    now: datetime,
    client_range: tuple[int, int],
) -> MaterializeResult:
    """One process's share of a parallel run (its own Herald: connections do not cross processes)."""
    herald = _process_herald(settings)
    with herald.store.connect() as conn:
        campaign = campaign_store.by_id(conn, campaign_id)
    if campaign is None:  # closed and deleted while its occurrence was being materialized
        raise NotFoundError(f"No campaign {campaign_id!r}.", hint="`herald campaigns list` shows them.")
    return materialize(herald, campaign, occurrence, today, now=now, client_range=client_range)


_PROCESS_HERALDS: dict[str, Herald] = {}


def _process_herald(settings: Settings) -> Herald:
    """One Herald per worker process, reused for each of its parts: building one checks migrations
    and opens engines, which cost more than a small part's rows. The pool's end ends the process."""
    key = settings.model_dump_json()
    if key not in _PROCESS_HERALDS:
        _PROCESS_HERALDS[key] = Herald.build(settings)
    return _PROCESS_HERALDS[key]


def record_row(c: Composed, campaign: Campaign, occurrence: datetime | None, now: datetime) -> tuple[Any, ...]:
    """One row in NEW_MESSAGE_COLUMNS order."""
    row = c.row
    return (
        campaign.id,
        dedup_key(campaign.rule.fact, row.fact_id, campaign.rule.dedup_scope, occurrence),
        row.client_id,
        row.office_id,
        c.mobile_no,
        c.body,
        int(c.status),
        c.reason,
        c.encoding,
        c.segments,
        campaign.provider,
        0,
        now,
        now,
    )
