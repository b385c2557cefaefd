"""The merged issue-12 pages attacked from outside: odd input on every new route, numbers hidden in names and
reasons, hostile text escaped, days at the calendar's edge; each test failed on main before its fix."""

from __future__ import annotations

import csv
import html
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, update

from herald.app import Herald
from herald.clock import ManualClock
from herald.corebank.failures import Source
from herald.corebank.schema import m_client
from herald.domain.campaign import CampaignStatus
from herald.domain.message import MessageStatus
from herald.providers.twilio import is_signed
from herald.server import create_app
from herald.services import campaigns, optouts
from herald.services.audit import Actor
from herald.services.auth import CSRF_HEADER, Role
from herald.store.database import shown_url
from herald.store.tables import messages
from tests.web.confirming import confirmation_of
from tests.web.conftest import START, DemoCorebank, build_herald, csrf_of, log_in
from tests.web.test_confirm_pages import failed_campaign
from tests.web.test_message_search import two_campaigns

NUMBER_IN_NAME = "0712 345 678"
HOSTILE_NAME = f"=cmd|' /C calc'!A0 <script>alert(1)</script> \"{{{{7*7}}}}\" {NUMBER_IN_NAME}"
NASTY = [
    "0",
    "-1",
    "99999999999999999999999",
    str(2**63),
    "1e9",
    "abc",
    "%00",
    "\x7f",
    "é\u202e",
    "x" * 5000,
    "<script>alert(1)</script>",
    "'\"",
    "{{7*7}}",
    "=cmd|' /C calc'!A0",
    "../../etc/passwd",
    "2026-13-45",
    "0001-01-01",
    "9999-12-31",
    "+254712345678",
    " ",
]


@pytest.fixture
def hostile(tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank) -> Iterator[tuple[Herald, int]]:
    """A Herald whose core bank (a copy of the demo's) has a client named with markup, a formula and a phone
    number; the client id of that client, who both campaigns message."""
    copy = tmp_path / "fineract.sqlite"
    shutil.copy(demo_corebank.url.removeprefix("sqlite:///"), copy)
    home = tmp_path / "home"
    home.mkdir()
    corebank = DemoCorebank(f"sqlite:///{copy}", demo_corebank.offices)
    h = build_herald(home, herald_template, corebank, ManualClock(START))
    two_campaigns(h)
    with h.store.connect() as conn:
        client_id = conn.execute(
            select(messages.c.client_id).where(messages.c.client_id.is_not(None)).order_by(messages.c.id)
        ).scalar()
    assert client_id is not None
    engine = create_engine(f"sqlite:///{copy}")
    with engine.begin() as conn:
        conn.execute(update(m_client).where(m_client.c.id == client_id).values(display_name=HOSTILE_NAME))
    engine.dispose()
    yield h, int(client_id)
    h.close()


def _client_of(h: Herald) -> TestClient:
    return TestClient(create_app(h), raise_server_exceptions=False, follow_redirects=False)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CAMPAIGN_MANAGER])
def test_a_number_in_a_client_s_name_is_masked_on_the_messages_pages_for_non_admins(
    hostile: tuple[Herald, int], role: Role
) -> None:
    h, client_id = hostile
    with _client_of(h) as client:
        log_in(client, role)
        search = client.get("/messages", params={"client": str(client_id)})
        assert search.status_code == 200, search.text
        with h.store.connect() as conn:
            first = conn.execute(select(messages.c.id).where(messages.c.client_id == client_id)).scalar()
        page = client.get(f"/messages/{first}")
        exported = client.get("/messages/export.csv", params={"client": str(client_id)})
        for answer in (search, page):
            shown = html.unescape(answer.text)
            assert "07******78" in shown, shown  # the name is there, its number masked as the CSV masks it
            assert NUMBER_IN_NAME not in shown and "0712345678" not in shown
        names = {r["clientName"] for r in csv.DictReader(io.StringIO(exported.text))}
        assert all("07******78" in n for n in names) and all(NUMBER_IN_NAME not in n for n in names)


def test_an_admin_sees_the_client_s_name_in_full_and_hostile_text_stays_text(hostile: tuple[Herald, int]) -> None:
    h, client_id = hostile
    with _client_of(h) as client:
        log_in(client, Role.ADMIN)
        search = client.get("/messages", params={"client": str(client_id)})
        exported = client.get("/messages/export.csv", params={"client": str(client_id)})
    assert NUMBER_IN_NAME in html.unescape(search.text)
    assert "<script>alert(1)</script>" not in search.text and "&lt;script&gt;alert(1)" in search.text
    assert '"{{7*7}}"' in html.unescape(search.text)  # shown as typed, never evaluated
    names = {r["clientName"] for r in csv.DictReader(io.StringIO(exported.text))}
    assert names == {"'" + HOSTILE_NAME}  # a spreadsheet reads the formula as text


def test_a_number_in_an_opt_out_s_reason_is_masked_for_non_admins_on_the_page_and_in_the_api(
    client: TestClient, herald: Herald
) -> None:
    reason = "client called from 0712 345 678 asking to stop"
    optouts.add_number(
        "+254700000001", reason, Actor.ui("manager"), store=herald.store, clock=herald.clock, default_region="KE"
    )
    for role, full in ((Role.VIEWER, False), (Role.CAMPAIGN_MANAGER, False), (Role.ADMIN, True)):
        log_in(client, role)
        page = html.unescape(client.get("/optouts").text)
        api = client.get("/api/v1/optouts", headers={CSRF_HEADER: csrf_of(client)}).json()
        assert (NUMBER_IN_NAME in page) is full, (role, page)
        assert ("07******78" in page) is not full
        assert [(NUMBER_IN_NAME in r["detail"]) for r in api] == [full], (role, api)


@pytest.mark.parametrize(
    "path",
    ["/messages", "/messages/export.csv", "/api/v1/messages", "/api/v1/messages/export.csv", "/audit", "/api/v1/audit"],
)
def test_a_day_at_the_calendar_s_edge_is_an_open_end_not_a_500(client: TestClient, herald: Herald, path: str) -> None:
    two_campaigns(herald)
    log_in(client, Role.ADMIN)
    headers = {CSRF_HEADER: csrf_of(client)}
    everything = client.get(path, params={"status": "pending"} if "messages" in path else {}, headers=headers)
    assert everything.status_code == 200
    for days in ({"from": "0001-01-01"}, {"to": "9999-12-31"}, {"from": "0001-01-01", "to": "9999-12-31"}):
        params = days | ({"status": "pending"} if "messages" in path else {})
        answer = client.get(path, params=params, headers=headers)
        assert answer.status_code == 200, (days, answer.text[:300])
        if path.endswith(".csv"):
            assert answer.text == everything.text  # nothing herald stored is outside those days
        elif path.startswith("/api/"):
            assert answer.json()["total"] == everything.json()["total"]


def _new_routes(first: int, message_id: int) -> dict[str, list[str]]:
    return {
        "/messages": ["number", "code", "client", "campaign", "status", "from", "to", "page"],
        "/messages/export.csv": ["number", "code", "client", "campaign", "status", "from", "to"],
        f"/messages/{message_id}": ["x"],
        f"/campaigns/{first}/export.csv": ["tab", "q"],
        f"/campaigns/{first}/live": ["x"],
        f"/campaigns/{first}/resend": ["code", "choose"],
        f"/campaigns/{first}/activate": ["code", "choose"],
        "/offices": ["tenant"],
        "/offices/1/edit": ["tenant"],
        "/optouts": ["q"],
        "/audit": ["from", "to", "page", "action", "actor"],
        "/jobs": ["x"],
    }


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ADMIN])
def test_nasty_values_in_every_new_address_get_a_page_never_a_500(
    client: TestClient, herald: Herald, role: Role
) -> None:
    first, _ = two_campaigns(herald)
    with herald.store.connect() as conn:
        message_id = int(conn.execute(select(messages.c.id)).scalars().first() or 0)
    log_in(client, role)
    broken: list[str] = []
    for path, names in _new_routes(first, message_id).items():
        for name in names:
            for value in NASTY:
                answer = client.get(path, params={name: value})
                if answer.status_code >= 500 or "Traceback" in answer.text or "<script>alert" in answer.text:
                    broken.append(f"{answer.status_code} {path}?{name}={value[:30]!r}")
    for value in ("%ff%fe", "%00", "-1", "99999999999999999999", "1.5", "%2e%2e"):
        for path in ("/messages/{}", "/campaigns/{}/live", "/campaigns/{}/export.csv", "/offices/{}/edit"):
            answer = client.get(path.format(value))
            if answer.status_code >= 500 or "Traceback" in answer.text:
                broken.append(f"{answer.status_code} {path.format(value)}")
    assert not broken, "\n".join(broken)


def test_an_old_resend_confirmation_re_sends_nothing_after_the_copies_failed_the_same_way(
    client: TestClient, herald: Herald
) -> None:
    """The back button or a second tab re-posts a confirmed re-send after its copies failed again with the same
    code (an unreachable number does): same count, same segments, yet those are other messages, never confirmed."""
    campaign_id, _ = failed_campaign(herald, {"21211": 2})
    log_in(client, Role.CAMPAIGN_MANAGER)
    code = confirmation_of(client, f"/campaigns/{campaign_id}/resend?choose=1&code=21211")
    form = {"csrf_token": csrf_of(client), "confirmation": code, "code": "21211"}
    assert client.post(f"/campaigns/{campaign_id}/resend", data=form).status_code == 200
    with herald.store.begin() as conn:
        again = conn.execute(
            update(messages)
            .where(messages.c.campaign_id == campaign_id, messages.c.dedup_key.contains("#resend-"))
            .values(status=MessageStatus.FAILED, error_code="21211", error_text="failed with 21211")
        )
    assert again.rowcount == 2
    replayed = client.post(f"/campaigns/{campaign_id}/resend", data=form)
    assert replayed.status_code == 409 and 'data-testid="not-confirmed"' in replayed.text
    with herald.store.connect() as conn:
        queued = conn.execute(
            select(messages.c.id).where(
                messages.c.campaign_id == campaign_id,
                messages.c.status == MessageStatus.PENDING,
                messages.c.dedup_key.contains("#resend-"),
            )
        ).all()
    assert queued == []  # nothing queued by the old confirmation; a fresh one (shown again) would
    fresh = confirmation_of(client, f"/campaigns/{campaign_id}/resend?choose=1&code=21211")
    assert fresh != code


def test_a_form_of_too_many_fields_is_refused_with_a_page_not_a_500(client: TestClient, herald: Herald) -> None:
    campaign_id, _ = failed_campaign(herald, {"30005": 1})
    log_in(client, Role.CAMPAIGN_MANAGER)
    token = csrf_of(client)
    flood = {"csrf_token": token, "code": [str(i) for i in range(1500)], "number": "+254700000009", "reason": "r"}
    for path in (f"/campaigns/{campaign_id}/resend", "/optouts", "/optouts/search", f"/campaigns/{campaign_id}/close"):
        answer = client.post(path, data=flood)
        assert answer.status_code == 422, (path, answer.status_code)
        assert "Too many fields" in answer.text and "send it again from its page" in answer.text
    assert campaigns.get(campaign_id, store=herald.store).status is CampaignStatus.ACTIVE


def test_forged_codes_with_non_ascii_characters_are_refused_not_a_500(client: TestClient, herald: Herald) -> None:
    campaign_id, _ = failed_campaign(herald, {"30005": 1})
    log_in(client, Role.CAMPAIGN_MANAGER)
    forged = {"csrf_token": csrf_of(client), "confirmation": "é" * 32}
    answer = client.post(f"/campaigns/{campaign_id}/resend", data=forged)
    assert answer.status_code == 409 and 'data-testid="not-confirmed"' in answer.text
    client.cookies.clear()
    client.get("/login")  # its cookie holds the login form's token
    login = client.post("/login", data={"login_token": "é", "username": "admin", "password": "x"})
    assert login.status_code == 401 and "The login form had expired" in login.text
    assert not is_signed("auth-token", "https://herald.example/webhooks/twilio", [("a", "b")], "é=")


def test_a_time_zone_too_long_for_a_file_name_is_no_time_zone(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.ADMIN)
    token = csrf_of(client)
    long_zone = "Africa/" + "x" * 300
    office = client.post("/offices/1", data={"csrf_token": token, "region": "KE", "timezone": long_zone})
    assert office.status_code == 422 and "is not an IANA time zone" in office.text
    form = {
        "csrf_token": token,
        "campaignName": "Weekly",
        "triggerType": "schedule",
        "runReportId": "166",
        "param.officeId": "1",
        "param.loanOfficerId": "-1",
        "message": "Hi {{firstName}}",
        "providerId": "simulator",
        "recurrence": "FREQ=WEEKLY;BYDAY=MO",
        "recurrenceStartDate": "2026-11-23T08:00",
        "timezone": long_zone,
        "action": "save",
    }
    made = client.post("/campaigns/new", data=form)
    assert made.status_code == 422 and "Unknown time zone" in html.unescape(made.text)
    api = client.post(
        "/api/v1/campaigns",
        headers={CSRF_HEADER: token},
        json={
            "campaignName": "Weekly",
            "triggerType": "schedule",
            "runReportId": 166,
            "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
            "message": "Hi",
            "recurrence": "FREQ=DAILY",
            "recurrenceStartDate": "2026-11-21T08:00",
            "timezone": long_zone,
        },
    )
    assert api.status_code == 422, api.text
    assert campaigns.list_all(store=herald.store) == []


def test_an_office_id_past_bigint_in_the_campaign_form_is_an_error_at_its_field(client: TestClient) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    form = {
        "csrf_token": csrf_of(client),
        "campaignName": "Everyone",
        "triggerType": "direct",
        "runReportId": "166",
        "param.officeId": "9" * 23,
        "param.loanOfficerId": "-1",
        "message": "Hi {{firstName}}",
        "providerId": "simulator",
        "action": "save",
    }
    answer = client.post("/campaigns/new", data=form)
    assert answer.status_code == 422, answer.status_code
    assert "must be a whole number (at most 19 digits)" in html.unescape(answer.text)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CAMPAIGN_MANAGER])
def test_the_masked_number_in_a_reason_cannot_be_spelled_out_by_searching_the_reasons(
    client: TestClient, herald: Herald, role: Role
) -> None:
    reason = "client called from 0712 345 678 asking to stop"
    optouts.add_number(
        "+254700000001", reason, Actor.ui("manager"), store=herald.store, clock=herald.clock, default_region="KE"
    )
    log_in(client, role)
    token = csrf_of(client, "/optouts")
    for guess in ("from 07", "from 0712 3", "from 0712 345 678 asking"):  # each a yes/no, digit by digit
        answer = client.post("/optouts/search", data={"csrf_token": token, "q": guess})
        assert answer.status_code == 403, (guess, answer.status_code)
        assert "Only admins can search the reasons for digits" in html.unescape(answer.text)
        assert "1 match" not in answer.text
    words = client.post("/optouts/search", data={"csrf_token": token, "q": "asking to stop"})
    assert words.status_code == 200 and "1 match for source or reason" in words.text
    log_in(client, Role.ADMIN)
    admin = client.post("/optouts/search", data={"csrf_token": csrf_of(client, "/optouts"), "q": "from 0712 3"})
    assert admin.status_code == 200 and "1 match" in admin.text


def test_a_number_in_a_client_s_name_cannot_be_spelled_out_by_a_name_search(hostile: tuple[Herald, int]) -> None:
    h, client_id = hostile
    with _client_of(h) as client:
        log_in(client, Role.VIEWER)
        for path in ("/messages", "/messages/export.csv"):
            for guess in ('calc\'!A0 <script>alert(1)</script> "{{7*7}}" 07', '" 0712 3'):
                answer = client.get(path, params={"client": guess})
                assert answer.status_code == 403, (path, guess, answer.status_code)
                assert "Only admins can search client names for digits" in html.unescape(answer.text)
        by_letters = client.get("/messages", params={"client": "calc'!A"})
        assert by_letters.status_code == 200 and f"#{client_id}" in by_letters.text
        log_in(client, Role.ADMIN)
        assert f"#{client_id}" in client.get("/messages", params={"client": '" 0712 3'}).text


@pytest.mark.parametrize("key", ["password", "PASSWORD", "passwd", "sslpassword"])
def test_a_password_in_a_database_url_s_query_is_never_shown(key: str) -> None:
    """Pages (a core bank's failure, on the Jobs page, to anyone logged in) and `herald serve`'s first lines name
    the databases; a driver takes the password in the query too, which SQLAlchemy's hide_password leaves."""
    url = f"postgresql+psycopg://fineract:pw-in-netloc@db.example:5432/fineract?{key}=s3cret&sslmode=require"
    for shown in (Source.of(url).url, shown_url(url)):
        assert "s3cret" not in shown and "pw-in-netloc" not in shown, shown
        assert shown.startswith("postgresql+psycopg://fineract:***@db.example:5432/fineract") and "sslmode" in shown
