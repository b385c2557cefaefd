"""`herald serve` running the jobs on a core bank that is not there: the jobs page says so, the log says it once.

A real served process (uvicorn, its worker loop every 0.2 s) pointed at a SQLite path with no
file; then the file arrives, as when the IT person fixes HERALD_COREBANK_URL's target, and the
outage ends without a restart.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from herald.services.auth import Role
from tests.web.conftest import PASSWORD, USERNAMES, DemoCorebank
from tests.web.served import herald_serve, logged_in

pytestmark = pytest.mark.xdist_group("served")

_OUTAGE = re.compile(r'<table class="outages">.*?<tbody>(.*?)</tbody>', re.S)
_CELLS = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


def outage_row(client: httpx.Client) -> list[str] | None:
    """The cells of the jobs page's one core-bank outage (tenant, job, reason, since, last checked), if shown."""
    found = _OUTAGE.search(client.get("/jobs").text)
    return _CELLS.findall(found.group(1)) if found else None


def wait_for(condition: str, check: object, seconds: float = 30) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check() if callable(check) else check
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {condition}")


def test_a_served_worker_on_a_missing_core_bank_shows_it_on_the_jobs_page_and_logs_once(
    tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank
) -> None:
    missing = tmp_path / "fineract" / "core.sqlite"
    with herald_serve(
        tmp_path / "home", herald_template, f"sqlite:///{missing}", worker=True, HERALD_MATERIALIZE_INTERVAL="0.2"
    ) as served:
        viewer, _ = logged_in(served.url, USERNAMES[Role.VIEWER], PASSWORD)
        row = wait_for("the jobs page shows the outage", lambda: outage_row(viewer))
        assert isinstance(row, list)
        tenant, job, reason, since, _checked = row
        assert tenant == "default" and job == "Update SMS Outbound with Campaign Message"
        assert f"No core-banking database at {missing}" in reason and "HERALD_COREBANK_URL" in reason
        assert since.endswith(" EAT")  # the installation's zone, Africa/Nairobi

        # Later passes meet it again (the last check moves on) without another line in the log.
        wait_for("a later pass checked again", lambda: (r := outage_row(viewer)) is not None and r[4] not in r[3])
        log = served.log_text()
        assert len(re.findall(r"core bank of tenant default cannot be read", log)) == 1, log
        assert "Traceback" not in log
        assert not missing.exists() and not missing.parent.exists()  # herald made no file there

        # The file arrives: the next pass reads it, the outage ends, said once.
        missing.parent.mkdir()
        source = make_url(demo_corebank.url).database
        assert source
        shutil.copy(source, missing)
        wait_for("the outage is gone from the jobs page", lambda: outage_row(viewer) is None)
        wait_for("the recovery is logged", lambda: "core bank of tenant default can be read again" in served.log_text())
        assert served.log_text().count("can be read again") == 1
        viewer.close()
