"""The opt-out page over plain HTTP: who may read, search, add and take off numbers, what each role sees of a
number, the reasons kept in the audit log as done via the UI, and readable refusals that change nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from herald.app import Herald
from herald.services import optouts
from herald.services.audit import Actor
from herald.services.auth import Role
from herald.store.tables import audit_log
from tests.web.conftest import csrf_of, log_in
from tests.web.test_access import assert_readable_refusal

NUMBER = "+254712345678"
MASKED = "+2547******78"
LOCAL = "0712 345 678"  # the same number as a Kenyan officer types it


def on_list(herald: Herald) -> list[str]:
    return [r.number for r in optouts.recent(100, store=herald.store)]


def optout_audit(herald: Herald) -> list[tuple[str, str | None, str, str | None, object]]:
    with herald.store.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.action.like("optout.%")).order_by(audit_log.c.id))
        return [(r.action, r.actor, r.via, r.target, r.detail) for r in rows]


def put_on_list(herald: Herald, number: str = NUMBER, reason: str = "asked at the branch") -> None:
    optouts.add_number(number, reason, Actor.cli(), store=herald.store, clock=herald.clock, default_region="KE")


def test_a_manager_adds_a_local_number_with_a_reason_and_sees_it_masked(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    assert 'href="/optouts"' in client.get("/campaigns").text
    csrf = csrf_of(client, "/optouts")
    answer = client.post("/optouts", data={"csrf_token": csrf, "number": LOCAL, "reason": "client called the branch"})
    assert answer.status_code == 303 and answer.headers["location"] == "/optouts?notice=optout-added"
    page = client.get(answer.headers["location"]).text
    assert "Number put on the opt-out list" in page
    assert MASKED in page and NUMBER not in page and "client called the branch" in page
    assert on_list(herald) == [NUMBER]
    assert optout_audit(herald) == [
        ("optout.add", "manager", "ui", MASKED, {"reason": "client called the branch", "new": True})
    ]
    again = client.post("/optouts", data={"csrf_token": csrf, "number": NUMBER, "reason": "twice"})
    assert "was already on the opt-out list" in client.get(again.headers["location"]).text


def test_an_admin_sees_numbers_in_full_and_takes_one_off_with_a_reason(client: TestClient, herald: Herald) -> None:
    put_on_list(herald)
    log_in(client, Role.ADMIN)
    assert NUMBER in client.get("/optouts").text
    csrf = csrf_of(client, "/optouts")
    answer = client.post("/optouts/remove", data={"csrf_token": csrf, "number": LOCAL, "reason": "wants reminders"})
    assert answer.status_code == 303
    assert "taken off the opt-out list" in client.get(answer.headers["location"]).text
    assert on_list(herald) == []
    assert optout_audit(herald)[-1] == ("optout.remove", "admin", "ui", MASKED, {"reason": "wants reminders"})


def test_taking_off_a_number_that_is_not_on_the_list_says_so(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    csrf = csrf_of(client, "/optouts")
    answer = client.post("/optouts/remove", data={"csrf_token": csrf, "number": NUMBER, "reason": "asked"})
    assert_readable_refusal(answer, 404, f"{MASKED} is not on the opt-out list; nothing changed.")
    assert NUMBER not in answer.text


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"number": NUMBER, "reason": ""}, "Say why you put it on the list"),
        ({"number": "not a number", "reason": "x"}, "give the number as +&lt;country&gt;&lt;number&gt;"),
        ({"number": "", "reason": "x"}, "give the number as"),
    ],
)
def test_a_change_without_a_reason_or_a_readable_number_is_refused_readably(
    client: TestClient, herald: Herald, form: dict[str, str], words: str
) -> None:
    log_in(client, Role.CAMPAIGN_MANAGER)
    answer = client.post("/optouts", data={"csrf_token": csrf_of(client, "/optouts"), **form})
    assert_readable_refusal(answer, 422, words)
    removal = client.post("/optouts/remove", data={"csrf_token": csrf_of(client, "/optouts"), "number": NUMBER})
    assert_readable_refusal(removal, 422, "Say why you take it off the list")
    assert on_list(herald) == [] and optout_audit(herald) == []


def test_a_viewer_reads_the_masked_list_but_cannot_change_it(client: TestClient, herald: Herald) -> None:
    put_on_list(herald)
    log_in(client, Role.VIEWER)
    page = client.get("/optouts")
    assert page.status_code == 200 and MASKED in page.text and NUMBER not in page.text
    assert 'action="/optouts/remove"' not in page.text and 'id="optout-add"' not in page.text
    assert "ask one if a client" in page.text
    csrf = csrf_of(client, "/optouts")
    added = client.post("/optouts", data={"csrf_token": csrf, "number": "+254700000001", "reason": "forged"})
    assert_readable_refusal(added, 403, "needs the campaign manager role")
    removed = client.post("/optouts/remove", data={"csrf_token": csrf, "number": NUMBER, "reason": "forged"})
    assert_readable_refusal(removed, 403, "needs the campaign manager role")
    assert on_list(herald) == [NUMBER]


@pytest.mark.parametrize("token", (None, "wrong-token"))
def test_a_post_without_the_sessions_csrf_token_changes_nothing(
    client: TestClient, herald: Herald, token: str | None
) -> None:
    put_on_list(herald)
    log_in(client, Role.ADMIN)
    extra = {} if token is None else {"csrf_token": token}
    answer = client.post("/optouts/remove", data={**extra, "number": NUMBER, "reason": "x"})
    assert_readable_refusal(answer, 403, "CSRF token is missing or wrong")
    answer = client.post("/optouts", data={**extra, "number": "+254700000001", "reason": "x"})
    assert_readable_refusal(answer, 403, "CSRF token is missing or wrong")
    assert on_list(herald) == [NUMBER]


def test_without_a_login_the_page_and_its_forms_go_to_the_login(client: TestClient, herald: Herald) -> None:
    assert client.get("/optouts").headers["location"].startswith("/login?next=")
    answer = client.post("/optouts", data={"csrf_token": "guess", "number": NUMBER, "reason": "x"})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert on_list(herald) == []


def test_a_manager_looks_a_whole_number_up_but_not_part_of_one(client: TestClient, herald: Herald) -> None:
    put_on_list(herald)
    put_on_list(herald, "+254799999911", "complained about the hour")
    log_in(client, Role.CAMPAIGN_MANAGER)
    csrf = csrf_of(client, "/optouts")
    whole = client.post("/optouts/search", data={"csrf_token": csrf, "q": LOCAL}).text
    assert "1 match for the number +2547******78" in whole and MASKED in whole and "+2547******11" not in whole
    part = client.post("/optouts/search", data={"csrf_token": csrf, "q": "2547123"})
    assert_readable_refusal(part, 422, "only admins can search by part of a number")
    words = client.post("/optouts/search", data={"csrf_token": csrf, "q": "HOUR"}).text
    assert "1 match for source or reason" in words and "+2547******11" in words and MASKED not in words


def test_a_viewer_searches_by_words_but_cannot_test_numbers_against_the_list(
    client: TestClient, herald: Herald
) -> None:
    put_on_list(herald, reason="complained about the hour")
    log_in(client, Role.VIEWER)
    csrf = csrf_of(client, "/optouts")
    assert "words of the source or reason" in client.get("/optouts").text
    for guess in (NUMBER, "2547123"):
        refused = client.post("/optouts/search", data={"csrf_token": csrf, "q": guess})
        assert_readable_refusal(refused, 403, "Only campaign managers and admins can look a number up")
        assert "match" not in refused.text
    words = client.post("/optouts/search", data={"csrf_token": csrf, "q": "hour"}).text
    assert "1 match for source or reason" in words and MASKED in words and NUMBER not in words


def test_an_admin_searches_by_part_of_a_number(client: TestClient, herald: Herald) -> None:
    put_on_list(herald)
    put_on_list(herald, "+254799999911")
    log_in(client, Role.ADMIN)
    found = client.post("/optouts/search", data={"csrf_token": csrf_of(client, "/optouts"), "q": "71234"}).text
    assert "1 match for numbers containing 71234" in found and NUMBER in found and "+254799999911" not in found


def test_the_search_keeps_numbers_out_of_the_address(client: TestClient, herald: Herald) -> None:
    log_in(client, Role.ADMIN)
    page = client.get("/optouts").text
    assert 'method="post" action="/optouts/search"' in page
    assert client.get("/optouts/search?q=0712345678").status_code == 405
