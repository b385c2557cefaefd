"""Nothing missed while herald was down: the catch-up job over a real core bank whose hooks were lost, end to end.

herald is served over real HTTP (uvicorn on 127.0.0.1) with a counting Twilio of its own (a
separate process) as its provider; the core bank is a real SQLite or PostgreSQL database written
with the Fineract builder. Events are written with no hook, the job runs through the REST API,
and what each client got is counted at the provider. Then the hooks arrive, late and twice.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.domain.message import MessageStatus
from herald.services import auth
from herald.services.auth import Role
from herald.store.tables import campaigns as campaigns_table
from herald.store.tables import catchup_marks, messages
from tests.fineract_builder import FineractBuilder
from tests.postgres import create_database
from tests.torture.harness import CountingProvider
from tests.web.browser import serving
from tests.web.served import logged_in

SECRET = "catch-up-hook-secret"
PASSWORD = "correct horse battery staple"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 12:00 in Nairobi
TODAY = date(2026, 11, 20)
_databases = iter(range(10**6))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def bank(request: pytest.FixtureRequest, tmp_path: Path) -> FineractBuilder:
    """A real core bank: an SQLite file, or a PostgreSQL database of the session's cluster."""
    if request.param == "sqlite":
        return FineractBuilder(f"sqlite:///{tmp_path / 'fineract.sqlite'}")
    return FineractBuilder(create_database(request.getfixturevalue("pg_server"), f"catchup{next(_databases)}"))


@dataclass
class World:
    """A served herald, its clock, its core bank and the provider that counts what reached it."""

    herald: Herald
    url: str
    clock: ManualClock
    bank: FineractBuilder
    twilio: CountingProvider
    token: str
    tmp: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.request(method, f"{self.url}/api/v1{path}", json=body, headers=self.headers, timeout=60)

    def campaign(self, rule: int, message: str, *, activate: bool = True, **fields: Any) -> int:
        params = {"officeId": 1} | ({"loanOfficerId": -1} if rule in (182, 183, 184, 185) else {})
        body = {
            "campaignName": f"rule {rule} {message[:20]}",
            "triggerType": 3,
            "runReportId": rule,
            "paramValue": params,
            "message": message,
            "providerId": "twilio",
        } | fields
        made = self.api("POST", "/campaigns", body)
        assert made.status_code == 201, made.text
        if activate:
            self.lifecycle(made.json()["id"], "activate")
        return int(made.json()["id"])

    def lifecycle(self, campaign_id: int, action: str) -> None:
        done = self.api("POST", f"/campaigns/{campaign_id}/{action}", {"confirm": True})
        assert done.status_code == 200, done.text

    def catch_up(self) -> dict[str, int]:
        ran = self.api("POST", "/jobs/catch-up/run")
        assert ran.status_code == 200, ran.text
        assert ran.json()["error"] is None, ran.json()
        counts: dict[str, int] = ran.json()["counts"]
        return counts

    def hook(self, entity: str, action: str, response: dict[str, int], at: datetime) -> dict[str, Any]:
        body = {
            "entityName": entity,
            "actionName": action,
            "createdBy": 7,
            "request": {"locale": "en"},
            "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "officeId": 1,
            "clientId": response.get("clientId"),
            "response": response,
        }
        headers = {"X-Fineract-Entity": entity, "X-Fineract-Action": action, "Fineract-Platform-TenantId": "default"}
        answer = httpx.post(f"{self.url}/fineract/hooks/{SECRET}/", json=body, headers=headers, timeout=60)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def delivered(self) -> list[tuple[str, str]]:
        """(to, body) of every message the provider accepted, in order."""
        return [(m["to"], m["body"]) for m in self.twilio.accepted()]

    def stored(self, campaign_id: int) -> list[tuple[int, str | None]]:
        with self.herald.store.connect() as conn:
            query = select(messages.c.status, messages.c.reason).where(messages.c.campaign_id == campaign_id)
            return [(r.status, r.reason) for r in conn.execute(query.order_by(messages.c.id))]


@pytest.fixture
def world(tmp_path: Path, bank: FineractBuilder) -> Iterator[World]:
    twilio = CountingProvider("twilio", tmp_path)
    clock = ManualClock(NOW)
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'herald.sqlite'}",
        corebank_url=bank.url,
        timezone="Africa/Nairobi",
        fineract_hook_secret=SECRET,
        providers=json.dumps([twilio.config()]),
        catchup_batch=3,  # several batches out of a handful of events
    )
    herald = Herald.build(settings, clock)
    auth.create_user("officer", Role.CAMPAIGN_MANAGER, PASSWORD, store=herald.store, clock=clock)
    token = auth.issue_token("officer", "catch-up tests", store=herald.store, clock=clock).token
    try:
        with serving(herald) as url:
            yield World(herald, url, clock, bank, twilio, token, tmp_path)
    finally:
        herald.close()
        twilio.stop()
        bank.engine.dispose()


def _events(w: World) -> list[tuple[int, str, str, dict[str, int], str]]:
    """One event per triggered rule, written to the core bank as Fineract commits it, with no hook:
    (rule, entity, action, the hook's response, the text the client should get)."""
    b, made = w.bank, []
    an_hour_ago = (NOW - timedelta(hours=1)).replace(tzinfo=None)
    for n, rule in enumerate((179, 180, 181, 182, 183, 184, 185, 186, 187)):
        mobile = f"+2547120000{n:02d}"
        if rule == 179:
            client = b.client(f"Repaid{n}", mobile)
            loan = b.loan(client)
            txn = b.repayment(loan, TODAY, "2500", created=an_hour_ago)
            made.append((rule, "LOAN", "REPAYMENT", {"clientId": client, "loanId": loan, "resourceId": txn}, "r179"))
        elif rule in (180, 181):
            client = b.client(f"Decided{n}", mobile)
            column = "approvedon_date" if rule == 180 else "rejectedon_date"
            loan = b.loan(client, status=200 if rule == 180 else 500, **{column: TODAY})
            action = "APPROVE" if rule == 180 else "REJECT"
            made.append((rule, "LOAN", action, {"clientId": client, "loanId": loan, "resourceId": loan}, f"r{rule}"))
        elif rule in (182, 183):
            column = "rejectedon_date" if rule == 182 else "activation_date"
            client = b.client(f"Client{n}", mobile, status=700 if rule == 182 else 300, **{column: TODAY})
            action = "REJECT" if rule == 182 else "ACTIVATE"
            made.append((rule, "CLIENT", action, {"clientId": client, "resourceId": client}, f"r{rule}"))
        elif rule in (184, 185):
            client = b.client(f"Saver{n}", mobile)
            column = "rejectedon_date" if rule == 184 else "activatedon_date"
            savings = b.savings(client, **{column: TODAY})
            action = "REJECT" if rule == 184 else "ACTIVATE"
            response = {"clientId": client, "savingsId": savings, "resourceId": savings}
            made.append((rule, "SAVINGSACCOUNT", action, response, f"r{rule}"))
        else:
            client = b.client(f"Saver{n}", mobile)
            savings = b.savings(client)
            kind, action = (1, "DEPOSIT") if rule == 186 else (2, "WITHDRAWAL")
            txn = b.savings_transaction(savings, kind, "700", TODAY, "5700", created=an_hour_ago)
            response = {"clientId": client, "savingsId": savings, "resourceId": txn}
            made.append((rule, "SAVINGSACCOUNT", action, response, f"r{rule}"))
    return made


def test_events_whose_hooks_were_lost_are_caught_up_once_and_late_hooks_change_nothing(world: World) -> None:
    w = world
    for rule in (179, 180, 181, 182, 183, 184, 185, 186, 187):
        w.campaign(
            rule,
            f"r{rule}: Dear {{{{firstname}}}}"
            if rule not in (182, 183, 184, 185)
            else f"r{rule}: Dear {{{{firstName}}}}",
        )
    events = _events(w)  # herald was down: no hook reached it

    first = w.catch_up()
    assert (first["events"], first["created"], first["too_late"]) == (9, 9, 0)
    assert w.twilio.stats()["accepted"] == 9
    got = w.delivered()
    assert sorted(body.split(":")[0] for _, body in got) == sorted(text for *_, text in events)
    assert len({to for to, _ in got}) == 9, "each client once"

    w.clock.advance(seconds=600)
    for rule, entity, action, response, _ in events:  # Fineract's hooks arrive at last, and twice
        for _ in range(2):
            assert w.hook(entity, action, response, NOW)["created"] == 0, (rule, action)
    again = w.catch_up()  # today's status changes are read again, and skipped: their messages exist
    assert (again["created"], again["events"]) == (0, 0)
    with w.herald.store.connect() as conn:  # no rule ran again for them: each mark counts its event once
        assert conn.execute(select(func.sum(catchup_marks.c.events))).scalar_one() == 9
    assert w.twilio.stats()["accepted"] == 9


def test_a_long_outage_is_caught_up_in_batches_each_message_once(world: World) -> None:
    w = world
    w.campaign(179, "Asante {{firstname}}, {{repaymentAmount}} received")
    w.campaign(183, "Karibu {{firstName}}")
    clients = [w.bank.client(f"C{n}", f"+2547130000{n:02d}", activation_date=TODAY) for n in range(7)]
    loans = [w.bank.loan(c) for c in clients]
    for n, loan in enumerate(loans):
        w.bank.repayment(loan, TODAY, str(1000 + n), created=(NOW - timedelta(minutes=30)).replace(tzinfo=None))
    runs = [w.catch_up() for _ in range(4)]  # batches of 3: 3 + 3 + 1, then nothing
    assert [r["created"] for r in runs] == [6, 6, 2, 0]
    assert [r["behind"] for r in runs] == [2, 2, 0, 0]
    bodies = [body for _, body in w.delivered()]
    assert len(bodies) == 14 == len(set(bodies))


def test_events_older_than_the_campaigns_limit_are_refused_with_the_reason_and_never_sent(world: World) -> None:
    w = world
    cid = w.campaign(179, "Asante {{firstname}}", tooLateAfter="24h")
    assert w.api("GET", f"/campaigns/{cid}").json()["tooLateAfter"] == "24h"
    client = w.bank.client("Late", "+254712999001")
    loan = w.bank.loan(client)
    three_days_ago = NOW - timedelta(days=3)
    old = w.bank.repayment(loan, TODAY - timedelta(days=3), "900", created=three_days_ago.replace(tzinfo=None))
    fresh = w.bank.repayment(loan, TODAY, "800", created=(NOW - timedelta(hours=2)).replace(tzinfo=None))

    counts = w.catch_up()
    assert (counts["created"], counts["too_late"]) == (2, 1)
    late, sent = w.stored(cid)
    assert late == (
        MessageStatus.INVALID,
        "Too late: the repayment was made 3 days ago (17 Nov 2026 12:00 EAT); this campaign sends nothing older"
        " than 24 hours",
    )
    assert sent[0] != MessageStatus.INVALID
    assert [body for _, body in w.delivered()] == ["Asante Late"]  # the fresh one only

    response = {"clientId": client, "loanId": loan, "resourceId": old}
    assert w.hook("LOAN", "REPAYMENT", response, three_days_ago)["created"] == 0  # its late hook: nothing
    # A hook of an old event nothing has seen yet: stored Invalid at once, never sent.
    older = w.bank.repayment(
        loan, TODAY - timedelta(days=2), "700", created=(NOW - timedelta(days=2)).replace(tzinfo=None)
    )
    answer = w.hook(
        "LOAN", "REPAYMENT", {"clientId": client, "loanId": loan, "resourceId": older}, NOW - timedelta(days=2)
    )
    assert (answer["created"], answer["too_late"]) == (1, 1)
    assert w.twilio.stats()["accepted"] == 1
    assert w.api("GET", f"/campaigns/{cid}").json()["counts"]["invalid"] == 2
    stats = w.api("GET", f"/stats?campaignId={cid}").json()
    assert stats["totals"]["invalid"] == 2, stats

    # The campaign page counts them and shows the mark.
    session, _ = logged_in(w.url, "officer", PASSWORD)
    page = session.get(f"/campaigns/{cid}").text
    assert 'data-testid="too-late">2 messages refused' in page
    assert "24 hours" in page and 'data-testid="catchup-counts">2, making 2 messages, of which 1 too late' in page
    assert f"event id {fresh:,}" in page
    jobs = session.get("/jobs").text  # the jobs page lists the job, with what its last run did
    assert 'id="catch-up"' in jobs and "Catch up missed Fineract events" in jobs and "too late: <strong>1" in jobs


def test_activation_messages_no_history_and_reactivation_after_a_closed_month_does_not_flood(world: World) -> None:
    w = world
    client = w.bank.client("Old", "+254712888001", activation_date=TODAY - timedelta(days=1))
    loan = w.bank.loan(client)
    for n in range(4):  # repayments made before the campaign existed
        w.bank.repayment(loan, TODAY, f"{100 + n}", created=(NOW - timedelta(hours=3)).replace(tzinfo=None))
    repaid = w.campaign(179, "Asante {{firstname}} {{repaymentAmount}}")
    welcome = w.campaign(183, "Karibu {{firstName}}")
    assert w.catch_up()["created"] == 0  # the mark is "now": the four repayments and yesterday's activation are history

    w.lifecycle(repaid, "close")
    w.lifecycle(welcome, "close")
    w.clock.advance(days=30)
    month_later = (NOW + timedelta(days=30)).replace(tzinfo=None)
    for n in range(5):  # a month of repayments while it was closed
        w.bank.repayment(loan, TODAY + timedelta(days=n), f"{200 + n}", created=month_later - timedelta(days=n + 1))
    w.bank.client("Closed", "+254712888002", activation_date=TODAY + timedelta(days=10))
    w.lifecycle(repaid, "reactivate")
    w.lifecycle(welcome, "reactivate")
    assert w.catch_up()["created"] == 0, "reactivation floods nobody"
    assert w.twilio.stats()["accepted"] == 0

    w.clock.advance(seconds=60)
    w.bank.repayment(loan, TODAY + timedelta(days=30), "999", created=month_later)  # after the reactivation
    assert w.catch_up()["created"] == 0, "a minute old: its hook may still come"
    w.clock.advance(seconds=120)
    assert w.catch_up()["created"] == 1
    assert [body for _, body in w.delivered()] == ["Asante Old KES 999.00"]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("-3h", "cannot be negative"),
        ("0", "at least 1 minute"),
        (-60, "cannot be negative"),
        ("400d", "at most 90 days"),
        ("tomorrow", "is not a duration"),
    ],
)
def test_a_bad_too_late_after_is_refused_everywhere_and_nothing_is_stored(world: World, value: Any, says: str) -> None:
    w = world
    body = {"campaignName": "Bad", "triggerType": 3, "runReportId": 179, "paramValue": {"officeId": 1},
            "message": "Hi {{firstname}}", "providerId": "twilio", "tooLateAfter": value}  # fmt: skip
    refused = w.api("POST", "/campaigns", body)
    assert refused.status_code == 422, refused.text
    assert says in refused.text and "tooLateAfter" in refused.text

    session, csrf = logged_in(w.url, "officer", PASSWORD)
    form = {"csrf_token": csrf, "campaignName": "Bad form", "triggerType": "triggered", "runReportId": "179",
            "param.officeId": "1", "message": "Hi {{firstname}}", "providerId": "twilio", "tooLateAfter": str(value),
            "action": "save"}  # fmt: skip
    page = session.post("/campaigns/new", data=form)
    assert page.status_code in (200, 400, 422) and says in page.text, page.text[-2000:]

    cli = subprocess.run(
        [sys.executable, "-m", "herald", "campaigns", "create", "--name", "Bad cli", "--rule", "179",
         "--trigger", "triggered", "-p", "officeId=1", "--message", "Hi", f"--too-late-after={value}"],
        env={"HERALD_HOME": str(w.tmp), "HERALD_DATABASE_URL": w.herald.settings.database_url,
             "HERALD_COREBANK_URL": w.bank.url, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert cli.returncode != 0 and says in cli.stdout + cli.stderr and "Traceback" not in cli.stderr, cli.stderr
    with w.herald.store.connect() as conn:
        assert conn.execute(select(campaigns_table.c.name)).all() == []


def test_only_triggered_campaigns_take_a_too_late_after(world: World) -> None:
    body = {"campaignName": "Direct", "triggerType": 1, "runReportId": 166, "paramValue": {"officeId": 1},
            "message": "Hi", "providerId": "twilio", "tooLateAfter": "2h"}  # fmt: skip
    refused = world.api("POST", "/campaigns", body)
    assert refused.status_code == 422 and "Only Triggered campaigns" in refused.text


def test_the_cli_sets_shows_and_edits_too_late_after(world: World) -> None:
    w = world
    env = {"HERALD_HOME": str(w.tmp), "HERALD_DATABASE_URL": w.herald.settings.database_url,
           "HERALD_COREBANK_URL": w.bank.url, "PATH": "/usr/bin:/bin", "COLUMNS": "200"}  # fmt: skip

    def herald(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "herald", *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    herald("campaigns", "create", "--name", "Receipts", "--rule", "179", "--trigger", "triggered", "-p", "officeId=1",
           "--message", "Asante {{firstname}}", "--too-late-after", "36h")  # fmt: skip
    assert "36 hours" in herald("campaigns", "show", "Receipts")
    herald("campaigns", "edit", "Receipts", "--too-late-after", "2d")
    assert "2 days" in herald("campaigns", "show", "Receipts")
    assert w.api("GET", "/campaigns").json()[0]["tooLateAfter"] == "2d"


def test_herald_rules_disbursed_closed_and_created_are_caught_up_once_when_their_hooks_were_lost(world: World) -> None:
    w = world
    disbursed = w.campaign(1003, "Disbursed {{firstname}}")
    closed = w.campaign(1004, "Closed {{firstname}}")
    created = w.campaign(1005, "Karibu {{firstName}}", paramValue={"officeId": 1, "loanOfficerId": -1})
    borrower = w.bank.client("Baraka", "+254712400001")
    new_loan = w.bank.loan(borrower, disbursedon_date=TODAY)
    repaid = w.bank.loan(w.bank.client("Chebet", "+254712400002"), status=600, closedon_date=TODAY)
    newcomer = w.bank.client("Dalia", "+254712400003", submittedon_date=TODAY)

    counts = w.catch_up()
    assert counts["created"] == 3
    assert sorted(body for _, body in w.delivered()) == ["Closed Chebet", "Disbursed Baraka", "Karibu Dalia"]
    for entity, action, response in (
        ("LOAN", "DISBURSE", {"clientId": borrower, "loanId": new_loan, "resourceId": new_loan}),
        ("LOAN", "CLOSE", {"loanId": repaid, "resourceId": repaid}),
        ("CLIENT", "CREATE", {"clientId": newcomer, "resourceId": newcomer}),
    ):
        assert w.hook(entity, action, response, NOW)["created"] == 0  # the late hook adds nothing
    assert w.catch_up()["created"] == 0
    assert w.twilio.stats()["accepted"] == 3
    assert all(len(w.stored(c)) == 1 for c in (disbursed, closed))
    assert len(w.stored(created)) == 1


def test_a_repayment_committed_after_a_higher_id_is_not_missed(world: World) -> None:
    """Two tellers at once: Fineract gives ids in order but commits them in any order. The job does not read
    a transaction written moments ago, so the one below it, committed a second later, is read with it."""
    w = world
    w.campaign(179, "Asante {{firstname}}, {{repaymentAmount}}")
    first_teller = w.bank.client("Esther", "+254712500001")
    second_teller = w.bank.client("Faith", "+254712500002")
    higher = w.bank.repayment(
        w.bank.loan(second_teller), TODAY, "2000", created=(NOW - timedelta(seconds=5)).replace(tzinfo=None)
    )
    with w.herald.store.connect() as conn:
        mark = conn.execute(select(catchup_marks.c.last_id)).scalar_one()
    assert w.catch_up()["created"] == 0  # Faith's, committed first: its hook has time to come
    w.bank.repayment(  # Esther's: its id is below Faith's, its commit came after the run above
        w.bank.loan(first_teller), TODAY, "1000", created=(NOW - timedelta(seconds=6)).replace(tzinfo=None),
        txn_id=higher - 1,
    )  # fmt: skip
    w.clock.advance(seconds=1)
    assert w.catch_up()["created"] == 0
    with w.herald.store.connect() as conn:
        assert conn.execute(select(catchup_marks.c.last_id)).scalar_one() == mark, "the mark passed a fresh row"
    w.clock.advance(seconds=300)  # long settled, no hook came: both are caught up, and nothing is read twice
    assert w.catch_up()["created"] == 2
    assert w.catch_up()["created"] == 0
    assert sorted(body for _, body in w.delivered()) == ["Asante Esther, KES 1,000.00", "Asante Faith, KES 2,000.00"]


def test_a_burst_is_left_to_its_hooks_until_it_settles_then_caught_up_past_those_they_messaged(world: World) -> None:
    """Seven repayments in the last seconds, the first three messaged by their hooks: the job reads none of
    them yet (the four hooks may still come); once settled it skips the three and sends the four, in
    batches of 3, with its mark past all seven."""
    w = world
    w.campaign(179, "Asante {{firstname}}, {{repaymentAmount}}")
    moments_ago = (NOW - timedelta(seconds=10)).replace(tzinfo=None)
    burst = []
    for n in range(7):
        client = w.bank.client(f"Burst{n}", f"+2547140000{n:02d}")
        loan = w.bank.loan(client)
        burst.append((client, loan, w.bank.repayment(loan, TODAY, str(1000 + n), created=moments_ago)))
    for client, loan, txn in burst[:3]:
        response = {"clientId": client, "loanId": loan, "resourceId": txn}
        assert w.hook("LOAN", "REPAYMENT", response, NOW)["created"] == 1
    with w.herald.store.connect() as conn:
        mark = conn.execute(select(catchup_marks.c.last_id)).scalar_one()
    fresh = w.catch_up()
    assert (fresh["created"], fresh["skipped"], fresh["behind"]) == (0, 0, 0)
    with w.herald.store.connect() as conn:
        assert conn.execute(select(catchup_marks.c.last_id)).scalar_one() == mark, "passed rows not yet settled"
    w.clock.advance(seconds=300)
    first = w.catch_up()
    assert (first["created"], first["skipped"], first["behind"]) == (3, 3, 1)
    assert w.catch_up()["created"] == 1
    assert w.catch_up()["created"] == 0
    with w.herald.store.connect() as conn:
        assert conn.execute(select(catchup_marks.c.last_id)).scalar_one() == burst[-1][2]
    bodies = [body for _, body in w.delivered()]
    assert len(bodies) == 7 == len(set(bodies))


def test_hooks_for_what_the_job_already_messaged_send_nothing_and_never_ask_the_core_bank(world: World) -> None:
    """The job caught up four lost repayments; their hooks come at last, twice each, in a burst. Each event's
    dedup key follows from its ids, so herald answers from its own database: no rule query reaches the core
    bank, which is what keeps the job and the external-event consumer from doing each other's work twice."""
    w = world
    w.campaign(179, "Asante {{firstname}}, {{repaymentAmount}}")
    hooks = []
    for n in range(4):
        client = w.bank.client(f"Late{n}", f"+2547150000{n:02d}")
        loan = w.bank.loan(client)
        txn = w.bank.repayment(loan, TODAY, str(3000 + n), created=(NOW - timedelta(hours=1)).replace(tzinfo=None))
        hooks.append({"clientId": client, "loanId": loan, "resourceId": txn})
    assert [w.catch_up()["created"] for _ in range(2)] == [3, 1]  # batches of 3
    asked: list[str] = []
    engine = w.herald.corebanks.engine("default")

    def noted(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        asked.append(statement)

    event.listen(engine, "before_cursor_execute", noted)
    try:
        for response in hooks * 2:
            answer = w.hook("LOAN", "REPAYMENT", response, NOW)
            assert (answer["created"], answer["duplicates"]) == (0, 1), answer
    finally:
        event.remove(engine, "before_cursor_execute", noted)
    assert not [s for s in asked if "m_loan_transaction" in s], "a rule's query ran for an event already messaged"
    assert w.twilio.stats()["accepted"] == 4


def test_a_transaction_stamped_far_in_the_future_does_not_hold_the_job_behind_it(world: World) -> None:
    """A created_on_utc of 2099 (a wrong clock, a bad import) is no fresh row whose hook may still come: the
    job reads it and the repayment after it, instead of waiting behind it for ever."""
    w = world
    w.campaign(179, "Asante {{firstname}}, {{repaymentAmount}}")
    for name, amount, created in (("Wrong", "1100", datetime(2099, 1, 1)), ("Right", "1200", NOW - timedelta(hours=1))):
        loan = w.bank.loan(w.bank.client(name, f"+25471600{amount}"))
        w.bank.repayment(loan, TODAY, amount, created=created.replace(tzinfo=None))
    assert w.catch_up()["created"] == 2
    assert sorted(body for _, body in w.delivered()) == ["Asante Right, KES 1,200.00", "Asante Wrong, KES 1,100.00"]
