"""The worker's event consumer runs as a process of its own that reads its settings from its environment:
`settings_environment` must give it the worker's settings exactly, however the worker's were made."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr

from herald.config import Settings, load_settings, settings_environment


def test_every_setting_survives_the_trip_through_a_child_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    made = Settings(
        _env_file=None,  # type: ignore[call-arg]
        home=Path("/tmp/herald-home"),
        database_url="sqlite:////tmp/h.sqlite",
        events_url=SecretStr("stomp://user:p%40ss:word@broker:61613/queue/fineract-events"),
        fineract_password=SecretStr("s3cret with spaces"),
        fineract_verify_tls=False,
        business_date=date(2026, 12, 3),
        default_region="ug",
        price_per_segment=1.25,
        max_attempts=7,
        events_consumer="thread",
        tenants='{"kampala": "sqlite:////tmp/k.sqlite"}',
        quiet_hours="21:00-07:30",
    )
    # what the parent's own environment says is replaced, not mixed in: the child gets the parent's settings
    environ = {"PATH": "/usr/bin", "HERALD_MAX_ATTEMPTS": "2", "HERALD_PROVIDERS": "[]", "herald_tenant": "other"}
    env = settings_environment(made, environ)
    assert env["PATH"] == "/usr/bin"
    for key in list(os.environ):
        if key.upper().startswith("HERALD_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(Path("/"))  # no .env to read
    again = load_settings()
    assert again.model_dump() == made.model_dump()
    assert again.events_url is not None and made.events_url is not None
    assert again.events_url.get_secret_value() == made.events_url.get_secret_value()
    assert again.fineract_password is not None
    assert again.fineract_password.get_secret_value() == "s3cret with spaces"
    assert again.providers is None, "a HERALD_ variable of the parent's environment leaked past its settings"
