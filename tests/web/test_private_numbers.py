"""The campaign page's tabs: numbers in bodies and provider texts are masked for non-admins, and only admins
search message text for numbers (a viewer cannot confirm, even digit by digit, that a number was messaged)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from herald.app import Herald
from herald.domain.message import MessageStatus
from herald.services import campaigns
from herald.services.auth import Role
from herald.services.campaigns import CampaignRequest
from herald.store.tables import messages
from herald.worker import outbound_for
from tests.campaign_parts import activating, validating
from tests.web.conftest import csrf_of, log_in
from tests.web.test_pages import SCHEDULED

HOTLINE = "0712345678"
TWILIO_ERROR = "The 'To' number +15005550001 is not a valid phone number."


def _campaign_with_numbers_in_text(herald: Herald) -> tuple[int, str]:
    """An active campaign whose bodies carry a number and one message failed with Twilio's words; and a
    number it messaged."""
    request = {
        "campaignName": "Hotline",
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
        "message": "Hello {{firstName}}, questions? Call " + HOTLINE,
    }
    campaign_id = campaigns.create(CampaignRequest.model_validate(request), **validating(herald)).id
    campaigns.activate(campaign_id, **activating(herald))
    outbound_for(herald).run()
    with herald.store.begin() as conn:
        first = conn.execute(
            select(messages.c.id, messages.c.mobile_no)
            .where(messages.c.status == MessageStatus.PENDING, messages.c.mobile_no.like("+254%"))  # herald's region
            .order_by(messages.c.id.desc())
        ).first()
        assert first is not None
        conn.execute(
            update(messages)
            .where(messages.c.id == first.id)
            .values(status=MessageStatus.FAILED, error_code="21211", error_text=TWILIO_ERROR)
        )
    return campaign_id, str(first.mobile_no)


def _tab(client: TestClient, campaign_id: int, tab: str) -> str:
    """The messages part of the page (above it, the campaign's own template is shown as written)."""
    page = client.get(f"/campaigns/{campaign_id}?tab={tab}").text
    return page[page.index('<h2 id="messages">') :]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CAMPAIGN_MANAGER])
def test_numbers_in_bodies_and_provider_texts_are_masked_for_non_admins(
    client: TestClient, herald: Herald, role: Role
) -> None:
    campaign_id, _ = _campaign_with_numbers_in_text(herald)
    log_in(client, role)
    pending = _tab(client, campaign_id, "pending")
    failed = _tab(client, campaign_id, "failed")
    assert HOTLINE not in pending and "questions? Call 07******78" in pending
    assert "+15005550001" not in failed and "+1500*****01 is not a valid phone number" in failed
    assert not re.search(r"\+\d{9,}", pending + failed)


def test_an_admin_sees_the_texts_in_full(client: TestClient, herald: Herald) -> None:
    campaign_id, _ = _campaign_with_numbers_in_text(herald)
    log_in(client, Role.ADMIN)
    assert HOTLINE in _tab(client, campaign_id, "pending")
    assert "+15005550001" in _tab(client, campaign_id, "failed")


def _search(client: TestClient, campaign_id: int, q: str, tab: str = "pending") -> tuple[int, str]:
    answer = client.get(f"/campaigns/{campaign_id}", params={"tab": tab, "q": q})
    return answer.status_code, answer.text


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CAMPAIGN_MANAGER])
def test_a_non_admin_cannot_search_the_text_for_a_number_not_even_partly(
    client: TestClient, herald: Herald, role: Role
) -> None:
    campaign_id, messaged = _campaign_with_numbers_in_text(herald)
    log_in(client, role)
    national = "0" + messaged[4:]
    for q in (HOTLINE, messaged, national, messaged[:7], "no. 345", "Call 0712", "+254", "4 5", "Call ０７１２"):
        status, page = _search(client, campaign_id, q, tab="failed")
        assert status == 403, q
        assert 'data-testid="search-refused"' in page and "Only admins can search" in page, q
        assert "<table class=\"messages\">" not in page
    # The answer is the same whether or not the number was messaged: nothing to confirm.
    never = "0799000111"

    def answer(q: str) -> str:  # the page, less the per-answer CSP nonce
        return re.sub(r'nonce="[^"]*"', 'nonce=""', _search(client, campaign_id, q)[1]).replace(q, "Q")

    assert answer(never) == answer(national)


def test_a_non_admin_still_searches_by_client_id_and_words(client: TestClient, herald: Herald) -> None:
    campaign_id, _ = _campaign_with_numbers_in_text(herald)
    log_in(client, Role.VIEWER)
    status, page = _search(client, campaign_id, "questions")
    assert status == 200 and re.search(r"[1-9][\d,]* messages? matching", page)
    with herald.store.connect() as conn:
        client_id = conn.execute(
            select(messages.c.client_id).where(messages.c.status == MessageStatus.PENDING)
        ).scalar()
    status, page = _search(client, campaign_id, str(client_id))
    assert status == 200 and f"1 message matching “{client_id}”." in page
    assert _search(client, campaign_id, "²")[0] == 403  # a digit to str.isdigit(), not to int(): no 500


def test_an_admin_s_odd_digits_are_searched_as_text(client: TestClient, herald: Herald) -> None:
    campaign_id, _ = _campaign_with_numbers_in_text(herald)
    log_in(client, Role.ADMIN)
    for q in ("²", "1" * 40, "٣٤٥"):
        status, page = _search(client, campaign_id, q)
        assert status == 200 and "0 messages matching" in page, q


def test_an_admin_searches_by_number_in_the_text_or_as_the_recipient(client: TestClient, herald: Herald) -> None:
    campaign_id, messaged = _campaign_with_numbers_in_text(herald)
    log_in(client, Role.ADMIN)
    status, page = _search(client, campaign_id, "Call " + HOTLINE)
    assert status == 200 and re.search(r"[1-9][\d,]* messages? matching", page)
    status, page = _search(client, campaign_id, "0" + messaged[4:], tab="failed")  # the national spelling
    assert status == 200 and "1 message matching" in page and messaged in page


def test_the_live_preview_masks_numbers_in_sample_bodies_for_everyone_but_admins(client: TestClient) -> None:
    form = {**SCHEDULED, "message": "Dear {{fullName}}, call 0712345678 about {{totalDue}}."}
    log_in(client, Role.CAMPAIGN_MANAGER)
    managers = client.post("/campaigns/form-preview", data={**form, "csrf_token": csrf_of(client)})
    assert managers.status_code == 200 and 'data-testid="audience"' in managers.text
    assert "call 07******78 about" in managers.text and "0712345678" not in managers.text
    log_in(client, Role.ADMIN)
    admins = client.post("/campaigns/form-preview", data={**form, "csrf_token": csrf_of(client)})
    assert "call 0712345678 about" in admins.text
