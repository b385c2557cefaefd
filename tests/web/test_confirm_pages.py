"""Activate, Reactivate and Re-send confirm first: a post without the page's confirmation does nothing.

Over plain HTTP (TestClient): the confirmation shows the preview's audience, segments and cost and
warns about a schedule that runs more than daily; a forged, stale or replayed post changes
nothing; a re-send chooses by failure code, says what it did, and the tabs mark the chain.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from herald.app import Herald
from herald.domain.campaign import CampaignStatus
from herald.domain.message import MessageStatus
from herald.services import campaigns
from herald.services.auth import Role
from herald.services.campaigns import CampaignRequest
from herald.services.preview import preview
from herald.store.tables import messages
from herald.worker import outbound_for
from tests.campaign_parts import activating, previewing, validating
from tests.web.confirming import confirmation_of
from tests.web.conftest import csrf_of, log_in
from tests.web.test_access import pending_campaign


def status_of(herald: Herald, campaign_id: int) -> CampaignStatus:
    return campaigns.get(campaign_id, store=herald.store).status


def test_the_confirmation_shows_the_previews_audience_segments_and_cost(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    expected = preview(campaigns.get(campaign_id, store=herald.store), **previewing(herald))
    log_in(client, Role.CAMPAIGN_MANAGER)
    page = client.get(f"/campaigns/{campaign_id}/activate").text
    audience = re.search(r'data-testid="estimate-audience">([\d,]+) clients', page)
    cost = re.search(r'data-testid="estimate-cost">([\d,.]+) KES', page)
    assert audience and cost, page
    assert int(audience.group(1).replace(",", "")) == expected.audience > 0
    assert float(cost.group(1).replace(",", "")) == round(expected.cost, 2)
    assert f"{expected.segments:,}" in page
    assert status_of(herald, campaign_id) is CampaignStatus.PENDING  # looking costs nothing


def test_a_plain_or_forged_activate_post_activates_nothing(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    for extra in ({}, {"confirmation": ""}, {"confirmation": "0" * 32}):
        answer = client.post(f"/campaigns/{campaign_id}/activate", data={"csrf_token": token, **extra})
        assert answer.status_code == 409, answer.text
        assert 'data-testid="not-confirmed"' in answer.text and 'data-testid="estimate"' in answer.text
        assert status_of(herald, campaign_id) is CampaignStatus.PENDING
    # Another session's confirmation of the same campaign does not count here either.
    theirs = TestClient(client.app, follow_redirects=False)
    log_in(theirs, Role.ADMIN)
    their_code = confirmation_of(theirs, f"/campaigns/{campaign_id}/activate")
    answer = client.post(f"/campaigns/{campaign_id}/activate", data={"csrf_token": token, "confirmation": their_code})
    assert answer.status_code == 409
    assert status_of(herald, campaign_id) is CampaignStatus.PENDING


def test_the_confirmed_post_activates_and_reactivates(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    code = confirmation_of(client, f"/campaigns/{campaign_id}/activate")
    answer = client.post(f"/campaigns/{campaign_id}/activate", data={"csrf_token": token, "confirmation": code})
    assert answer.status_code == 303 and "notice=activated" in answer.headers["location"]
    assert status_of(herald, campaign_id) is CampaignStatus.ACTIVE
    client.post(f"/campaigns/{campaign_id}/close", data={"csrf_token": token})
    # The activation's confirmation does not reactivate: each one is for its own action.
    answer = client.post(f"/campaigns/{campaign_id}/reactivate", data={"csrf_token": token, "confirmation": code})
    assert answer.status_code == 409 and status_of(herald, campaign_id) is CampaignStatus.CLOSED
    code = confirmation_of(client, f"/campaigns/{campaign_id}/reactivate")
    assert "not messaged again" in client.get(f"/campaigns/{campaign_id}/reactivate").text
    answer = client.post(f"/campaigns/{campaign_id}/reactivate", data={"csrf_token": token, "confirmation": code})
    assert answer.status_code == 303 and status_of(herald, campaign_id) is CampaignStatus.ACTIVE


def test_a_confirmation_given_before_an_edit_activates_nothing(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    code = confirmation_of(client, f"/campaigns/{campaign_id}/activate")
    edited = CampaignRequest.of(campaigns.get(campaign_id, store=herald.store)).model_dump(by_alias=True)
    edited["message"] = "Dear {{firstName}}, a longer text than the one confirmed, so it may cost more."
    campaigns.edit(campaign_id, CampaignRequest.model_validate(edited), **validating(herald))
    answer = client.post(f"/campaigns/{campaign_id}/activate", data={"csrf_token": token, "confirmation": code})
    assert answer.status_code == 409 and "changed since this was confirmed" in answer.text
    assert status_of(herald, campaign_id) is CampaignStatus.PENDING


def scheduled(herald: Herald, rule: str) -> int:
    request = CampaignRequest.model_validate(
        {
            "campaignName": f"Every {rule}",
            "triggerType": "schedule",
            "runReportId": 166,
            "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
            "message": "Hello {{firstName}}",
            "recurrence": rule,
            "recurrenceStartDate": "2026-11-21T08:00",
            "timezone": "Africa/Nairobi",
        }
    )
    return campaigns.create(request, **validating(herald)).id


def test_a_schedule_that_runs_more_than_daily_is_warned_about(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    twice = client.get(f"/campaigns/{scheduled(herald, 'FREQ=DAILY;BYHOUR=8,17;BYMINUTE=0')}/activate").text
    assert 'data-testid="warning"' in twice and "runs 2 times on Sat 21 Nov 2026 (08:00, 17:00" in twice
    hourly = client.get(f"/campaigns/{scheduled(herald, 'FREQ=HOURLY;BYMINUTE=0')}/activate").text
    assert "more often than daily" in hourly
    daily = client.get(f"/campaigns/{scheduled(herald, 'FREQ=DAILY;BYHOUR=8;BYMINUTE=0')}/activate").text
    assert 'data-testid="warning"' not in daily and "Audience per run" in daily


def failed_campaign(herald: Herald, codes: dict[str, int]) -> tuple[int, dict[str, list[int]]]:
    """An active Direct campaign whose first messages failed with these codes (how many of each)."""
    campaign_id = pending_campaign(herald)
    campaigns.activate(campaign_id, **activating(herald))
    outbound_for(herald).run()
    chosen: dict[str, list[int]] = {}
    with herald.store.begin() as conn:
        query = select(messages.c.id).where(messages.c.status == MessageStatus.PENDING).order_by(messages.c.id)
        ids = iter(list(conn.execute(query).scalars()))
        for code, n in codes.items():
            chosen[code] = [next(ids) for _ in range(n)]
            conn.execute(
                update(messages)
                .where(messages.c.id.in_(chosen[code]))
                .values(status=MessageStatus.FAILED, error_code=code, error_text=f"failed with {code}")
            )
    return campaign_id, chosen


def copies(herald: Herald, campaign_id: int) -> list[str]:
    """The bodies' originals' codes of every re-send made, oldest first, read back through the chain keys."""
    with herald.store.connect() as conn:
        rows = conn.execute(
            select(messages.c.dedup_key).where(
                messages.c.campaign_id == campaign_id, messages.c.dedup_key.contains("#resend-")
            )
        ).scalars()
        return sorted(rows)


def test_a_resend_by_failure_code_copies_exactly_the_chosen_ones_and_says_so(
    client: TestClient, herald: Herald
) -> None:
    campaign_id, failed = failed_campaign(herald, {"30005": 3, "21610": 2})
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    everything = client.get(f"/campaigns/{campaign_id}/resend").text
    assert re.search(r"<code>30005</code></label></td>\s*<td class=\"num\">3</td>", everything), everything
    assert re.search(r"<code>21610</code></label></td>\s*<td class=\"num\">2</td>", everything)
    assert re.search(r'data-testid="estimate-audience">5<', everything)

    path = f"/campaigns/{campaign_id}/resend?choose=1&code=30005"
    assert re.search(r'data-testid="estimate-audience">3<', client.get(path).text)
    code = confirmation_of(client, path)
    form = {"csrf_token": token, "confirmation": code, "code": "30005"}
    done = client.post(f"/campaigns/{campaign_id}/resend", data=form)
    assert done.status_code == 200, done.text
    assert "3 failed messages queued again as new Pending messages" in done.text and "30005: 3" in done.text
    with herald.store.connect() as conn:
        keys = dict(conn.execute(select(messages.c.id, messages.c.dedup_key)).all())
    assert copies(herald, campaign_id) == sorted(f"{keys[i]}#resend-1" for i in failed["30005"])

    # The same post again (a reload, a double click) re-sends nothing and says so.
    again = client.post(f"/campaigns/{campaign_id}/resend", data=form)
    assert again.status_code == 409 and "0 failed messages to re-send" in again.text
    assert len(copies(herald, campaign_id)) == 3


def test_an_unconfirmed_resend_post_queues_nothing(client: TestClient, herald: Herald) -> None:
    campaign_id, _ = failed_campaign(herald, {"30005": 2})
    log_in(client, Role.CAMPAIGN_MANAGER)
    answer = client.post(f"/campaigns/{campaign_id}/resend", data={"csrf_token": csrf_of(client)})
    assert answer.status_code == 409 and 'data-testid="not-confirmed"' in answer.text
    assert copies(herald, campaign_id) == []


def test_a_resend_with_nothing_left_says_0_and_offers_no_button(client: TestClient, herald: Herald) -> None:
    campaign_id, _ = failed_campaign(herald, {"30005": 2})
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    code = confirmation_of(client, f"/campaigns/{campaign_id}/resend")
    client.post(f"/campaigns/{campaign_id}/resend", data={"csrf_token": token, "confirmation": code, "code": "30005"})
    page = client.get(f"/campaigns/{campaign_id}/resend").text
    assert "0 failed messages to re-send" in page and 'data-testid="confirm"' not in page


def test_the_tabs_mark_resent_rows_and_the_resends_both_ways(client: TestClient, herald: Herald) -> None:
    campaign_id, failed = failed_campaign(herald, {"30005": 1})
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    assert 'data-testid="resent-as"' not in client.get(f"/campaigns/{campaign_id}?tab=failed").text
    code = confirmation_of(client, f"/campaigns/{campaign_id}/resend")
    client.post(f"/campaigns/{campaign_id}/resend", data={"csrf_token": token, "confirmation": code, "code": "30005"})
    with herald.store.connect() as conn:
        new_id = conn.execute(select(messages.c.id).where(messages.c.dedup_key.contains("#resend-1"))).scalar_one()
    old_id = failed["30005"][0]
    failed_tab = client.get(f"/campaigns/{campaign_id}?tab=failed").text
    mark = re.search(r'data-testid="resent-as"[^>]*href="([^"]+)">re-sent as (\d+)</a>', failed_tab)
    assert mark and int(mark.group(2)) == new_id and f"#m-{new_id}" in mark.group(1), failed_tab
    linked = client.get(mark.group(1).replace("&amp;", "&").split("#")[0]).text
    assert f'id="m-{new_id}"' in linked  # the link opens the tab that holds the new message
    pending_tab = client.get(f"/campaigns/{campaign_id}?tab=pending").text
    assert re.search(rf're-send of <a[^>]*href="[^"]*#m-{old_id}">{old_id}</a>', pending_tab), pending_tab


def test_a_viewer_gets_no_confirmation_page(client: TestClient, herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    log_in(client, Role.VIEWER)
    answer = client.get(f"/campaigns/{campaign_id}/activate")
    assert answer.status_code == 403 and "needs the campaign manager role" in answer.text
