"""A real Herald on temporary SQLite files with a small demo Fineract database, one user per role, and login helpers."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from herald.app import Herald
from herald.clock import ManualClock
from herald.config import Settings
from herald.corebank.demo import create_demo_database
from herald.server import create_app
from herald.services import auth
from herald.services.auth import SESSION_COOKIE, Role
from herald.services.offices import OfficeProfile, save_profiles

TODAY = date(2026, 11, 20)
START = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)  # 08:00 in Nairobi
PASSWORD = "correct horse battery"
USERNAMES = {Role.ADMIN: "admin", Role.CAMPAIGN_MANAGER: "manager", Role.VIEWER: "viewer"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_SESSIONS: dict[Role, str] = {}  # session ids opened in the template database, per role
_LOGIN = re.compile(r'name="login_token" value="([^"]+)"')


@dataclass(frozen=True)
class DemoCorebank:
    url: str
    offices: tuple[OfficeProfile, ...]


@pytest.fixture(scope="session")
def demo_corebank(tmp_path_factory: pytest.TempPathFactory) -> DemoCorebank:
    """300 synthetic clients with Fineract's tables, built once per test process (rules only read it)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('corebank') / 'fineract.sqlite'}"
    summary = create_demo_database(url, clients=300, seed=1, today=TODAY)
    offices = tuple(OfficeProfile(p.office_id, p.name, p.region, p.timezone) for p in summary.office_profiles)
    return DemoCorebank(url, offices)


def herald_settings(home: Path, corebank: DemoCorebank) -> Settings:
    return Settings(
        home=home,
        database_url=f"sqlite:///{home / 'herald.sqlite'}",
        corebank_url=corebank.url,
        timezone="Africa/Nairobi",
        business_date=TODAY,
        simulator_failure_ratio=0.2,  # some Failed messages, so the Failed tab and re-send have something
        simulator_sent_after=1,
        simulator_delivered_after=2,
    )


@pytest.fixture(scope="session")
def herald_template(tmp_path_factory: pytest.TempPathFactory, demo_corebank: DemoCorebank) -> Path:
    """herald's database migrated, with office profiles and one user per role, built once and copied per test.

    Argon2 hashing and the migrations are most of a Herald's set-up time; a file copy is not. Each
    user also gets a session here (argon2 again), which every copy inherits: see `log_in`.
    """
    home = tmp_path_factory.mktemp("herald-template")
    herald = Herald.build(herald_settings(home, demo_corebank), ManualClock(START))
    save_profiles(demo_corebank.offices, store=herald.store, corebanks=herald.corebanks, offices=herald.offices)
    for role, name in USERNAMES.items():
        auth.create_user(name, role, PASSWORD, store=herald.store, clock=herald.clock)
        _SESSIONS[role] = auth.login(name, PASSWORD, store=herald.store, clock=herald.clock)
    herald.close()
    return home


def build_herald(home: Path, template: Path, corebank: DemoCorebank, clock: ManualClock) -> Herald:
    for file in template.glob("herald.sqlite*"):
        shutil.copy(file, home / file.name)
    return Herald.build(herald_settings(home, corebank), clock)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def herald(tmp_path: Path, herald_template: Path, demo_corebank: DemoCorebank, clock: ManualClock) -> Iterator[Herald]:
    h = build_herald(tmp_path, herald_template, demo_corebank, clock)
    yield h
    h.close()


@pytest.fixture
def client(herald: Herald) -> Iterator[TestClient]:
    with TestClient(create_app(herald), raise_server_exceptions=False, follow_redirects=False) as c:
        yield c


def log_in(client: TestClient, role: Role) -> None:
    """Use the role's session opened in the template database (the login form has tests of its own)."""
    client.cookies.set(SESSION_COOKIE, _SESSIONS[role])


def login_token(client: TestClient, page: str = "/login") -> str:
    """The login form's own CSRF token (its cookie is now in the client's jar)."""
    found = _LOGIN.search(client.get(page).text)
    assert found, f"no login form at {page}"
    return found.group(1)


def csrf_of(client: TestClient, page: str = "/campaigns") -> str:
    found = _CSRF.search(client.get(page).text)
    assert found, f"no CSRF token on {page}"
    return found.group(1)
