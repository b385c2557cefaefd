"""The re-send policy for failures that pass, counted where it matters: at a fake Twilio over real HTTP.

Each test sends a Direct campaign through the real send job to FakeTwilio, has the fake report
the messages `undelivered` with an error code, lets the real report job pull those reports, moves
the test clock, and counts the Messages requests the fake received per number. The policy is
HERALD_TRANSIENT_RESEND_TIMES re-sends at most, each HERALD_TRANSIENT_RESEND_AFTER_MINUTES after
its failure, inside the campaign's window (active, outside quiet hours, the same business day).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.fakes.twilio import FakeFault, FakeTwilio
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from herald.services.reports import run as report_run
from herald.services.resend import resend_failed
from herald.store import optouts
from herald.store.database import make_engine, upgrade
from herald.store.tables import messages
from herald.worker import outbound_for, puller_for, sender_for
from tests.campaign_parts import activating, validating
from tests.fineract_builder import FineractBuilder

AFTER = 30  # minutes


def _settings(tmp_path: Path, fineract: FineractBuilder, twilio: FakeTwilio, **changes: Any) -> Settings:
    provider = twilio.provider()
    values: dict[str, Any] = {
        "home": tmp_path,
        "database_url": f"sqlite:///{tmp_path / 'herald.sqlite'}",
        "corebank_url": fineract.url,
        "timezone": "Africa/Nairobi",
        "providers": json.dumps([provider]),
        "transient_resend_times": 2,
        "transient_resend_after_minutes": AFTER,
    }
    return Settings(**(values | changes))


@dataclass
class Rig:
    """One herald with one campaign on FakeTwilio, and the moves a test makes."""

    herald: Herald
    twilio: FakeTwilio
    clock: ManualClock
    campaign_id: int = 0

    def start_campaign(self, office: int) -> None:
        c = campaigns.create(
            CampaignRequest.model_validate(
                {
                    "campaignName": "Reminders",
                    "triggerType": "direct",
                    "runReportId": 166,
                    "paramValue": {"officeId": str(office)},
                    "message": "Hello {{firstName}}",
                    "providerId": "twilio",
                }
            ),
            **validating(self.herald),
        )
        campaigns.activate(c.id, **activating(self.herald))
        outbound_for(self.herald).run_due()
        self.campaign_id = c.id

    async def send(self) -> None:
        await sender_for(self.herald).run()

    async def reports(self) -> dict[str, int]:
        return await puller_for(self.herald).pull()

    async def fail(self, number: str, code: int) -> None:
        """The fake reports the number's newest message undelivered with `code` (as the network would)."""
        sid = [sid for sid, m in self.twilio.messages.items() if m["to"] == number][-1]
        await self.twilio.settle(sid, "undelivered", code)

    def received(self) -> Counter[str]:
        """Messages the fake accepted, per number: what the clients' phones were sent."""
        return Counter(m["to"] for m in self.twilio.messages.values())

    def later(self, minutes: float) -> None:
        self.clock.advance(minutes=minutes)


def _run(
    tmp_path: Path,
    fineract: FineractBuilder,
    clock: ManualClock,
    numbers: list[str],
    script: Any,
    **changes: Any,
) -> None:
    office = fineract.office("Branch")
    for i, number in enumerate(numbers):
        fineract.client(f"C{i}", number, office_id=office)

    url = changes.get("database_url", "")
    if url.startswith("postgresql"):
        upgrade(make_engine(url))  # `herald db upgrade`, the step an operator runs on a server database

    async def main() -> None:
        async with FakeTwilio(push_callbacks=False) as twilio:
            herald = Herald.build(_settings(tmp_path, fineract, twilio, **changes), clock)
            try:
                rig = Rig(herald, twilio, clock)
                rig.start_campaign(office)
                await rig.send()
                await script(rig)
            finally:
                await herald.providers.close()
                herald.close()

    asyncio.run(main())


A, B, C = "+254712000101", "+254712000102", "+254712000103"


def test_a_failure_that_passes_is_resent_after_the_wait_and_at_most_the_policys_times(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def script(rig: Rig) -> None:
        await rig.fail(A, 30003)  # unreachable handset: passes
        await rig.reports()
        rig.later(AFTER - 1)
        await rig.reports()
        await rig.send()
        assert rig.received()[A] == 1, "re-sent before the wait was over"
        rig.later(1)
        assert (await rig.reports())["resent"] == 1
        await rig.send()
        assert rig.received()[A] == 2
        for _ in range(3):  # still unreachable: the second re-send is the last
            await rig.fail(A, 30003)
            await rig.reports()
            rig.later(AFTER)
            await rig.reports()
            await rig.send()
        assert rig.received()[A] == 3
        with rig.herald.store.connect() as conn:
            keys = sorted(conn.execute(select(messages.c.dedup_key)).scalars())
        assert [k.partition("#")[2] for k in keys] == ["", "resend-1", "resend-2"]

    _run(tmp_path, fineract, clock, [A], script)


def test_a_permanent_failure_or_an_opt_out_is_never_resent(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def script(rig: Rig) -> None:
        await rig.fail(A, 30005)  # unknown handset: clean the list, never again
        await rig.fail(B, 21610)  # the recipient unsubscribed
        await rig.fail(C, 30003)  # passes, but the client replies STOP meanwhile
        await rig.reports()
        with rig.herald.store.begin() as conn:
            optouts.add(conn, [C], source="twilio", detail="STOP", now=rig.clock.now())
        rig.later(AFTER * 3)
        assert (await rig.reports())["resent"] == 0
        await rig.send()
        assert rig.received() == Counter({A: 1, B: 1, C: 1})

    _run(tmp_path, fineract, clock, [A, B, C], script)


def test_the_policy_is_off_unless_configured(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock) -> None:
    async def script(rig: Rig) -> None:
        await rig.fail(A, 30003)
        await rig.reports()
        rig.later(AFTER * 3)
        await rig.reports()
        await rig.send()
        assert rig.received()[A] == 1

    _run(tmp_path, fineract, clock, [A], script, transient_resend_times=0)


def test_a_resend_waits_for_the_quiet_hours_to_end_and_never_crosses_into_another_day(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    # 07:00 in Nairobi: sending is allowed until 07:20, then quiet until 09:00.
    async def script(rig: Rig) -> None:
        await rig.fail(A, 30003)
        await rig.reports()
        rig.later(AFTER)  # 07:30: due, but quiet
        assert (await rig.reports())["resent"] == 0
        rig.later(95)  # 09:05: the window is open again, still the same day
        assert (await rig.reports())["resent"] == 1
        await rig.send()
        assert rig.received()[A] == 2
        await rig.fail(A, 30003)
        await rig.reports()
        rig.later(15 * 60)  # the next day: the window of the failure's day has closed
        assert (await rig.reports())["resent"] == 0
        await rig.send()
        assert rig.received()[A] == 2

    _run(tmp_path, fineract, clock, [A], script, quiet_hours="07:20-09:00")


def test_a_closed_campaign_gets_no_resend(tmp_path: Path, fineract: FineractBuilder, clock: ManualClock) -> None:
    async def script(rig: Rig) -> None:
        await rig.fail(A, 30003)
        await rig.reports()
        campaigns.close(rig.campaign_id, store=rig.herald.store, clock=rig.clock)
        rig.later(AFTER)
        assert (await rig.reports())["resent"] == 0

    _run(tmp_path, fineract, clock, [A], script)


@pytest.mark.parametrize("manual", [False, True], ids=["two report jobs", "report job and a person"])
def test_two_report_jobs_at_once_or_a_manual_resend_beside_them_make_one_resend_per_failure(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock, manual: bool, db_url: str
) -> None:
    numbers = [f"+2547120002{i:02d}" for i in range(40)]

    async def script(rig: Rig) -> None:
        other = Herald.build(rig.herald.settings, rig.clock)  # a second worker on the same database
        try:
            for _ in range(2):
                for number in numbers:
                    await rig.fail(number, 30003)
                await rig.reports()
                rig.later(AFTER)

                def report_job(herald: Herald) -> int:  # one recorded run, in its own loop, as a worker's
                    return int(report_run(puller_for(herald)).get("resent", 0))

                def person() -> int:
                    return resend_failed(rig.campaign_id, store=rig.herald.store, clock=rig.clock).resent

                second = asyncio.to_thread(person) if manual else asyncio.to_thread(report_job, other)
                made = await asyncio.gather(asyncio.to_thread(report_job, rig.herald), second)
                assert sum(made) == len(numbers)
                await rig.send()
            assert rig.received() == Counter(dict.fromkeys(numbers, 3))
        finally:
            other.close()

    _run(tmp_path, fineract, clock, numbers, script, database_url=db_url)


def test_the_waiting_message_shows_the_failure_as_passing_until_resent(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    async def script(rig: Rig) -> None:
        await rig.fail(A, 30003)
        await rig.fail(B, 30005)
        await rig.reports()
        with rig.herald.store.connect() as conn:
            rows = conn.execute(select(messages.c.mobile_no, messages.c.status, messages.c.resend_pending)).all()
        assert sorted(rows) == [(A, MessageStatus.FAILED, True), (B, MessageStatus.FAILED, False)]

    _run(tmp_path, fineract, clock, [A, B], script)


def test_the_policys_settings_refuse_what_makes_no_sense(tmp_path: Path) -> None:
    from herald.config import load_settings
    from herald.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="HERALD_TRANSIENT_RESEND_TIMES"):
        load_settings(home=tmp_path, transient_resend_times=-1)
    with pytest.raises(ConfigurationError, match="HERALD_TRANSIENT_RESEND_AFTER_MINUTES"):
        load_settings(home=tmp_path, transient_resend_after_minutes=0)
    assert timedelta(minutes=load_settings(home=tmp_path).transient_resend_after_minutes) == timedelta(hours=1)


def test_a_copy_whose_send_got_no_answer_is_not_mistaken_for_the_message_it_copies(
    tmp_path: Path, fineract: FineractBuilder, clock: ManualClock
) -> None:
    # The copy has the original's number and text: Twilio's list shows the original, and only the
    # copy's own absence there may count. Here the connection dies before Twilio stores the copy.
    async def script(rig: Rig) -> None:
        await rig.fail(A, 30003)
        await rig.reports()
        rig.later(AFTER)
        assert (await rig.reports())["resent"] == 1
        rig.twilio.inject(FakeFault.DISCONNECT)
        await rig.send()  # in doubt: no answer
        assert rig.received()[A] == 1
        rig.later(5)
        await rig.send()  # asks Twilio first, finds only the original, so sends the copy
        assert rig.received()[A] == 2
        with rig.herald.store.connect() as conn:
            ids = conn.execute(select(messages.c.external_id)).scalars().all()
        assert len(set(ids)) == 2, "the copy adopted the original's Twilio message"

    _run(tmp_path, fineract, clock, [A], script)
