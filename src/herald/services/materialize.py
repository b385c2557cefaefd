"""Turning a campaign's audience into messages: run the rule, render, normalise, dedup-insert.

This is the heart of "Update SMS outbound with campaign message" and of Direct activation. It is
safe to run again at any moment: every message carries a dedup key that is unique per campaign,
so a re-run, an overlapping window or a crash half-way creates nothing twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, islice, repeat
from multiprocessing import get_context
from typing import Any

from sqlalchemy import Engine

from herald.clock import Clock, SystemClock
from herald.config import Settings
from herald.corebank.engines import CoreBanks
from herald.corebank.lookups import client_id_bounds
from herald.corebank.runner import AudienceRow, run_rule
from herald.domain.campaign import Campaign
from herald.domain.compose import Composed, compose
from herald.domain.dedup import dedup_key
from herald.domain.languages import ClientLanguageSource
from herald.domain.message import MessageStatus
from herald.domain.segments import Alphabet
from herald.services.languages import LanguagePlan
from herald.services.office_profiles import OfficeProfiles
from herald.store import messages as message_store
from herald.store import optouts
from herald.store.database import open_store

CHUNK = 5_000
FIRST_CHUNKS = (10, 100, 500, 1_000, 2_000)
"""The first chunks are smaller: the send job, woken by each, has the first messages within milliseconds."""
PARTS_NICENESS = 5
"""How much lower the processes of a parallel run are scheduled than the worker that sends."""
PARALLEL_FROM = 50_000
"""Audiences whose client ids span fewer than this are materialized in-process (spawning costs ~1 s)."""


@dataclass
class MaterializeResult:
    campaign_id: int
    audience: int = 0
    created: int = 0
    invalid: int = 0
    already: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)  # recipients per language given ("" unnamed)
    fallbacks: dict[str, int] = field(default_factory=dict)  # per language asked for that has no template

    def add_languages(self, plan: LanguagePlan | MaterializeResult) -> None:
        given = plan.chosen.items() if isinstance(plan, LanguagePlan) else plan.languages.items()
        asked = plan.fallbacks.items()
        for code, n in given:
            self.languages[code or ""] = self.languages.get(code or "", 0) + n
        for code, n in asked:
            self.fallbacks[code] = self.fallbacks.get(code, 0) + n


@dataclass(frozen=True)
class MaterializePolicy:
    """The settings materializing follows, and what a process of a parallel run opens for itself."""

    default_region: str
    date_format: str
    workers: int  # processes for a large audience (1: always in-process)
    database_url: str  # herald's store, opened again by each process (connections do not cross processes)
    tenant_urls: Mapping[str, str]  # the core-banking databases, likewise
    default_tenant: str
    alphabets: Mapping[str, Alphabet] = field(default_factory=dict)  # per provider, where not GSM-7 (Providers)
    languages: Mapping[str, ClientLanguageSource] = field(default_factory=dict)  # per tenant (HERALD_CLIENT_LANGUAGE)

    @classmethod
    def of(cls, settings: Settings, alphabets: Mapping[str, Alphabet] | None = None) -> MaterializePolicy:
        return cls(
            default_region=settings.default_region,
            date_format=settings.date_format,
            workers=settings.materialize_workers,
            database_url=settings.own_database_url,
            tenant_urls=dict(settings.tenant_urls),
            default_tenant=settings.tenant,
            alphabets=dict(alphabets or {}),
            languages=settings.client_language_sources,
        )


@dataclass(frozen=True)
class Materializer:
    """Makes a campaign occurrence's messages: reads the rule from the campaign's tenant, writes to the store."""

    store: Engine
    corebanks: CoreBanks
    offices: OfficeProfiles
    clock: Clock
    policy: MaterializePolicy

    def materialize(
        self,
        campaign: Campaign,
        occurrence: datetime | None,
        today: date,
        progress: Callable[[int], None] | None = None,
        *,
        now: datetime | None = None,
        client_range: tuple[int, int] | None = None,
        quick_start: bool = True,
    ) -> MaterializeResult:
        """Create the messages of one campaign occurrence (None for a Direct campaign).

        `client_range` (low inclusive, high exclusive) limits the audience to those client ids: the
        unit of work of a parallel run. `quick_start`: the first chunks are small, so the send job has
        messages within milliseconds (only worth it for the first part of a run).
        """
        plan = LanguagePlan.of(campaign, self.corebanks, self.offices)
        regions = self.offices.regions(campaign.tenant)  # the campaign's own tenant's offices
        result = MaterializeResult(campaign.id)
        now = now or self.clock.now()
        policy = self.policy
        engine = self.corebanks.engine(campaign.tenant)
        with engine.connect() as source, ExitStack() as stack:
            # Clients' languages are read on a connection of their own: MySQL streams the rule's rows
            # unbuffered, and its connection takes no other query until they are all read.
            lookups = stack.enter_context(engine.connect()) if plan.source is not None else source
            rows = run_rule(
                source, campaign.rule, campaign.params, today, date_format=policy.date_format, client_range=client_range
            )
            alphabet = policy.alphabets.get(campaign.provider, Alphabet.GSM7)
            blocked = opted_out_numbers(self.store)
            for size in chain(FIRST_CHUNKS if quick_start else (), repeat(CHUNK)):
                batch = list(islice(rows, size))
                if not batch:
                    break
                pick = plan.batch(lookups, batch)
                chunk = list(compose(batch, plan.first, regions, policy.default_region, blocked, alphabet, pick))
                records = [record_row(c, campaign, occurrence, now) for c in chunk]
                with self.store.begin() as conn:
                    created = message_store.insert_new(conn, records)
                result.audience += len(chunk)
                result.created += created
                result.invalid += sum(1 for c in chunk if c.status is MessageStatus.INVALID)
                if progress is not None:
                    progress(len(chunk))
        result.already = result.audience - result.created
        result.add_languages(plan)
        return result

    def materialize_all(
        self,
        campaign: Campaign,
        occurrence: datetime | None,
        today: date,
        progress: Callable[[int], None] | None = None,
        *,
        parallel_from: int = PARALLEL_FROM,
    ) -> MaterializeResult:
        """Materialize one occurrence, spreading a large audience over `policy.workers` processes.

        Rendering and number checks are CPU-bound Python, so threads would not help: each process
        takes a range of client ids, runs the rule for it and inserts its own messages. The dedup key
        keeps the result identical to a serial run, and safe to repeat if a process dies.
        """
        workers = self.policy.workers
        bounds = client_id_bounds(self.corebanks.engine(campaign.tenant))
        if workers <= 1 or bounds is None or bounds[1] - bounds[0] < parallel_from:
            return self.materialize(campaign, occurrence, today, progress)
        now = self.clock.now()
        low, high = bounds[0], bounds[1] + 1
        parts = workers * 8  # small parts keep both processes busy to the end and the progress bar moving
        step = -(-(high - low) // parts)
        ranges = [(start, min(start + step, high)) for start in range(low, high, step)]
        total = MaterializeResult(campaign.id)

        def add(part: MaterializeResult) -> None:
            total.audience += part.audience
            total.created += part.created
            total.invalid += part.invalid
            total.add_languages(part)

        # The processes run below the worker's priority: sending, in the worker, is what waits for them.
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=get_context("spawn"), initializer=os.nice, initargs=(PARTS_NICENESS,)
        )
        futures: list[tuple[Future[MaterializeResult], tuple[int, int]]] = []

        def first_written(n: int) -> None:
            if progress is not None and n:
                progress(n)
            if not futures:  # the processes start once the first messages are stored, not before
                futures.extend(
                    (pool.submit(_materialize_part, self.policy, campaign, occurrence, today, now, r), r)
                    for r in ranges[1:]
                )

        with pool, _cancelled_on_error(pool):
            # The processes take a second to start. Meanwhile the parts are made here, the first one
            # chunk by chunk so sending begins at once, then each part no process has taken yet (a
            # pending one can be cancelled) until a process has finished one: no pause while they
            # start, and no third hand on two cores once they run.
            add(self.materialize(campaign, occurrence, today, first_written, now=now, client_range=ranges[0]))
            first_written(0)  # a first part with nobody in it wrote nothing: start them now
            for future, part_range in futures:
                if any(f.done() and not f.cancelled() for f, _ in futures):
                    break
                if future.cancel():
                    add(
                        self.materialize(
                            campaign, occurrence, today, progress, now=now, client_range=part_range, quick_start=False
                        )
                    )
            for future in as_completed([f for f, _ in futures if not f.cancelled()]):
                part = future.result()
                add(part)
                if progress is not None:
                    progress(part.audience)
        total.already = total.audience - total.created
        return total


@contextmanager
def _cancelled_on_error(pool: ProcessPoolExecutor) -> Iterator[None]:
    """A part that fails here (the core bank went away) ends the run: the parts not started are dropped."""
    try:
        yield
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise


def opted_out_numbers(store: Engine) -> frozenset[str]:
    """The opt-out list, read once per run: a few thousand numbers at most, checked per message."""
    with store.connect() as conn:
        return frozenset(optouts.all_numbers(conn))


def _materialize_part(
    policy: MaterializePolicy,
    campaign: Campaign,
    occurrence: datetime | None,
    today: date,
    now: datetime,
    client_range: tuple[int, int],
) -> MaterializeResult:
    """One process's share of a parallel run, on its own connections."""
    return _process_materializer(policy).materialize(
        campaign, occurrence, today, now=now, client_range=client_range, quick_start=False
    )


_PROCESS_MATERIALIZERS: dict[str, Materializer] = {}


def _process_materializer(policy: MaterializePolicy) -> Materializer:
    """One Materializer per worker process, reused for each of its parts: opening the store checks
    migrations and opens engines, which cost more than a small part's rows. The pool's end ends the
    process."""
    key = repr(policy)
    if key not in _PROCESS_MATERIALIZERS:
        store = open_store(policy.database_url)
        clock = SystemClock()  # only for reading office profiles: the part's `now` comes from the parent
        _PROCESS_MATERIALIZERS[key] = Materializer(
            store=store,
            corebanks=CoreBanks.open(policy.tenant_urls, policy.default_tenant, policy.languages),
            offices=OfficeProfiles(store, policy.default_tenant, clock.now),
            clock=clock,
            policy=policy,
        )
    return _PROCESS_MATERIALIZERS[key]


def record_row(
    c: Composed[AudienceRow], campaign: Campaign, occurrence: datetime | None, now: datetime
) -> tuple[Any, ...]:
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
        c.language,
    )
