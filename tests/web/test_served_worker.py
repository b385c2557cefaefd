"""Whether anything sends is never silent: `herald serve` runs the jobs unless told not to, says so when it
starts, and the UI's header, the Jobs page and activation say when no worker is running."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from herald.services.auth import Role
from tests.web.confirming import confirmed_post
from tests.web.conftest import PASSWORD, USERNAMES, DemoCorebank
from tests.web.served import herald_serve, logged_in

pytestmark = pytest.mark.xdist_group("served")


def herald(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "herald", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_an_api_only_node_says_nothing_is_sent_in_its_output_header_jobs_page_and_on_activation(
    tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank
) -> None:
    with herald_serve(tmp_path / "api-only", herald_template, demo_corebank.url) as served:
        output = served.log_text()
        assert f"herald is serving {served.url}/ (database sqlite:///" in output
        assert "No jobs run in this process (--no-worker)" in output

        created = herald(
            served.env, "campaigns", "create", "--name", "Idle", "--rule", "166", "-p", "officeId=1", "--message", "Hi"
        )
        assert created.returncode == 0, created.stderr
        campaign_id = re.search(r"campaign (\d+)", created.stdout)
        assert campaign_id, created.stdout

        manager, csrf = logged_in(served.url, USERNAMES[Role.CAMPAIGN_MANAGER], PASSWORD)
        page = manager.get("/campaigns").text
        assert "Not sending: no worker" in page
        jobs = manager.get("/jobs").text
        assert "No worker is running" in jobs
        assert manager.get("/api/v1/jobs/workers").json() == []
        answer = confirmed_post(manager, campaign_id.group(1), "activate", csrf)
        assert answer.status_code == 303
        answer = manager.get(answer.headers["location"])
        assert "no worker is running, so nothing is sent yet" in answer.text
        manager.close()

        # The CLI says the same to whoever activates from a terminal.
        again = herald(
            served.env, "campaigns", "create", "--name", "Idle2", "--rule", "166", "-p", "officeId=1", "--message", "Hi"
        )
        assert again.returncode == 0, again.stderr
        activated = herald(served.env, "campaigns", "activate", "Idle2", "--no-now", "--yes")
        assert activated.returncode == 0, activated.stderr
        assert "No worker is running on this database" in activated.stderr


def test_serve_runs_the_jobs_by_default_and_the_ui_shows_its_worker(
    tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank
) -> None:
    with herald_serve(tmp_path / "with-jobs", herald_template, demo_corebank.url, worker=True) as served:
        assert "The three jobs run in this process" in served.log_text()
        viewer, _ = logged_in(served.url, USERNAMES[Role.VIEWER], PASSWORD)
        assert 'class="sending on"' in viewer.get("/campaigns").text
        jobs = viewer.get("/jobs").text
        assert "No worker is running" not in jobs
        assert f"<td>{socket.gethostname()}</td>" in jobs
        workers = viewer.get("/api/v1/jobs/workers")  # the REST API takes the UI's session cookie too
        viewer.close()
        assert workers.status_code == 200, workers.text
        assert [w["host"] for w in workers.json()] == [socket.gethostname()]


def test_a_port_in_use_is_one_clear_line(tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank) -> None:
    with herald_serve(tmp_path / "first", herald_template, demo_corebank.url) as served:
        port = served.url.rsplit(":", 1)[1]
        second = herald(served.env, "serve", "--port", port)
    assert second.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in second.stderr
    assert "Traceback" not in second.stderr + second.stdout
    assert "herald is serving" not in second.stdout  # it says so only once it really listens
