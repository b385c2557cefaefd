"""The counting provider against herald's real Twilio adapter: it speaks the wire format, counts, and faults on demand.

The torture verdicts are only as good as this server, so its own behaviour is pinned here: what
it accepts is logged even when the answer is lost, its list answers herald's in-doubt lookup
truthfully, and a storm refuses everything for its window, then ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from herald.errors import ProviderOutcome
from herald.providers.base import InDoubt, OutboundMessage, SendResult
from herald.providers.config import TwilioSettings
from herald.providers.twilio import TwilioProvider
from tests.torture.harness import CountingProvider

pytestmark = pytest.mark.xdist_group("torture-load")  # races, rates and faults, one at a time


@pytest.fixture
def counting(tmp_path: Path) -> Iterator[CountingProvider]:
    server = CountingProvider("primary", tmp_path)
    yield server
    server.stop()


def _adapter(server: CountingProvider) -> TwilioProvider:
    return TwilioProvider(TwilioSettings.model_validate(server.config(timeout=0.5)), now=lambda: datetime.now(UTC))


def _send(server: CountingProvider, *messages: OutboundMessage) -> list[SendResult]:
    async def go() -> list[SendResult]:
        adapter = _adapter(server)
        try:
            return list(await adapter.send(list(messages)))
        finally:
            await adapter.close()

    return asyncio.run(go())


def test_a_message_whose_answer_is_cut_off_is_logged_and_found_by_herald_s_lookup(counting: CountingProvider) -> None:
    started = datetime.now(UTC)
    counting.control(fault={"kind": "drop", "every": 2})
    first, second = OutboundMessage(1, "+254712000001", "one"), OutboundMessage(2, "+254712000002", "two")
    results = _send(counting, first)
    results += _send(counting, second)

    assert [r.accepted for r in results] == [True, False]
    assert results[1].error is not None and results[1].error.outcome is ProviderOutcome.OUTCOME_UNKNOWN
    assert [(m["to"], m["body"]) for m in counting.accepted()] == [("+254712000001", "one"), ("+254712000002", "two")]

    async def lookup() -> dict[int, str]:
        adapter = _adapter(counting)
        try:
            asked = [InDoubt(2, "+254712000002", "two", 1, started), InDoubt(3, "+254712000003", "three", 1, started)]
            return await adapter.lookup(asked)
        finally:
            await adapter.close()

    assert asyncio.run(lookup()) == {2: counting.accepted()[1]["sid"]}


def test_a_late_answer_is_a_timeout_for_herald_yet_the_message_is_counted(counting: CountingProvider) -> None:
    counting.control(fault={"kind": "hang", "hang_seconds": 2})
    [result] = _send(counting, OutboundMessage(1, "+254712000001", "late"))
    assert result.error is not None and result.error.code == "TIMEOUT"
    assert len(counting.accepted()) == 1


def test_a_429_storm_refuses_everything_with_retry_after_for_its_window_then_ends(counting: CountingProvider) -> None:
    counting.control(fault={"kind": "429", "seconds": 1.0, "arm": True, "retry_after": 4})
    refused = _send(counting, *(OutboundMessage(n, f"+2547120000{n:02d}", f"m{n}") for n in range(5)))
    assert all(r.error is not None and r.error.outcome is ProviderOutcome.THROTTLED for r in refused)
    assert counting.accepted() == []
    time.sleep(1.1)
    [after] = _send(counting, OutboundMessage(9, "+254712000099", "after"))
    assert after.accepted
    seen = counting.count()
    assert [r["status"] for r in seen["requests"]] == [429] * 5 + [201]
    assert len(seen["faults"]) == 1 and seen["faults"][0]["seconds"] == 1.0
    assert sum(n for _, n in counting.rate_windows()) == 1


def test_lookups_list_the_recipient_s_messages_newest_first_with_rfc_2822_dates(counting: CountingProvider) -> None:
    _send(counting, OutboundMessage(1, "+254712000001", "a"), OutboundMessage(2, "+254712000002", "b"))
    _send(counting, OutboundMessage(3, "+254712000001", "c"))

    async def lookup(since: datetime) -> dict[int, str]:
        adapter = _adapter(counting)
        try:
            return await adapter.lookup([InDoubt(1, "+254712000001", "a", 1, since)])
        finally:
            await adapter.close()

    assert list(asyncio.run(lookup(datetime.now(UTC) - timedelta(seconds=5)))) == [1]
    assert asyncio.run(lookup(datetime.now(UTC) + timedelta(minutes=5))) == {}  # created before that attempt
