"""The admins' events page over plain HTTP: the dead letters (paged, retried, discarded, downloaded) and the stream.

Letters are kept aside by the consumer the Herald builds for its worker, from events written as
Fineract writes them; nobody but an admin may see the page, download a body or act on a letter.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine, select, text

from herald.app import Herald
from herald.clock import ManualClock
from herald.events.transport import Delivery
from herald.services import auth, campaigns
from herald.services.auth import SESSION_COOKIE, Role
from herald.services.campaigns import CampaignRequest
from herald.store import external_events
from herald.store.tables import audit_log, dead_letters, messages
from tests.campaign_parts import activating, validating
from tests.fineract_events import EventWriter
from tests.web.conftest import PASSWORD, START, DemoCorebank, csrf_of, log_in
from tests.web.test_access import assert_readable_refusal
from tests.web.test_attack import NASTY

WRITER = EventWriter()


def _park(herald: Herald, *bodies: bytes) -> list[int]:
    herald.event_consumer().handle([Delivery(b, f"ID:broker-{n}") for n, b in enumerate(bodies)])
    with herald.store.connect() as conn:
        return [r[0] for r in conn.execute(select(dead_letters.c.id).order_by(dead_letters.c.id))]


def _kampala(client_id: int = 7) -> bytes:
    return WRITER.event("ClientActivateBusinessEvent", {"id": client_id}, tenant="kampala", created_at=START)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CAMPAIGN_MANAGER])
def test_nobody_but_an_admin_sees_the_page_downloads_a_body_or_acts_on_a_letter(
    client: TestClient, herald: Herald, role: Role
) -> None:
    [letter] = _park(herald, _kampala())
    log_in(client, role)
    csrf = csrf_of(client, "/campaigns")
    assert 'href="/events"' not in client.get("/campaigns").text  # no link to a page it may not open
    for answer in (
        client.get("/events"),
        client.get(f"/events/dead-letters/{letter}/body"),
        client.get(f"/events/dead-letters/{letter}/discard"),
        client.post(f"/events/dead-letters/{letter}/retry", data={"csrf_token": csrf}),
        client.post("/events/dead-letters/retry", data={"csrf_token": csrf}),
        client.post(f"/events/dead-letters/{letter}/discard", data={"csrf_token": csrf, "reason": "x"}),
    ):
        assert_readable_refusal(answer, 403, "needs the admin role")
        assert "kampala" not in answer.text and "application/octet-stream" not in answer.headers["content-type"]
    with herald.store.connect() as conn:
        assert conn.execute(select(dead_letters.c.id)).all() == [(letter,)]
        assert conn.execute(select(audit_log.c.id).where(audit_log.c.action.like("event.%"))).all() == []


def test_the_page_lists_the_letters_newest_first_in_the_installations_zone(client: TestClient, herald: Herald) -> None:
    first, second = _park(herald, b"not avro", _kampala())
    log_in(client, Role.ADMIN)
    page = client.get("/events")
    assert page.status_code == 200 and 'href="/events" aria-current="page"' in page.text
    assert "2 dead letters." in page.text
    assert page.text.index(f'id="letter-{second}"') < page.text.index(f'id="letter-{first}"')
    row = page.text[page.text.index(f'id="letter-{second}"') :].split("</tr>")[0]
    assert "20 Nov 2026 08:00 EAT" in row  # 05:00 UTC in Nairobi, the zone said
    assert "kampala" in row and "ClientActivateBusinessEvent" in row and "HERALD_TENANTS" in row
    assert f"{len(_kampala()):,} B" in row and "ID:broker-1" in row
    assert "HERALD_EVENTS_URL is not set" in page.text


def test_the_letters_come_a_hundred_a_page_with_the_total(client: TestClient, herald: Herald) -> None:
    with herald.store.begin() as conn:
        for n in range(101):
            external_events.park(conn, ref=f"r{n}", at=START, broker_message_id=f"ID:{n}", reason="bad", body=b"x")
    log_in(client, Role.ADMIN)
    one = client.get("/events")
    assert "101 dead letters." in one.text and "Page 1 of 2" in one.text
    assert len(re.findall(r'<tr id="letter-', one.text)) == 100
    two = client.get("/events?page=2")
    assert len(re.findall(r'<tr id="letter-', two.text)) == 1 and "Page 2 of 2" in two.text
    assert client.get("/events?page=0").status_code == 422
    assert "No dead letters on this page" in client.get("/events?page=9").text


def test_the_jobs_page_says_when_events_could_not_be_read(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.ADMIN)
    assert "could not be read" not in client.get("/jobs").text
    _park(herald, b"not avro", b"not avro either", _kampala())
    assert (
        '3 external events could not be read — see <a href="/events#dead-letters">Events</a>'
        in client.get("/jobs").text
    )
    log_in(client, Role.VIEWER)
    seen = client.get("/jobs").text
    assert "3 external events could not be read" in seen and 'href="/events' not in seen


def test_an_admin_downloads_a_body_byte_for_byte(client: TestClient, herald: Herald) -> None:
    raw = _kampala() + b"\x00\xff"
    [letter] = _park(herald, raw)
    log_in(client, Role.ADMIN)
    answer = client.get(f"/events/dead-letters/{letter}/body")
    assert answer.status_code == 200 and answer.content == raw
    assert answer.headers["content-type"] == "application/octet-stream"
    assert f'filename="dead-letter-{letter}.bin"' in answer.headers["content-disposition"]
    assert answer.headers["cache-control"] == "no-store"
    assert_readable_refusal(client.get(f"/events/dead-letters/{letter + 1}/body"), 404, "no dead letter")


def test_a_retry_that_fails_again_says_why_and_keeps_the_letter(client: TestClient, herald: Herald) -> None:
    [letter] = _park(herald, _kampala())
    log_in(client, Role.ADMIN)
    csrf = csrf_of(client, "/events")
    answer = client.post(f"/events/dead-letters/{letter}/retry", data={"csrf_token": csrf})
    assert answer.status_code == 200
    assert f"Dead letter {letter} was kept aside again: Tenant &#39;kampala&#39; is not one of herald" in answer.text
    assert f'id="letter-{letter}"' in answer.text
    assert client.post(f"/events/dead-letters/{letter}/retry", data={}).status_code == 403  # no CSRF token


def _active_client(corebank: DemoCorebank) -> tuple[int, str]:
    engine = create_engine(corebank.url)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, firstname FROM m_client WHERE status_enum = 300 AND mobile_no IS NOT NULL ORDER BY id")
        ).first()
    engine.dispose()
    assert row is not None
    return int(row[0]), str(row[1])


def test_a_retry_that_goes_through_says_how_many_messages_it_created(
    client: TestClient, herald: Herald, demo_corebank: DemoCorebank
) -> None:
    client_id, first_name = _active_client(demo_corebank)
    c = campaigns.create(
        CampaignRequest.model_validate(
            {
                "campaignName": "Welcome",
                "triggerType": "triggered",
                "runReportId": 183,
                "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
                "message": "Karibu {{firstName}}",
            }
        ),
        **validating(herald),
    )
    campaigns.activate(c.id, **activating(herald))
    body = WRITER.event("ClientActivateBusinessEvent", {"id": client_id}, created_at=START)
    with herald.store.begin() as conn:  # kept aside by a herald that could not read it (its schemas were missing)
        external_events.park(conn, ref="broker:ID:old", at=START, broker_message_id="ID:old", reason="old", body=body)
    log_in(client, Role.ADMIN)
    csrf = csrf_of(client, "/events")
    answer = client.post("/events/dead-letters/retry", data={"csrf_token": csrf})
    assert "Retried 1 dead letter: 1 went through and created 1 message; 0 kept aside again" in answer.text
    assert "0 dead letters." in answer.text
    with herald.store.connect() as conn:
        assert [r.body for r in conn.execute(select(messages))] == [f"Karibu {first_name}"]
        assert conn.execute(select(audit_log.c.actor).where(audit_log.c.action == "event.retry")).all() == [("admin",)]


def test_discard_asks_first_then_the_audit_log_keeps_who_and_why(client: TestClient, herald: Herald) -> None:
    [letter] = _park(herald, b"not avro")
    log_in(client, Role.ADMIN)
    confirm = client.get(f"/events/dead-letters/{letter}/discard")
    assert (
        confirm.status_code == 200 and f"Discard dead letter {letter}?" in confirm.text and "not Avro" in confirm.text
    )
    csrf = csrf_of(client, f"/events/dead-letters/{letter}/discard")
    refused = client.post(f"/events/dead-letters/{letter}/discard", data={"csrf_token": csrf, "reason": " "})
    assert_readable_refusal(refused, 422, "Say why you discard it")
    done = client.post(f"/events/dead-letters/{letter}/discard", data={"csrf_token": csrf, "reason": "a test"})
    assert done.status_code == 303 and done.headers["location"] == "/events?notice=letter-discarded"
    assert "Dead letter discarded" in client.get(done.headers["location"]).text
    with herald.store.connect() as conn:
        assert conn.execute(select(dead_letters.c.id)).all() == []
        [entry] = conn.execute(select(audit_log).where(audit_log.c.action == "event.discard")).all()
    assert (entry.actor, entry.via, entry.detail["reason"]) == ("admin", "ui", "a test")
    gone = client.post(f"/events/dead-letters/{letter}/discard", data={"csrf_token": csrf, "reason": "again"})
    assert_readable_refusal(gone, 404, "no dead letter")


def test_the_stream_shows_arrivals_per_tenant_and_kind_and_the_last_24_hours(
    client: TestClient, herald: Herald, clock: ManualClock, demo_corebank: DemoCorebank
) -> None:
    client_id, _ = _active_client(demo_corebank)
    consumer = herald.event_consumer()
    consumer.handle([Delivery(WRITER.event("ClientActivateBusinessEvent", {"id": client_id}), "ID:1")])
    clock.advance(timedelta(hours=2))
    consumer.handle([Delivery(WRITER.event("ClientActivateBusinessEvent", {"id": client_id}), "ID:2")])
    clock.advance(timedelta(hours=30))  # the first two now older than a day
    consumer.handle([Delivery(WRITER.event("ClientActivateBusinessEvent", {"id": client_id}), "ID:3")])
    # A day and more later than the template's sessions: a fresh one.
    client.cookies.set(SESSION_COOKIE, auth.login("admin", PASSWORD, store=herald.store, clock=herald.clock))
    answer = client.get("/events")
    assert answer.status_code == 200, answer.text
    page = answer.text
    row = page[page.index('<table class="arrivals">') :].split("</table>")[0]
    assert "<td>default</td><td>CLIENT ACTIVATE</td>" in row
    assert "21 Nov 2026 16:00 EAT" in row and '<td class="num">3</td>' in row
    assert "<strong>1</strong> event acted on since" in page
    assert '<svg class="chart"' in page and ": 1 event</title>" in page


def test_without_a_session_the_page_and_the_download_send_to_login(client: TestClient, herald: Herald) -> None:
    [letter] = _park(herald, _kampala())
    for path in ("/events", f"/events/dead-letters/{letter}/body", f"/events/dead-letters/{letter}/discard"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next="), path


def test_a_tenant_or_reason_with_markup_is_shown_as_text_and_nasty_addresses_get_a_page(
    client: TestClient, herald: Herald
) -> None:
    hostile = WRITER.event("ClientActivateBusinessEvent", {"id": 1}, tenant="<script>alert(1)</script>")
    [letter] = _park(herald, hostile)
    log_in(client, Role.ADMIN)
    page = client.get("/events").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    broken = []
    for value in (*NASTY, "%00", "-1", "99999999999999999999", "1.5"):
        segment = quote(value, safe="")
        for answer in (
            client.get("/events", params={"page": value}),
            client.get(f"/events/dead-letters/{segment}/body"),
            client.get(f"/events/dead-letters/{segment}/discard"),
        ):
            if answer.status_code >= 500 or "Traceback" in answer.text or "<script>alert" in answer.text:
                broken.append(f"{answer.status_code} {answer.url}")
    assert not broken, "\n".join(broken)
    csrf = csrf_of(client, "/events")
    nul = client.post(f"/events/dead-letters/{letter}/discard", data={"csrf_token": csrf, "reason": "a\x00b"})
    assert_readable_refusal(nul, 422, "The reason")


def test_the_broker_is_shown_without_its_password(client: TestClient, herald: Herald) -> None:
    url = "stomp://herald:Sup3r-s3cret@broker.example:61613/queue/fineract-events"
    herald.settings = herald.settings.model_copy(update={"events_url": SecretStr(url)})  # as HERALD_EVENTS_URL sets it
    log_in(client, Role.ADMIN)
    page = client.get("/events").text
    assert "herald:***@broker.example:61613" in page and "Sup3r-s3cret" not in page
