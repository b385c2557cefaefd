"""A real Herald with every edge switched on (Twilio and Infobip webhooks, the Fineract hook, the gateway, the API),
once on SQLite and once on PostgreSQL, and a dump of its tables to prove a refused request changed nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.server import create_app
from herald.services import auth
from herald.services.auth import SESSION_COOKIE, Role
from herald.services.auth import users as users_module
from herald.store.database import make_engine, upgrade
from herald.store.tables import metadata
from tests.fineract_builder import FineractBuilder
from tests.postgres import create_database

START = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
PUBLIC = "https://herald.example.org"
TWILIO_TOKEN = "fuzz-twilio-token-0123456789abcdef"
INFOBIP_SECRET = "fuzz-infobip-secret"
HOOK_SECRET = "fuzz-hook-secret"
GATEWAY_KEY = "fuzz-gateway-key"
PASSWORD = "correct horse battery"
HOOK_URL = f"/fineract/hooks/{HOOK_SECRET}/"
INFOBIP_URL = f"/webhooks/infobip-ug?secret={INFOBIP_SECRET}"
GATEWAY_HEADERS = {
    "Content-Type": "application/json",
    "Fineract-Platform-TenantId": "default",
    "Fineract-Tenant-App-Key": GATEWAY_KEY,
}
PROVIDERS = [
    {
        "kind": "twilio",
        "name": "twilio-ke",
        "account_sid": "AC" + "0" * 32,
        "auth_token": TWILIO_TOKEN,
        "from_number": "+254700000001",
        "base_url": "http://127.0.0.1:9",
        "timeout": 1,
    },
    {
        "kind": "infobip",
        "name": "infobip-ug",
        "base_url": "http://127.0.0.1:9",
        "api_key": "fuzz-infobip-key",
        "sender": "HERALD",
        "webhook_secret": INFOBIP_SECRET,
        "timeout": 1,
    },
]
_IGNORED = {("api_tokens", "last_used_at")}  # a hint touched by any authenticated call, refused or not


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Production parameters cost ~100 ms a hash by design; only the users' fixture hashes here.
    monkeypatch.setattr(users_module, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class Edge:
    """The app under test, its Herald, and a token per role."""

    client: TestClient
    herald: Herald
    tokens: dict[Role, str]
    sessions: dict[Role, str]
    office: int

    def auth(self, role: Role = Role.ADMIN) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def ui(self, role: Role = Role.CAMPAIGN_MANAGER) -> str:
        """Log the client into the UI as `role`; return the session's CSRF token for form posts."""
        self.client.cookies.set(SESSION_COOKIE, self.sessions[role])
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.client.get("/campaigns").text)
        assert found, "no CSRF token on /campaigns"
        return found.group(1)

    def twilio(self, params: list[tuple[str, str]]) -> Any:
        """POST a Twilio status callback signed with the account's Auth Token (Twilio's published scheme)."""
        url = f"{PUBLIC}/webhooks/twilio-ke"
        payload = url + "".join(k + v for k, v in sorted(set(params)))
        sig = base64.b64encode(hmac.new(TWILIO_TOKEN.encode(), payload.encode(), hashlib.sha1).digest())
        body = urlencode(params)
        return self.client.post(
            "/webhooks/twilio-ke",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig.decode()},
        )


def dump(herald: Herald) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every herald table, in primary-key order: equal dumps mean nothing stored changed."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with herald.store.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in _IGNORED]
            order = list(table.primary_key.columns) or columns
            out[table.name] = [tuple(r) for r in conn.execute(select(*columns).order_by(*order))]
    return out


_counter = itertools.count()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """herald's SQLite database, migrated once per test process and copied per test (migrations are the slow part)."""
    path = tmp_path_factory.mktemp("fuzz-template") / "herald.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # one self-contained file to copy
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> str:
    """A migrated PostgreSQL database that each test's database is cloned from (CREATE DATABASE ... TEMPLATE)."""
    url = create_database(pg_server, "fuzz_template")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()  # a template must have no open connections
    return url


def _clone(template: str, name: str) -> str:
    server = template.rsplit("/", 1)[0] + "/postgres"
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template.rsplit("/", 1)[1]}"'))
    engine.dispose()
    return template.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def edge(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Edge]:
    fineract = FineractBuilder(f"sqlite:///{tmp_path / 'fineract.sqlite'}")
    office = fineract.office("Nairobi")
    fineract.client("Amina", "0712345678", office_id=office, dob=date(1990, 1, 1))
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / "herald.sqlite")
        url = f"sqlite:///{tmp_path / 'herald.sqlite'}"
    else:
        url = _clone(request.getfixturevalue("pg_template"), f"fuzz{next(_counter)}")
    settings = Settings(
        home=tmp_path,
        database_url=url,
        corebank_url=fineract.url,
        timezone="Africa/Nairobi",
        providers=json.dumps(PROVIDERS),
        public_url=PUBLIC,
        fineract_hook_secret=HOOK_SECRET,
        gateway_app_keys=json.dumps({"default": GATEWAY_KEY}),
        simulator_failure_ratio=0.0,
    )
    herald = Herald.build(settings, ManualClock(START))
    tokens, sessions = {}, {}
    for role in Role:
        name = role.value.replace("_", "-")
        auth.create_user(name, role, PASSWORD, store=herald.store, clock=herald.clock)
        tokens[role] = auth.issue_token(name, "fuzz", store=herald.store, clock=herald.clock).token
        sessions[role] = auth.login(name, PASSWORD, store=herald.store, clock=herald.clock)
    with TestClient(create_app(herald), raise_server_exceptions=False) as client:
        yield Edge(client, herald, tokens, sessions, office)
    herald.close()
