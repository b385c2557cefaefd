"""Headers on every kind of answer: nosniff everywhere, no caching of personal data, the pages' CSP, HSTS and
Secure cookies whenever HERALD_PUBLIC_URL is https, and /docs whole without any CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from herald.app import Herald
from herald.clock import ManualClock
from herald.server import create_app
from herald.services.auth import Role
from tests.web.conftest import PASSWORD, USERNAMES, DemoCorebank, herald_settings, log_in, login_token
from tests.web.test_access import pending_campaign

# (method, path, role or None, the status it answers): one of each kind herald gives.
ANSWERS = [
    ("GET", "/campaigns", Role.VIEWER, 200),  # a UI page
    ("GET", "/campaigns/999", Role.VIEWER, 404),  # a UI error page
    ("GET", "/campaigns", None, 303),  # a redirect to the login
    ("GET", "/login", None, 200),
    ("GET", "/api/v1/campaigns", Role.VIEWER, 200),  # JSON with client data
    ("GET", "/api/v1/messages", Role.ADMIN, 200),  # full numbers
    ("GET", "/api/v1/messages/export.csv", Role.ADMIN, 200),  # CSV
    ("GET", "/messages/export.csv", Role.ADMIN, 200),  # the UI's CSV, full numbers
    ("GET", "/api/v1/users", Role.ADMIN, 200),
    ("GET", "/api/v1/campaigns", None, 401),  # a JSON refusal
    ("GET", "/api/v1/messages/abc", Role.VIEWER, 422),
    ("GET", "/api/v1/nothing-here", None, 404),
    ("GET", "/webhooks/simulator", None, 200),
    ("GET", "/fineract/hooks/wrong/", None, 404),
    ("GET", "/healthz", None, 200),
    ("GET", "/openapi.json", None, 200),
    ("GET", "/docs", None, 200),
    ("GET", "/static/herald.css", None, 200),
    ("GET", "/static/tables.js", None, 200),  # the script every page loads (by its nonce)
]


@pytest.mark.parametrize(("method", "path", "role", "status"), ANSWERS)
def test_every_answer_says_nosniff_and_personal_data_is_never_cached(
    client: TestClient, herald: Herald, method: str, path: str, role: Role | None, status: int
) -> None:
    pending_campaign(herald)
    if role is not None:
        log_in(client, role)
    answer = client.request(method, path)
    assert answer.status_code == status, answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"
    if path.startswith("/static/"):
        assert answer.headers["cache-control"].startswith("public")  # the stylesheet holds nothing personal
    else:
        assert answer.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in answer.headers  # plain http: no HSTS promise to keep


@pytest.mark.parametrize("path", ["/campaigns", "/campaigns/new", "/jobs", "/login", "/campaigns/999"])
def test_ui_pages_allow_only_their_own_nonced_script(client: TestClient, path: str) -> None:
    if path != "/login":  # a logged-in officer is sent on from the login page
        log_in(client, Role.CAMPAIGN_MANAGER)
    answer = client.get(path)
    assert answer.status_code in (200, 404)
    policy = answer.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    nonce = re.fullmatch(r"'nonce-([A-Za-z0-9_-]{16,})'", directives["script-src"])
    assert nonce, directives["script-src"]
    scripts = re.findall(r"<script([^>]*)>", answer.text)
    assert scripts and all(f'nonce="{nonce.group(1)}"' in s for s in scripts)
    assert not re.search(r"\son[a-z]+=", answer.text)  # no inline event handler (the CSP would block it)
    assert directives["frame-ancestors"] == "'none'" and directives["default-src"] == "'none'"
    assert client.get(path).headers["content-security-policy"] != policy  # a fresh nonce per answer


def test_docs_are_served_whole_by_herald(client: TestClient) -> None:
    page = client.get("/docs").text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/") for s in sources), sources  # nothing from another host
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 1000, source
        assert asset.headers["x-content-type-options"] == "nosniff"
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text
    assert client.get("/docs/assets/../../etc/passwd").status_code == 404
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN


@pytest.fixture
def https_client(
    tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank, clock: ManualClock
) -> Iterator[TestClient]:
    for file in herald_template.glob("herald.sqlite*"):
        (tmp_path / file.name).write_bytes(file.read_bytes())
    settings = herald_settings(tmp_path, demo_corebank).model_copy(update={"public_url": "https://sms.bank.example"})
    herald = Herald.build(settings, clock)
    # The proxy talks plain HTTP to herald, from an address whose forwarded headers are not trusted.
    with TestClient(create_app(herald), base_url="http://10.0.0.5:8080", follow_redirects=False) as c:
        yield c
    herald.close()


def test_behind_an_https_public_url_the_cookies_are_secure_and_hsts_is_sent(https_client: TestClient) -> None:
    form = https_client.get("/login")
    login_cookie = form.headers["set-cookie"]
    assert "; secure" in login_cookie.lower()  # the login form's own cookie too
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token
    # The browser talks https to the proxy and sends Secure cookies; this test client would not, unasked.
    answer = https_client.post(
        "/login",
        data={"username": USERNAMES[Role.VIEWER], "password": PASSWORD, "login_token": token.group(1)},
        headers={"Cookie": login_cookie.split(";", 1)[0]},
    )
    assert answer.status_code == 303
    session_cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("herald_session="))
    assert "; secure" in session_cookie.lower() and "httponly" in session_cookie.lower()
    for path in ("/login", "/healthz", "/api/v1/campaigns", "/docs"):
        assert https_client.get(path).headers["strict-transport-security"].startswith("max-age=")


def test_a_plain_http_public_url_gives_no_secure_flag_that_would_lock_the_officer_out(client: TestClient) -> None:
    token = login_token(client)
    form = {"username": USERNAMES[Role.VIEWER], "password": PASSWORD, "login_token": token}
    answer = client.post("/login", data=form)
    assert answer.status_code == 303
    assert "secure" not in answer.headers["set-cookie"].lower()
