"""No request stalls the server: /healthz and a provider webhook answer fast while logins and a big preview run.

`herald serve` runs as a subprocess (real uvicorn, production argon2 parameters) on a
10,000-client demo core bank; the test plays four officers logging in over and over and one
typing a campaign over everybody, and times the requests a provider and a load balancer make.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from herald.app import Herald
from herald.config import Settings
from herald.corebank.demo import create_demo_database
from herald.fakes.infobip_wire import error_object, status_object, timestamp
from herald.services import auth
from herald.services.auth import Role
from tests.web.conftest import PASSWORD, TODAY, USERNAMES
from tests.web.served import INFOBIP_SECRET, Served, herald_serve, logged_in

pytestmark = pytest.mark.xdist_group("served")  # CPU-heavy: one at a time
CLIENTS = 10_000
FAST = 0.050  # seconds


@pytest.fixture(scope="module")
def big_corebank(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('corebank-10k') / 'fineract.sqlite'}"
    create_demo_database(url, clients=CLIENTS, seed=1, today=TODAY)
    return url


@pytest.fixture
def served(tmp_path: Path, herald_template: Path, big_corebank: str) -> Iterator[Served]:
    template = tmp_path / "template"
    template.mkdir()
    for file in herald_template.glob("herald.sqlite*"):
        (template / file.name).write_bytes(file.read_bytes())
    fourth = Herald.build(Settings(home=template, database_url=f"sqlite:///{template / 'herald.sqlite'}"))
    auth.create_user("officer4", Role.VIEWER, PASSWORD, store=fourth.store, clock=fourth.clock)
    fourth.close()
    with herald_serve(tmp_path / "served", template, big_corebank) as server:
        yield server


def report_body() -> dict[str, object]:
    return {
        "results": [
            {
                "messageId": "unknown-to-herald",
                "to": "254700000000",
                "status": status_object("DELIVERED_TO_HANDSET"),
                "error": error_object(0),
                "doneAt": timestamp(),
                "sentAt": timestamp(),
            }
        ]
    }


def test_healthz_and_a_webhook_answer_fast_while_logins_and_a_10k_preview_run(served: Served) -> None:
    stop = threading.Event()
    done = {"logins": 0, "previews": 0}
    failures: list[str] = []
    sizes: list[int] = []

    def login_loop(username: str) -> None:
        while not stop.is_set():
            try:
                client, _ = logged_in(served.url, username, PASSWORD)
                client.close()
                done["logins"] += 1
            except Exception as exc:  # reported below: the test fails on it
                failures.append(f"login {username}: {exc!r}")
                return

    manager, csrf = logged_in(served.url, USERNAMES[Role.CAMPAIGN_MANAGER], PASSWORD)
    form = {
        "csrf_token": csrf,
        "campaignName": "Everybody",
        "triggerType": "direct",
        "runReportId": "166",
        "param.officeId": "1",
        "param.loanOfficerId": "-1",
        "message": "Hello {{firstName}} of {{officeName}}",
        "providerId": "simulator",
    }

    def preview_loop() -> None:
        while not stop.is_set():
            answer = manager.post("/campaigns/form-preview", data=form)
            if answer.status_code != 200 or "data-testid=\"audience\"" not in answer.text:
                failures.append(f"preview: {answer.status_code} {answer.text[:300]}")
                return
            audience = re.search(r'data-testid="audience"[^>]*>([\d,]+)<', answer.text)
            assert audience, answer.text[:500]
            sizes.append(int(audience.group(1).replace(",", "")))
            done["previews"] += 1

    names = [*USERNAMES.values(), "officer4"]
    threads = [threading.Thread(target=login_loop, args=(n,), daemon=True) for n in names]
    threads.append(threading.Thread(target=preview_loop, daemon=True))
    probe = httpx.Client(base_url=served.url, timeout=10)
    rounds: list[tuple[list[float], list[float]]] = []

    def measure() -> tuple[list[float], list[float]]:
        health: list[float] = []
        webhook: list[float] = []
        for _ in range(25):
            t0 = time.perf_counter()
            assert probe.get("/healthz").status_code == 200
            health.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            answer = probe.post(f"/webhooks/infobip?secret={INFOBIP_SECRET}", json=report_body())
            webhook.append(time.perf_counter() - t0)
            assert answer.status_code == 200, answer.text
            time.sleep(0.05)
        return health, webhook

    def fast(health: list[float], webhook: list[float]) -> bool:
        return statistics.median(health) < FAST and statistics.median(webhook) < FAST

    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)  # the load is under way before the first measurement
        # Up to three rounds under the same load: a loop held up by argon2 or a preview is slow in every
        # round (medians of 500 ms were measured), a machine busy with other tests only now and then.
        while len(rounds) < 3 and not (rounds and fast(*rounds[-1])):
            rounds.append(measure())
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        manager.close()
    elapsed = time.monotonic() - started
    assert not failures, failures
    assert done["logins"] >= 8 and done["previews"] >= 1, (done, elapsed)  # the load really ran alongside
    assert min(sizes) > CLIENTS // 2  # each preview ran the rule over (nearly) everybody
    health, webhook = rounds[-1]
    medians = {"healthz": statistics.median(health), "webhook": statistics.median(webhook)}
    shown = {k: round(v * 1000, 1) for k, v in medians.items()}
    print(f"load: {done} in {elapsed:.1f}s; rounds {len(rounds)}; median ms: {shown}")
    assert medians["healthz"] < FAST, sorted(health)
    assert medians["webhook"] < FAST, sorted(webhook)
