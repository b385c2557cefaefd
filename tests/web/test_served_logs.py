"""Secrets stay out of `herald serve`'s output: its access log shows every request with URL secrets as ***,
and a provider's base URL is shown without its user:password@ anywhere a user can read it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.fakes.infobip_wire import error_object, status_object, timestamp
from herald.services.auth import Role
from tests.web.conftest import PASSWORD, USERNAMES, DemoCorebank
from tests.web.served import HOOK_SECRET, INFOBIP_KEY, INFOBIP_SECRET, Served, herald_serve, logged_in

pytestmark = pytest.mark.xdist_group("served")
BASE_URL_PASSWORD = "base-url-password"


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, herald_template: Path, demo_corebank: DemoCorebank
) -> Iterator[Served]:
    with herald_serve(tmp_path_factory.mktemp("served-logs"), herald_template, demo_corebank.url) as server:
        yield server


def test_the_access_log_shows_each_request_but_no_secret_in_its_url(served: Served) -> None:
    viewer, _ = logged_in(served.url, USERNAMES[Role.VIEWER], PASSWORD)
    report = {
        "results": [
            {
                "messageId": "m-1",
                "status": status_object("DELIVERED_TO_HANDSET"),
                "error": error_object(0),
                "doneAt": timestamp(),
            }
        ]
    }
    assert viewer.get(f"/fineract/hooks/{HOOK_SECRET}/").status_code == 200
    assert viewer.post(f"/fineract/hooks/{HOOK_SECRET}/", content=b"{}").status_code in (400, 415)
    assert viewer.get("/fineract/hooks/a-guessed-secret-1234/").status_code == 404
    assert viewer.post(f"/webhooks/infobip?secret={INFOBIP_SECRET}&x=1", json=report).status_code == 200
    assert viewer.post("/webhooks/infobip?secret=wrong-guess-5678", json=report).status_code == 403
    assert viewer.get("/api/v1/campaigns?token=hrd_in_a_query_by_mistake").status_code == 200
    # A number in a URL (the API's opt-out removal names it in the path): refused for a viewer, logged masked.
    assert viewer.delete("/api/v1/optouts/%2B254712345678").status_code == 403
    assert viewer.get("/api/v1/campaigns?q=0712%20345%20678").status_code == 200
    # The Messages form sends a typed space as "+": refused for a viewer, and the number is logged masked too.
    assert viewer.get("/messages?number=%2B254+712+345+679").status_code == 403
    assert viewer.get("/messages?number=0712+345+679").status_code == 403
    viewer.close()

    log = served.log_text()
    for secret in (
        HOOK_SECRET,
        INFOBIP_SECRET,
        "a-guessed-secret-1234",
        "wrong-guess-5678",
        "hrd_in_a_query",
        INFOBIP_KEY,
        "254712345678",
        "0712345678",
        "0712 345 678",
        "0712%20345%20678",
        "712+345+679",
    ):
        assert secret not in log, f"{secret} is in the log"
    lines = log.splitlines()
    assert sum('"GET /fineract/hooks/***/ HTTP/1.1" 200' in line for line in lines) == 1, log
    assert sum('"POST /fineract/hooks/***/ HTTP/1.1"' in line for line in lines) == 1, log
    assert sum('"GET /fineract/hooks/***/ HTTP/1.1" 404' in line for line in lines) == 1, log
    assert sum('"POST /webhooks/infobip?secret=***&x=1 HTTP/1.1" 200' in line for line in lines) == 1, log
    assert sum('"POST /webhooks/infobip?secret=*** HTTP/1.1" 403' in line for line in lines) == 1, log
    assert any('"GET /api/v1/campaigns?token=*** HTTP/1.1" 200' in line for line in lines), log
    assert any('"POST /login HTTP/1.1" 303' in line for line in lines), log
    assert sum('"DELETE /api/v1/optouts/+2547******78 HTTP/1.1" 403' in line for line in lines) == 1, log


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/providers",
        "/api/v1/providers/infobip",
        "/api/v1/providers/health",
        "/api/v1/providers/infobip/health",
        "/providers",
    ],
)
def test_a_provider_base_url_is_shown_without_its_credentials(served: Served, path: str) -> None:
    viewer, _ = logged_in(served.url, USERNAMES[Role.VIEWER], PASSWORD)
    answer = viewer.get(path)
    viewer.close()
    assert answer.status_code == 200
    assert BASE_URL_PASSWORD not in answer.text and "herald:" not in answer.text
    if "health" not in path:
        assert "http://127.0.0.1:9" in answer.text  # the endpoint is still there, minus the credentials
