"""The IT person's endpoints on a real `herald serve`: /metrics scraped after sending through the simulator,
who may scrape it, and /readyz following the core bank and the workers."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from herald.app import Herald
from herald.clock import ManualClock
from herald.demo.servers import free_port
from herald.domain.jobs import Job
from herald.domain.message import MessageStatus
from herald.server import create_app
from herald.services import campaigns
from herald.services.audit import Actor
from herald.services.auth import Role
from herald.services.runs import recorded
from herald.worker import outbound_for
from tests.web.confirming import confirmed_post
from tests.web.conftest import PASSWORD, USERNAMES, DemoCorebank
from tests.web.served import HOOK_SECRET, PROVIDERS, herald_serve, logged_in
from tests.web.test_access import pending_campaign

pytestmark = pytest.mark.xdist_group("served-ops")

FAST = {  # the documented path, quicker: jobs every half second, the simulator's reports within a second
    "HERALD_MATERIALIZE_INTERVAL": "0.5",
    "HERALD_SEND_INTERVAL": "0.5",
    "HERALD_REPORTS_INTERVAL": "0.5",
    "HERALD_SIMULATOR_SENT_AFTER": "0.2",
    "HERALD_SIMULATOR_DELIVERED_AFTER": "0.4",
    "HERALD_SIMULATOR_FAILURE_RATIO": "0.2",
    "HERALD_SIMULATOR_TRANSIENT_RATIO": "0.2",  # some sends refused with QUEUE_FULL, retried a second later
    "HERALD_RETRY_BASE_SECONDS": "1",
}
DOWN = {
    "kind": "infobip",
    "name": "down",
    "base_url": "http://127.0.0.1:9",
    "api_key": "k",
    "sender": "HERALD",
    "timeout": 1,
}
"""A provider nothing answers (the discard port): every request to it is refused."""
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def run_herald(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "herald", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def scrape(url: str, **headers: str) -> Samples:
    answer = httpx.get(f"{url}/metrics", headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The one sample of `name` whose labels include `labels` (the process label is left to the caller)."""
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls]
    assert len(found) == 1, f"{name} {labels}: {found}"
    return found[0]


def labels_of(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(ls) for (n, ls), _ in samples.items() if n == name]


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.2)


def test_metrics_after_a_campaign_went_out_through_the_simulator_match_what_herald_recorded(
    tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank
) -> None:
    providers = json.dumps([*PROVIDERS, DOWN])
    env = FAST | {"HERALD_PROVIDERS": providers, "HERALD_MAX_ATTEMPTS": "100"}  # "down"'s messages keep waiting
    with herald_serve(tmp_path / "served", herald_template, demo_corebank.url, worker=True, **env) as served:
        manager, csrf = logged_in(served.url, USERNAMES[Role.CAMPAIGN_MANAGER], PASSWORD)

        def activated(name: str, office: int, provider: str) -> str:
            created = run_herald(
                served.env, "campaigns", "create", "--name", name, "--rule", "166", "-p", f"officeId={office}",
                "--message", "Hello {{firstName}}", "--provider", provider,
            )  # fmt: skip
            assert created.returncode == 0, created.stderr
            found = re.search(r"campaign (\d+)", created.stdout)
            assert found, created.stdout
            assert confirmed_post(manager, found.group(1), "activate", csrf).status_code == 303
            return found.group(1)

        campaign = activated("Metered", 1, "simulator")

        def counts(campaign: str = campaign) -> dict[str, int]:
            answer = manager.get(f"/api/v1/campaigns/{campaign}")
            assert answer.status_code == 200, answer.text
            tabs: dict[str, int] = answer.json()["counts"]
            return tabs

        def settled() -> bool:
            tabs = counts()
            return (
                tabs["delivered"] + tabs["failed"] > 0
                and tabs["pending"] + tabs["waitingForDeliveryReport"] + tabs["sent"] == 0
            )

        wait_for(settled, 60, "every message delivered or failed")
        hook = httpx.post(
            f"{served.url}/fineract/hooks/{HOOK_SECRET}/",
            content=json.dumps({"entityName": "CLIENT", "actionName": "ACTIVATE", "resourceId": 3, "clientId": 3}),
            headers={"Content-Type": "application/json", "Fineract-Platform-TenantId": "default"},
        )
        assert hook.status_code == 200, hook.text
        tabs = counts()
        # A second campaign on a provider nothing answers: its breaker opens, its messages wait.
        stuck = activated("Unreachable", 2, "down")
        wait_for(lambda: counts(stuck)["pending"] > 0, 30, "the Infobip campaign's messages made")
        scraped: list[Samples] = []

        def caught_up() -> bool:  # the scrape's counts are cached for up to 5 s
            scraped[:] = [now := scrape(served.url)]
            return (
                value(now, "herald_hooks_received_total", event="CLIENT/ACTIVATE") == 1
                and value(now, "herald_messages", status="delivered", provider="simulator") == tabs["delivered"]
                and value(now, "herald_provider_breaker_state", provider="down") == 2
                and value(now, "herald_queue_depth") == counts(stuck)["pending"]
            )

        wait_for(caught_up, 30, "the scrape shows the settled campaign and the open breaker")
        samples = scraped[0]
        waiting = counts(stuck)["pending"]
        manager.close()

    # Messages by status and provider: the same numbers the campaign's tabs show.
    for status, tab in [("delivered", "delivered"), ("failed", "failed"), ("sent", "sent"), ("invalid", "invalid")]:
        assert value(samples, "herald_messages", status=status, provider="simulator") == tabs[tab], status
    assert value(samples, "herald_messages", status="pending", provider="infobip") == 0  # configured, never used
    assert value(samples, "herald_messages", status="delivered", provider="down") == 0
    assert value(samples, "herald_messages", status="pending", provider="down") == waiting > 0
    assert value(samples, "herald_queue_depth") == waiting
    assert value(samples, "herald_provider_breaker_state", provider="down") == 2  # open: nothing answers
    assert value(samples, "herald_provider_breaker_state", provider="simulator") == 0  # its last answers were taken
    refused = [ls for ls in labels_of(samples, "herald_provider_errors_total") if ls["provider"] == "down"]
    assert [ls["code"] for ls in refused] == ["UNREACHABLE"], refused
    assert value(samples, "herald_provider_errors_total", provider="down", code="UNREACHABLE") >= 3  # opened it
    assert value(samples, "herald_job_runners") == 1
    # In-process series carry this process's label: host and the served process's pid.
    process = {ls["process"] for ls in labels_of(samples, "herald_send_latency_seconds_count")}
    assert len(process) == 1 and process.pop().startswith(f"{socket.gethostname()}:")
    accepted = tabs["delivered"] + tabs["failed"] + tabs["sent"] + tabs["waitingForDeliveryReport"]
    requests = value(samples, "herald_send_latency_seconds_count", provider="simulator")
    assert (
        1
        <= requests
        <= accepted + value(samples, "herald_provider_errors_total", provider="simulator", code="QUEUE_FULL")
    )
    assert value(samples, "herald_send_latency_seconds_bucket", provider="simulator", le="+Inf") == requests
    assert value(samples, "herald_send_latency_seconds_sum", provider="simulator") > 0
    assert value(samples, "herald_provider_errors_total", provider="simulator", code="QUEUE_FULL") >= 1
    assert value(samples, "herald_hooks_received_total", event="CLIENT/ACTIVATE") == 1
    # Job durations from the recorded runs: every job that did something ran at least once.
    for job in ("update-outbound", "send", "delivery-reports"):
        runs = value(samples, "herald_job_duration_seconds_count", job=job)
        assert runs >= 1, job
        assert value(samples, "herald_job_duration_seconds_bucket", job=job, le="+Inf") == runs
    # No label anywhere holds a phone number or the hook's secret.
    every_label = " ".join(v for (_, ls) in samples for _, v in ls)
    assert not re.search(r"\+?\d{9,}", every_label)
    assert HOOK_SECRET not in every_label


def test_metrics_answer_this_machine_only_unless_a_token_is_set_and_then_only_with_it(
    tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank, herald: Herald
) -> None:
    # No token: a scraper elsewhere is refused and told how to get in; this machine is answered.
    with TestClient(create_app(herald), client=("203.0.113.7", 40000)) as elsewhere:
        refused = elsewhere.get("/metrics")
        assert refused.status_code == 403
        assert "HERALD_METRICS_TOKEN" in refused.json()["error"]["message"]
        assert "herald_messages" not in refused.text
        assert elsewhere.get("/healthz").status_code == 200  # health stays open to load balancers
    with TestClient(create_app(herald), client=("127.0.0.1", 40000)) as local:
        assert "herald_queue_depth" in local.get("/metrics").text

    token = "metrics-token-9d8c7b6a5f4e"
    with herald_serve(tmp_path / "token", herald_template, demo_corebank.url, HERALD_METRICS_TOKEN=token) as served:
        # With a token, even a local scraper needs it (behind a local reverse proxy everyone looks local).
        for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": token}):
            answer = httpx.get(f"{served.url}/metrics", headers=headers, timeout=10)
            assert answer.status_code == 401, headers
            assert answer.headers["www-authenticate"].startswith("Bearer")
            assert "Authorization: Bearer" in answer.json()["error"]["message"]
            assert token not in answer.text
        assert value(scrape(served.url, Authorization=f"Bearer {token}"), "herald_queue_depth") == 0
        assert token not in served.log_text()


@contextmanager
def running_worker(env: dict[str, str], output: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "herald", "worker", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_readyz_follows_the_core_bank_file_and_the_worker_and_healthz_stays_alive(
    tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank
) -> None:
    corebank = tmp_path / "fineract.sqlite"
    shutil.copy(demo_corebank.url.removeprefix("sqlite:///"), corebank)
    with herald_serve(tmp_path / "api-only", herald_template, f"sqlite:///{corebank}") as served:

        def ready() -> tuple[int, dict[str, object]]:
            answer = httpx.get(f"{served.url}/readyz", timeout=10)
            assert answer.headers["content-type"] == "application/json"
            body: dict[str, object] = answer.json()
            return answer.status_code, body

        status, body = ready()  # --no-worker and no `herald worker`: nothing would be sent
        assert (status, body["status"], body["failed"]) == (503, "not ready", ["worker"])
        assert "no worker has a fresh heartbeat" in json.dumps(body["checks"])

        port = free_port()
        output = tmp_path / "worker.log"
        with running_worker(served.env, output, "--metrics-port", str(port)) as worker:
            wait_for(lambda: ready()[0] == 200, 30, "ready once `herald worker` runs")
            assert ready()[1]["failed"] == []

            # The worker's own metrics, on this machine only: the database's series and its in-process ones.
            url = f"http://127.0.0.1:{port}/metrics"
            assert f"This worker's metrics: {url} (this machine only)" in output.read_text()
            samples = scrape(f"http://127.0.0.1:{port}")
            assert value(samples, "herald_job_runners") == 1
            mine = f"{socket.gethostname()}:{worker.pid}"
            assert value(samples, "herald_provider_breaker_state", provider="simulator", process=mine) == 0
            taken = run_herald(served.env, "worker", "--duration", "1", "--metrics-port", str(port))
            assert taken.returncode == 1
            said = " ".join(taken.stderr.split())  # the terminal's line breaks aside
            assert f"Port {port} on 127.0.0.1 is already in use; choose another with --metrics-port." in said
            assert "Traceback" not in taken.stderr + taken.stdout

            moved = corebank.rename(tmp_path / "fineract.sqlite.away")
            status, body = ready()
            assert (status, body["failed"]) == (503, ["corebank:default"])
            assert "its SQLite file is missing" in json.dumps(body["checks"])
            assert not corebank.exists()  # asking never created an empty file in its place
            assert httpx.get(f"{served.url}/healthz", timeout=10).status_code == 200

            moved.rename(corebank)
            wait_for(lambda: ready()[0] == 200, 10, "ready again once the file is back")

        wait_for(lambda: ready()[1]["failed"] == ["worker"], 30, "not ready once the worker stopped")


def test_job_durations_are_a_histogram_of_the_recorded_runs(herald: Herald, clock: ManualClock) -> None:
    for job, seconds in [(Job.SEND, 0.3), (Job.UPDATE_OUTBOUND, 2.0), (Job.UPDATE_OUTBOUND, 100.0)]:
        with recorded(herald.store, clock, job) as counts:
            clock.advance(seconds=seconds)
            counts["done"] = 1
    with TestClient(create_app(herald), client=("127.0.0.1", 40000)) as local:
        answer = local.get("/metrics")
    assert answer.status_code == 200
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }
    send = {"job": "send"}
    assert value(samples, "herald_job_duration_seconds_bucket", le="0.25", **send) == 0
    assert value(samples, "herald_job_duration_seconds_bucket", le="0.5", **send) == 1
    assert value(samples, "herald_job_duration_seconds_sum", **send) == pytest.approx(0.3)
    outbound = {"job": "update-outbound"}
    assert value(samples, "herald_job_duration_seconds_bucket", le="1.0", **outbound) == 0
    assert value(samples, "herald_job_duration_seconds_bucket", le="2.5", **outbound) == 1
    assert value(samples, "herald_job_duration_seconds_bucket", le="60.0", **outbound) == 1
    assert value(samples, "herald_job_duration_seconds_bucket", le="300.0", **outbound) == 2
    assert value(samples, "herald_job_duration_seconds_count", **outbound) == 2
    assert value(samples, "herald_job_duration_seconds_sum", **outbound) == pytest.approx(102.0)
    jobs = {ls["job"] for ls in labels_of(samples, "herald_job_duration_seconds_count")}
    assert jobs == {"send", "update-outbound"}  # a job that never ran has no series yet


def local_scrape(herald: Herald) -> Samples:
    with TestClient(create_app(herald), client=("127.0.0.1", 40000)) as local:
        answer = local.get("/metrics")
    assert answer.status_code == 200, answer.text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def test_the_queue_is_the_pending_messages_of_active_campaigns_only(herald: Herald) -> None:
    campaign_id = pending_campaign(herald)
    actor = Actor.cli()
    campaigns.activate(campaign_id, **herald.activation_parts(), actor=actor)
    outbound_for(herald).run_due()
    pending = campaigns.message_counts(store=herald.store, campaign_id=campaign_id)[campaign_id][MessageStatus.PENDING]
    assert pending > 0
    samples = local_scrape(herald)
    assert value(samples, "herald_queue_depth") == pending
    assert value(samples, "herald_messages", status="pending", provider="simulator") == pending

    campaigns.close(campaign_id, store=herald.store, clock=herald.clock, actor=actor)  # its messages are held
    samples = local_scrape(herald)  # a new app: nothing cached
    assert value(samples, "herald_queue_depth") == 0
    assert value(samples, "herald_messages", status="pending", provider="simulator") == pending
