"""Claims under attack on SQLite and PostgreSQL: many processes claiming at once, reclaims, dead workers.

What a user relies on: a message is held by one sender at a time, an attempt whose outcome is
unknown is remembered from its first start however often it is reclaimed, and a dead worker's
claims come back within seconds (still in doubt), while a live worker's never run out.
"""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, update

from herald.store import messages as store
from herald.store import workers
from herald.store.database import make_engine, upgrade
from herald.store.tables import messages
from tests.integration.test_store import NOW, _campaign, _message

LEASE = timedelta(minutes=5)


@pytest.fixture
def engine(db_url: str) -> Engine:
    engine = make_engine(db_url)
    upgrade(engine)
    return engine


def _claimer(url: str, name: str, size: int, start: Any, out: Any) -> None:
    """One process claiming as fast as it can until nothing is left; it reports every id it got."""
    engine = make_engine(url)
    got: list[int] = []
    start.wait(60)  # everybody starts claiming at the same moment
    while True:
        with engine.begin() as conn:
            batch = store.claim_pending(conn, NOW, size, LEASE, worker=name)
        got += [m.id for m in batch]
        if not batch:
            break
    out.put((name, got))
    engine.dispose()


@pytest.mark.parametrize("processes", [4])
def test_several_processes_claiming_at_once_never_get_the_same_message(engine: Engine, processes: int) -> None:
    cid = _campaign(engine)
    total = 4000
    with engine.begin() as conn:
        conn.execute(insert(messages), [_message(cid, f"k{i}") for i in range(total)])
    ctx = multiprocessing.get_context("spawn")
    out, start = ctx.Queue(), ctx.Event()
    url = engine.url.render_as_string(hide_password=False)
    procs = [ctx.Process(target=_claimer, args=(url, f"w{i}", 3, start, out)) for i in range(processes)]
    for p in procs:
        p.start()
    start.set()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    claimed = [i for ids in results.values() for i in ids]
    assert len(claimed) == len(set(claimed)), "a message was claimed by two processes"
    assert len(claimed) == total
    assert sum(bool(ids) for ids in results.values()) >= 2, "the processes should have claimed side by side"
    with engine.connect() as conn:
        holders = {r.id: r.claimed_by for r in conn.execute(select(messages.c.id, messages.c.claimed_by))}
    for name, ids in results.items():  # a process that came too late to claim anything holds nothing
        assert all(holders[i] == name for i in ids)


def test_an_attempt_in_doubt_keeps_its_first_start_across_every_reclaim(engine: Engine) -> None:
    cid = _campaign(engine)
    with engine.begin() as conn:
        conn.execute(insert(messages), [_message(cid, "k")])
    with engine.begin() as conn:
        [first] = store.claim_pending(conn, NOW, 1, LEASE, worker="a")
    assert not first.in_doubt
    later = NOW
    for n in range(2, 5):  # the holder dies each time; the lease runs out; somebody reclaims
        later += LEASE + timedelta(seconds=1)
        with engine.begin() as conn:
            [again] = store.claim_pending(conn, later, 1, LEASE, worker=f"w{n}")
        assert again.attempts == n
        assert again.in_doubt_since == NOW  # not the previous reclaim's time: lookups cover every attempt


def test_a_message_with_a_known_failure_after_doubt_stays_in_doubt(engine: Engine) -> None:
    from herald.domain.sending import Retry

    cid = _campaign(engine)
    with engine.begin() as conn:
        conn.execute(insert(messages), [_message(cid, "k")])
    with engine.begin() as conn:
        store.claim_pending(conn, NOW, 1, LEASE, worker="a")
    later = NOW + LEASE + timedelta(seconds=1)
    with engine.begin() as conn:
        [m] = store.claim_pending(conn, later, 1, LEASE, worker="b")
        store.reschedule(conn, [Retry(m.id, later, "HTTP500", "server error")], later)  # a clear "no"
    with engine.begin() as conn:
        [m] = store.claim_pending(conn, later, 1, LEASE, worker="c")
    assert m.in_doubt_since == NOW  # the first attempt's fate is still unknown: ask again


def test_a_dead_workers_claims_come_back_in_doubt_and_a_live_workers_are_renewed(engine: Engine) -> None:
    cid = _campaign(engine)
    with engine.begin() as conn:
        conn.execute(insert(messages), [_message(cid, f"k{i}") for i in range(4)])
    timeout = timedelta(seconds=20)
    with engine.begin() as conn:
        for name in ("dead", "alive"):
            workers.beat(conn, name, host="h", pid=1, kind="worker", now=NOW, lease=LEASE, timeout=timeout)
        store.claim_pending(conn, NOW, 2, LEASE, worker="dead")
        store.claim_pending(conn, NOW, 2, LEASE, worker="alive")
    later = NOW + timedelta(seconds=25)  # "dead" is silent, "alive" beats
    with engine.begin() as conn:
        live = workers.beat(conn, "alive", host="h", pid=2, kind="worker", now=later, lease=LEASE, timeout=timeout)
    assert live == 1
    with engine.begin() as conn:
        back = store.claim_pending(conn, later, 10, LEASE, worker="alive")
    assert len(back) == 2 and all(m.in_doubt_since == NOW for m in back)  # asked about before any resend
    much_later = NOW + LEASE + timedelta(minutes=1)
    with engine.begin() as conn:  # the live worker beat: its claims never ran out
        workers.beat(conn, "alive", host="h", pid=2, kind="worker", now=much_later, lease=LEASE, timeout=timeout)
        assert store.claim_pending(conn, much_later, 10, LEASE, worker="third") == []


def test_a_clean_leave_hands_back_what_was_never_sent(engine: Engine) -> None:
    cid = _campaign(engine)
    with engine.begin() as conn:
        conn.execute(insert(messages), [_message(cid, f"k{i}") for i in range(3)])
        workers.beat(conn, "w", host="h", pid=1, kind="worker", now=NOW, lease=LEASE, timeout=timedelta(seconds=20))
        claimed = store.claim_pending(conn, NOW, 3, LEASE, worker="w")
        conn.execute(update(messages).where(messages.c.id == claimed[0].id).values(in_flight_since=None))
    with engine.begin() as conn:
        assert workers.leave(conn, "w") == 3
    with engine.begin() as conn:
        again = store.claim_pending(conn, NOW, 3, LEASE, worker="x")
    assert len(again) == 3
    # the two whose attempt was under way are asked about first; the one never handed over is not
    assert [m.in_doubt for m in again] == [False, True, True]
