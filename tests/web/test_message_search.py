"""The Messages page: a search across campaigns by each key, masked by role, and one message's history."""

from __future__ import annotations

import asyncio
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, select, update

from herald.app import Herald
from herald.corebank.schema import m_client
from herald.domain.message import MessageStatus
from herald.errors import ValidationError
from herald.services import campaigns, optouts
from herald.services.audit import Actor
from herald.services.auth import Role
from herald.services.campaigns import CampaignRequest
from herald.services.message_search import SearchTerms, query_of
from herald.services.resend import resend_failed
from herald.store.tables import message_parts, messages
from herald.worker import outbound_for, puller_for, sender_for
from tests.campaign_parts import activating, validating
from tests.web.conftest import DemoCorebank, log_in

FULL_NUMBER = re.compile(r"\+\d{9,}")


def two_campaigns(herald: Herald) -> tuple[int, int]:
    """Two active Direct campaigns to the same office's clients, their messages made and handed to the simulator."""
    made = []
    for name, text in (
        ("Reminders", "Hello {{firstName}}, see you soon."),
        ("Greetings", "Dear {{firstName}}, welcome."),
    ):
        request = {
            "campaignName": name,
            "triggerType": "direct",
            "runReportId": 166,
            "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
            "message": text,
        }
        campaign_id = campaigns.create(CampaignRequest.model_validate(request), **validating(herald)).id
        campaigns.activate(campaign_id, **activating(herald))
        made.append(campaign_id)
    outbound_for(herald).run()
    return made[0], made[1]


def a_client(herald: Herald, corebank: DemoCorebank) -> tuple[int, str, str]:
    """(id, display name, E.164 number) of a client both campaigns messaged."""
    with herald.store.connect() as conn:
        row = conn.execute(
            select(messages.c.client_id, messages.c.mobile_no)
            .where(messages.c.mobile_no.like("+254%"))
            .order_by(messages.c.id)
        ).first()
    assert row is not None
    with create_engine(corebank.url).connect() as conn:
        name = conn.execute(select(m_client.c.display_name).where(m_client.c.id == row.client_id)).scalar_one()
    return int(row.client_id), str(name), str(row.mobile_no)


def ids_in(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'<a href="/messages/(\d+)">', page)}


def messages_of(herald: Herald, **where: object) -> set[int]:
    with herald.store.connect() as conn:
        query = select(messages.c.id)
        for column, value in where.items():
            query = query.where(messages.c[column] == value)
        return set(conn.execute(query).scalars())


def test_a_client_is_found_by_name_or_id_across_both_campaigns(
    client: TestClient, herald: Herald, demo_corebank: DemoCorebank
) -> None:
    first, second = two_campaigns(herald)
    client_id, name, _ = a_client(herald, demo_corebank)
    theirs = messages_of(herald, client_id=client_id)
    assert len(theirs) == 2
    log_in(client, Role.VIEWER)
    by_name = client.get("/messages", params={"client": name.split()[-1].lower()})
    assert by_name.status_code == 200
    assert theirs <= ids_in(by_name.text) and name in by_name.text
    assert "Reminders" in by_name.text and "Greetings" in by_name.text
    by_id = client.get("/messages", params={"client": str(client_id)}).text
    assert ids_in(by_id) == theirs and "2 messages match" in by_id
    only_first = client.get("/messages", params={"client": str(client_id), "campaign": str(first)}).text
    assert ids_in(only_first) == messages_of(herald, client_id=client_id, campaign_id=first)
    assert second != first


def test_a_name_too_many_clients_share_asks_for_more_of_it(herald: Herald) -> None:
    parts = {"reveal": False, "corebanks": herald.corebanks, "store": herald.store}
    parts |= {"timezone": "Africa/Nairobi", "default_region": "KE"}
    with pytest.raises(ValidationError, match="More than 5 clients have 'a' in their name; type more of it"):
        query_of(SearchTerms(client="a"), **parts, most=5)
    assert query_of(SearchTerms(client="a"), **parts, most=1_000).clients  # 300 demo clients: under the bound


def test_messages_are_found_by_error_code_status_and_days(client: TestClient, herald: Herald) -> None:
    _, second = two_campaigns(herald)
    target = min(messages_of(herald, campaign_id=second))
    with herald.store.begin() as conn:
        conn.execute(
            update(messages)
            .where(messages.c.id == target)
            .values(status=MessageStatus.FAILED, error_code="30003", error_text="Unreachable destination handset")
        )
    log_in(client, Role.VIEWER)
    assert ids_in(client.get("/messages", params={"code": "30003"}).text) == {target}
    failed = client.get("/messages", params={"status": "failed", "campaign": str(second)}).text
    assert target in ids_in(failed) and ids_in(failed) <= messages_of(herald, status=MessageStatus.FAILED)
    assert "Unreachable destination handset" in failed
    everything = len(messages_of(herald))
    that_day = client.get("/messages", params={"from": "2026-11-20", "to": "2026-11-20"}).text
    assert f"{everything:,} messages match" in that_day
    assert "0 messages" in client.get("/messages", params={"from": "2026-11-21"}).text
    assert "0 messages" in client.get("/messages", params={"to": "2026-11-19"}).text


def test_only_an_admin_searches_by_phone_number(
    client: TestClient, herald: Herald, demo_corebank: DemoCorebank
) -> None:
    two_campaigns(herald)
    _, _, number = a_client(herald, demo_corebank)
    national = "0" + number.removeprefix("+254")
    log_in(client, Role.ADMIN)
    found = client.get("/messages", params={"number": national}).text
    assert ids_in(found) == messages_of(herald, mobile_no=number) and number in found
    bad = client.get("/messages", params={"number": "not a number"})
    assert bad.status_code == 422 and "not a phone number" in bad.text
    for role in (Role.VIEWER, Role.CAMPAIGN_MANAGER):
        log_in(client, role)
        refused = client.get("/messages", params={"number": national})
        assert refused.status_code == 403
        assert "Only admins can search by phone number" in refused.text
        assert ids_in(refused.text) == set() and number not in refused.text
        assert "Only admins can search by phone number" in client.get("/messages").text
        csv = client.get("/messages/export.csv", params={"number": national})
        assert csv.status_code == 403 and number not in csv.text


def test_a_viewer_never_sees_a_full_number_on_the_search_or_message_pages(client: TestClient, herald: Herald) -> None:
    two_campaigns(herald)
    some = sorted(messages_of(herald))[:5]
    log_in(client, Role.VIEWER)
    search = client.get("/messages").text
    assert ids_in(search) and not FULL_NUMBER.search(search)
    for message_id in some:
        page = client.get(f"/messages/{message_id}")
        assert page.status_code == 200 and not FULL_NUMBER.search(page.text)
    log_in(client, Role.ADMIN)
    assert FULL_NUMBER.search(client.get("/messages").text)


def test_a_message_page_shows_its_attempt_reports_resend_chain_and_opt_out(
    client: TestClient, herald: Herald, demo_corebank: DemoCorebank
) -> None:
    first, _ = two_campaigns(herald)
    asyncio.run(sender_for(herald).run())
    herald.clock.advance(seconds=5)  # past the simulator's delivery delay: its reports say how each ended
    asyncio.run(puller_for(herald).pull())
    with herald.store.connect() as conn:
        failed = conn.execute(
            select(messages).where(messages.c.campaign_id == first, messages.c.status == MessageStatus.FAILED)
        ).first()
    assert failed is not None, "the simulator fails one message in five"
    resend_failed(first, [failed.id], store=herald.store, clock=herald.clock, actor=Actor.ui("manager"))
    copy = max(messages_of(herald, campaign_id=first, client_id=failed.client_id))
    optouts.add_number(
        failed.mobile_no,
        "asked at the branch",
        Actor.ui("admin"),
        store=herald.store,
        clock=herald.clock,
        default_region=herald.settings.default_region,
    )
    log_in(client, Role.VIEWER)
    original = client.get(f"/messages/{failed.id}").text
    assert "Failed" in original and failed.external_id in original and failed.error_code in original
    assert "08:00:00 EAT" in original  # times carry their zone
    chain = original[original.index('data-testid="chain"') :]
    assert f'<a href="/messages/{copy}">{copy}</a>' in chain and "re-send 1" in chain
    assert "manager" in chain and "via ui" in chain
    assert "opted out" in original and "asked at the branch" in original
    again = client.get(f"/messages/{copy}").text
    assert f'<a href="/messages/{failed.id}">{failed.id}</a>' in again and "Pending" in again
    assert client.get("/messages/999999").status_code == 404


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ADMIN])
def test_every_tab_row_links_to_its_message_page(client: TestClient, herald: Herald, role: Role) -> None:
    first, _ = two_campaigns(herald)
    log_in(client, role)
    tab = client.get(f"/campaigns/{first}?tab=pending").text
    assert ids_in(tab) and ids_in(tab) <= messages_of(herald, campaign_id=first)
    assert f"/campaigns/{first}/export.csv?tab=pending" in tab


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/messages", {"from": "yesterday"}, 422, "is not a day; pick one as YYYY-MM-DD"),
        ("/messages", {"from": "2026-11-21", "to": "2026-11-20"}, 422, "is after to"),
        ("/messages", {"campaign": "Reminders"}, 422, "is not a campaign; pick one from the list"),
        ("/messages", {"status": "lost"}, 422, "Unknown message status"),
        ("/messages", {"client": "9" * 19}, 422, "is not a client id"),
        ("/messages", {"client": "Amina\x00"}, 200, "0 messages"),
        ("/messages/export.csv", {"status": "lost"}, 422, "Unknown message status"),
        ("/messages/abc", {}, 422, "not valid here"),
        ("/campaigns/1/export.csv", {"tab": "nope"}, 422, "the tabs are pending"),
        ("/campaigns/999/export.csv", {}, 404, "999"),
    ],
)
def test_bad_input_gets_a_page_saying_what_is_wrong(
    client: TestClient, path: str, params: dict[str, str], status: int, says: str
) -> None:
    log_in(client, Role.VIEWER)
    answer = client.get(path, params=params)
    assert answer.status_code == status and says in answer.text
    assert "Traceback" not in answer.text and answer.headers["content-type"].startswith("text/html")


def test_a_long_message_shows_each_parts_report(client: TestClient, herald: Herald) -> None:
    first, _ = two_campaigns(herald)
    target = min(messages_of(herald, campaign_id=first))
    with herald.store.begin() as conn:
        conn.execute(
            update(messages)
            .where(messages.c.id == target)
            .values(status=MessageStatus.SENT, provider="smpp", external_id="0a1b", segments=2)
        )
        conn.execute(
            insert(message_parts),
            [
                {"provider": "smpp", "part_id": "0a1b", "message_id": target, "external_id": "0a1b", "status": 300},
                {"provider": "smpp", "part_id": "0a1c", "message_id": target, "external_id": "0a1b", "status": None},
            ],
        )
    log_in(client, Role.VIEWER)
    page = client.get(f"/messages/{target}").text
    parts = page[page.index("Sent as 2 parts") :]
    assert re.search(r"<code>0a1b</code></td><td>Delivered</td>", parts)
    assert re.search(r"<code>0a1c</code></td><td>none yet</td>", parts)
