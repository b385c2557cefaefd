"""A real Herald on temporary SQLite files behind FastAPI's TestClient, with one user (and token) per role."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.corebank import schema
from herald.server import create_app
from herald.services import auth
from herald.services.auth import Role
from herald.services.auth import users as users_module
from tests.fineract_builder import FineractBuilder

START = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 07:00 in Nairobi
PASSWORD = "correct horse battery"
TWILIO_TOKEN = "twilio-auth-token-0123456789abcdef"
INFOBIP_KEY = "infobip-api-key-fedcba9876543210"
SECRETS = (TWILIO_TOKEN, INFOBIP_KEY, PASSWORD)

PROVIDERS = [
    {
        "kind": "twilio",
        "name": "twilio-ke",
        "account_sid": "AC" + "0" * 32,
        "auth_token": TWILIO_TOKEN,
        "from_number": "+254700000001",
        "base_url": "http://127.0.0.1:9",  # nothing listens: a health check fails fast
        "timeout": 1,
    },
    {
        "kind": "infobip",
        "name": "infobip-ug",
        "base_url": "http://127.0.0.1:9",
        "api_key": INFOBIP_KEY,
        "sender": "HERALD",
        "timeout": 1,
    },
]


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Production parameters cost ~100 ms a hash by design; the tests hash hundreds of times.
    monkeypatch.setattr(users_module, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class Corebank:
    builder: FineractBuilder
    nairobi: int
    westlands: int
    officer: int
    clients: list[int]


@pytest.fixture
def corebank(tmp_path: Path) -> Corebank:
    fineract = FineractBuilder(f"sqlite:///{tmp_path / 'fineract.sqlite'}")
    nairobi = fineract.office("Nairobi")
    westlands = fineract.office("Westlands", parent_hierarchy=f".{nairobi}.")
    officer = fineract._insert(
        schema.m_staff, office_id=westlands, display_name="Achieng Otieno", is_loan_officer=True, is_active=True
    )
    fineract._insert(schema.m_staff, office_id=nairobi, display_name="Teller Only", is_loan_officer=False)
    clients = [
        fineract.client("Amina", "0712345678", office_id=nairobi, dob=date(1990, 1, 1)),
        fineract.client("Baraka", "0722345678", office_id=westlands),
        fineract.client("Chebet", None, office_id=westlands),  # no number: Invalid
    ]
    return Corebank(fineract, nairobi, westlands, officer, clients)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def herald(tmp_path: Path, corebank: Corebank, clock: ManualClock) -> Iterator[Herald]:
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'herald.sqlite'}",
        corebank_url=corebank.builder.url,
        timezone="Africa/Nairobi",
        providers=json.dumps(PROVIDERS),
        public_url="https://herald.example.org",
        simulator_failure_ratio=0.0,
        simulator_sent_after=1,
        simulator_delivered_after=2,
    )
    h = Herald.build(settings, clock)
    yield h
    h.close()


@dataclass
class Caller:
    """One user of a role, with the headers that authenticate it by API token."""

    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def users(herald: Herald) -> dict[Role, Caller]:
    callers = {}
    for role in Role:
        name = role.value.replace("_", "-")
        auth.create_user(name, role, PASSWORD, store=herald.store, clock=herald.clock)
        callers[role] = Caller(
            name, auth.issue_token(name, f"{name} tests", store=herald.store, clock=herald.clock).token
        )
    return callers


@pytest.fixture
def client(herald: Herald) -> Iterator[TestClient]:
    with TestClient(create_app(herald), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def admin(users: dict[Role, Caller]) -> dict[str, str]:
    return users[Role.ADMIN].headers


@pytest.fixture
def manager(users: dict[Role, Caller]) -> dict[str, str]:
    return users[Role.CAMPAIGN_MANAGER].headers


@pytest.fixture
def viewer(users: dict[Role, Caller]) -> dict[str, str]:
    return users[Role.VIEWER].headers


def campaign_body(**changes: Any) -> dict[str, Any]:
    """A valid Direct campaign request in Fineract's field names."""
    body: dict[str, Any] = {
        "campaignName": "Everyone",
        "triggerType": 1,
        "runReportId": 166,
        "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
        "message": "Hello {{firstName}}",
        "providerId": "simulator",
    }
    body.update(changes)
    return body


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The one error shape, with this status, code and (when given) field."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    if field is not None:
        assert body["error"]["field"] == field, body
    return dict(body["error"])


def create_campaign(client: TestClient, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = client.post("/api/v1/campaigns", json=campaign_body(**changes), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def materialized_campaign(client: TestClient, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    """An active Direct campaign whose messages exist (two sendable, one Invalid), not yet sent."""
    campaign = create_campaign(client, headers, **changes)
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/activate", headers=headers).status_code == 200
    assert client.post("/api/v1/jobs/update-outbound/run", headers=headers).status_code == 200
    return campaign
