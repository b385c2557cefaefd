"""The schedule picker and the pages' times: what the officer posts is the rule stored; every time has its zone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from herald.app import Herald
from herald.clock import ManualClock
from herald.services import campaigns
from herald.services.auth import Role
from herald.worker import outbound_for
from tests.campaign_parts import activating
from tests.web.conftest import csrf_of, log_in
from tests.web.test_access import pending_campaign

PICKED = {
    "campaignName": "Weekly reminder",
    "triggerType": "schedule",
    "runReportId": "166",
    "param.officeId": "1",
    "param.loanOfficerId": "-1",
    "message": "Dear {{firstName}}, see you at the branch.",
    "providerId": "simulator",
    "schedule.kind": "weekly",
    "schedule.days": ["MO", "TH"],
    "schedule.at": "09:30",
    "schedule.monthDay": "1",
    "recurrence": "FREQ=DAILY",  # the advanced field, posted too, and ignored unless "Advanced" is chosen
    "recurrenceStartDate": "",
    "timezone": "Africa/Kampala",
}


def _save(client: TestClient, data: dict[str, object], path: str = "/campaigns/new") -> int:
    answer = client.post(path, data={**data, "csrf_token": csrf_of(client), "action": "save"})
    assert answer.status_code == 303, answer.text
    return int(answer.headers["location"].split("/")[2].split("?")[0])


def test_the_picker_writes_the_rrule_on_the_server(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    saved = campaigns.get(_save(client, PICKED), store=herald.store)
    assert saved.recurrence is not None
    assert saved.recurrence.rule == "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9;BYMINUTE=30"
    assert saved.recurrence.timezone == "Africa/Kampala"
    form = client.get(f"/campaigns/{saved.id}/edit").text  # it opens in the picker, as it was picked
    assert re.search(r'name="schedule.kind" value="weekly" checked', form)
    assert re.search(r'value="MO" checked', form) and re.search(r'value="TH" checked', form)
    assert not re.search(r'value="TU" checked', form) and 'value="09:30"' in form


def test_a_schedule_without_a_start_starts_now_in_its_own_zone(client: TestClient, herald: Herald) -> None:
    """The bug: created at 05:00 UTC, 08:00 in Kampala, the start was stored as 05:00 Kampala time."""
    log_in(client, Role.CAMPAIGN_MANAGER)
    saved = campaigns.get(_save(client, PICKED), store=herald.store)
    assert saved.recurrence is not None and saved.recurrence.start == datetime(2026, 11, 20, 8, 0)
    page = client.get(f"/campaigns/{saved.id}").text
    assert "weekly on Monday, Thursday at 09:30 (Africa/Kampala), from 20 Nov 2026 08:00 EAT" in page


def test_a_weekly_schedule_without_days_is_refused_and_nothing_is_lost(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    data = {**PICKED, "schedule.days": [], "csrf_token": csrf_of(client), "action": "save"}
    answer = client.post("/campaigns/new", data=data)
    assert answer.status_code == 422 and "A weekly schedule needs at least one day" in answer.text
    assert 'value="Weekly reminder"' in answer.text and 'value="09:30"' in answer.text
    assert "<option selected>Africa/Kampala</option>" in answer.text
    assert campaigns.list_all(store=herald.store) == []


def test_a_hand_written_rrule_round_trips_as_written(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    written = "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"
    campaign_id = _save(client, {**PICKED, "schedule.kind": "rrule", "recurrence": written})
    form = client.get(f"/campaigns/{campaign_id}/edit").text
    assert 'name="schedule.kind" value="rrule" checked' in form and f'value="{written}"' in form
    assert "kept as written" in form
    posted = {**PICKED, "schedule.kind": "rrule", "recurrence": written, "campaignName": "Fortnightly"}
    _save(client, posted, f"/campaigns/{campaign_id}/edit")
    edited = campaigns.get(campaign_id, store=herald.store)
    assert edited.recurrence is not None and edited.recurrence.rule == written
    page = client.get(f"/campaigns/{campaign_id}").text
    assert "every 2 weeks on Monday at 08:00 (Africa/Kampala)" in page  # the start's time: 08:00 in Kampala


def test_the_time_zones_list_the_offices_first_then_africa(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    form = client.post("/campaigns/new", data={**PICKED, "csrf_token": csrf_of(client), "action": "refresh"}).text
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', form, re.S)
    assert [label for label, _ in groups] == ["Your offices", "Africa", "Other"]
    offices = re.findall(r"<option(?: selected)?>([^<]+)</option>", groups[0][1])
    assert offices[:2] == ["Africa/Kampala", "Africa/Nairobi"]  # the chosen zone, then the institution's
    assert set(offices) == {"Africa/Nairobi", *herald.offices.timezones(None).values()}
    assert "Africa/Lagos" in groups[1][1] and "Europe/London" in groups[2][1]


def test_the_preview_shows_the_cost_per_run_and_per_month(client: TestClient) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    daily = {**PICKED, "schedule.kind": "daily", "csrf_token": csrf_of(client)}
    fragment = client.post("/campaigns/form-preview", data=daily).text
    cost = float(re.search(r'data-testid="cost">([\d,.]+) KES', fragment).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert cost > 0
    per_month = re.search(r"Per month:</strong> ([\d,.]+) KES", fragment)
    assert per_month and float(per_month.group(1).replace(",", "")) == round(cost * 30, 2)
    assert "30 runs in the next 30 days" in fragment
    assert len(re.findall(r"<li>\w{3} \d\d (?:Nov|Dec) 2026 09:30 EAT</li>", fragment)) == 5


def test_a_scheduled_campaign_that_never_ran_says_so_then_shows_its_last_run(
    client: TestClient, herald: Herald, clock: ManualClock
) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    campaign_id = _save(client, {**PICKED, "schedule.kind": "daily"})
    campaigns.activate(campaign_id, **activating(herald))
    page = client.get(f"/campaigns/{campaign_id}").text
    assert re.search(r'data-testid="last-run">not run yet<', page)
    assert re.search(r'data-testid="next-run">20 Nov 2026 09:30 EAT<', page)
    clock.advance(timedelta(hours=2))  # past 09:30 in Kampala
    outbound_for(herald).run()
    page = client.get(f"/campaigns/{campaign_id}").text
    assert re.search(r'data-testid="last-run">20 Nov 2026 09:30 EAT<', page)
    assert re.search(r'data-testid="next-run">21 Nov 2026 09:30 EAT<', page)


def test_message_and_job_times_carry_their_zone(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    campaigns.activate(campaign_id, **activating(herald))
    outbound_for(herald).run()
    log_in(client, Role.ADMIN)
    page = client.get(f"/campaigns/{campaign_id}?tab=pending").text
    assert re.search(r'<td class="nowrap">20 Nov 2026 08:00 EAT</td>', page)  # Created, 05:00 UTC in Nairobi
    assert re.search(r'data-testid="last-run">20 Nov 2026 08:00 EAT<', page)  # a Direct campaign ran at once
    jobs = client.get("/jobs").text
    assert re.search(r"Last run 20 Nov 2026 08:00:00 EAT", jobs)
