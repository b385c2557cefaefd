"""How times are written: local time with its zone for people, ISO-8601 UTC for machines, a campaign's zone."""

from __future__ import annotations

from datetime import UTC, datetime

from herald.domain.campaign import Campaign, CampaignStatus, TriggerType
from herald.domain.schedule import Recurrence
from herald.domain.times import campaign_zone, last_run_text, local_text, schedule_text, utc_text, wall_text
from herald.rules.catalog import get_rule

NOON_UTC = datetime(2026, 11, 20, 12, 7, tzinfo=UTC)


def test_an_instant_is_shown_in_the_zone_with_the_zone_said() -> None:
    assert local_text(NOON_UTC, "Africa/Kampala") == "20 Nov 2026 15:07 EAT"
    assert local_text(NOON_UTC, "Europe/London") == "20 Nov 2026 12:07 GMT"
    assert local_text(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "Europe/London") == "01 Jul 2026 13:00 BST"
    assert local_text(NOON_UTC.replace(tzinfo=None), "Africa/Kampala") == "20 Nov 2026 15:07 EAT"  # SQLite's naive UTC
    assert local_text(NOON_UTC, "America/Sao_Paulo") == "20 Nov 2026 09:07 UTC-03"  # tzdata has only a number


def test_formats_keep_their_own_zone_and_dates_stay_dates() -> None:
    assert local_text(NOON_UTC, "Africa/Nairobi", "%H:%M:%S %Z") == "15:07:00 EAT"
    assert local_text(NOON_UTC, "Africa/Nairobi", "%d %b %Y") == "20 Nov 2026"
    assert local_text(None, "Africa/Nairobi") == ""


def test_machines_get_iso_8601_utc() -> None:
    assert utc_text(NOON_UTC.astimezone()) == "2026-11-20T12:07:00Z"
    assert utc_text(NOON_UTC.replace(tzinfo=None)) == "2026-11-20T12:07:00Z"
    assert utc_text(None) == ""


def test_a_schedule_start_is_wall_clock_time_in_its_own_zone() -> None:
    assert wall_text(datetime(2026, 11, 20, 15, 7), "Africa/Kampala") == "20 Nov 2026 15:07 EAT"


def test_a_campaign_is_shown_in_its_schedule_then_office_then_institution_zone() -> None:
    offices = {4: "Africa/Kampala"}
    assert campaign_zone("Europe/London", {"officeId": 4}, offices, "Africa/Nairobi") == "Europe/London"
    assert campaign_zone(None, {"officeId": 4}, offices, "Africa/Nairobi") == "Africa/Kampala"
    assert campaign_zone(None, {"officeId": 2}, offices, "Africa/Nairobi") == "Africa/Nairobi"
    assert campaign_zone(None, {}, offices, "Africa/Nairobi") == "Africa/Nairobi"


def _scheduled(**kwargs: object) -> Campaign:
    return Campaign(
        name="Daily",
        tenant="default",
        trigger_type=TriggerType.SCHEDULE,
        rule=get_rule("Active Clients"),
        template="Hi",
        provider="simulator",
        recurrence=Recurrence.parse("FREQ=DAILY;BYHOUR=8;BYMINUTE=0", "2026-11-20T15:07", "Africa/Kampala"),
        **kwargs,  # type: ignore[arg-type]
    )


def test_activation_alone_is_not_a_run() -> None:
    activated = NOON_UTC
    assert last_run_text(_scheduled(), "Africa/Kampala") is None  # Pending: nothing to say
    fresh = _scheduled(
        status=CampaignStatus.ACTIVE, activated_at=activated, last_trigger_at=activated, activation_count=1
    )
    assert fresh.last_run is None and last_run_text(fresh, "Africa/Kampala") == "not run yet"
    ran = _scheduled(
        status=CampaignStatus.ACTIVE,
        activated_at=activated,
        last_trigger_at=datetime(2026, 11, 21, 5, 0, tzinfo=UTC),
        activation_count=1,
    )
    assert last_run_text(ran, "Africa/Kampala") == "21 Nov 2026 08:00 EAT"
    again = _scheduled(
        status=CampaignStatus.ACTIVE, activated_at=activated, last_trigger_at=activated, activation_count=2
    )
    assert last_run_text(again, "Africa/Kampala") == "not run since it was reactivated on 20 Nov 2026 15:07 EAT"


def test_the_schedule_says_its_start_with_the_zone() -> None:
    assert schedule_text(_scheduled()) == "daily at 08:00 (Africa/Kampala), from 20 Nov 2026 15:07 EAT"
