"""A campaign's tenant is fixed at creation: editing it from the CLI keeps it, and naming another tenant is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from herald.app import Herald
from herald.cli.base import app
from herald.config import Settings
from herald.domain.campaign import Campaign
from herald.errors import ValidationError
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from tests.campaign_parts import validating
from tests.fineract_builder import FineractBuilder

REQUEST = {
    "campaignName": "Kampala welcome",
    "triggerType": "direct",
    "runReportId": 166,
    "paramValue": {"officeId": "1"},
    "message": "Hello {{firstName}}",
    "tenantId": "kampala",
}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """herald's own SQLite store and two Fineract tenants: nairobi (the default) and kampala."""
    nairobi = FineractBuilder(f"sqlite:///{tmp_path / 'nairobi.sqlite'}")
    kampala = FineractBuilder(f"sqlite:///{tmp_path / 'kampala.sqlite'}")
    return {
        "HERALD_HOME": str(tmp_path / "var"),
        "HERALD_DATABASE_URL": f"sqlite:///{tmp_path / 'herald.sqlite'}",
        "HERALD_COREBANK_URL": nairobi.url,
        "HERALD_TENANT": "nairobi",
        "HERALD_TENANTS": json.dumps({"kampala": kampala.url}),
        "COLUMNS": "200",
    }


@pytest.fixture
def herald(env: dict[str, str]) -> Iterator[Herald]:
    """The same installation the CLI opens, read directly to see what the CLI stored."""
    h = Herald.build(
        Settings(
            home=Path(env["HERALD_HOME"]),
            database_url=env["HERALD_DATABASE_URL"],
            corebank_url=env["HERALD_COREBANK_URL"],
            tenant="nairobi",
            tenants=env["HERALD_TENANTS"],
        )
    )
    yield h
    h.close()


def _stored(herald: Herald, name: str) -> Campaign:
    return campaigns.get(name, store=herald.store)


def test_editing_a_campaign_from_the_cli_keeps_its_tenant(env: dict[str, str], herald: Herald) -> None:
    runner = CliRunner()
    created = runner.invoke(
        app,
        [
            *("campaigns", "create", "--name", "Kampala welcome", "--rule", "166", "-p", "officeId=1"),
            *("--message", "Hello {{firstName}}", "--tenant", "kampala"),
        ],
        env=env,
    )
    assert created.exit_code == 0, created.output
    assert _stored(herald, "Kampala welcome").tenant == "kampala"
    edited = runner.invoke(app, ["campaigns", "edit", "Kampala welcome", "--message", "Welcome {{firstName}}"], env=env)
    assert edited.exit_code == 0, edited.output
    after = _stored(herald, "Kampala welcome")
    assert (after.template, after.tenant) == ("Welcome {{firstName}}", "kampala")


def test_an_edit_that_names_another_tenant_is_refused_and_changes_nothing(herald: Herald) -> None:
    c = campaigns.create(CampaignRequest.model_validate(REQUEST), **validating(herald))
    moved = CampaignRequest.model_validate({**REQUEST, "message": "Changed", "tenantId": "nairobi"})
    with pytest.raises(ValidationError, match="tenant 'kampala'") as refused:
        campaigns.edit(c.id, moved, **validating(herald))
    assert refused.value.field == "tenantId"
    assert campaigns.get(c.id, store=herald.store) == c


def test_an_edit_that_names_the_same_tenant_is_an_edit(herald: Herald) -> None:
    c = campaigns.create(CampaignRequest.model_validate(REQUEST), **validating(herald))
    same = CampaignRequest.model_validate({**REQUEST, "message": "Changed"})
    assert campaigns.edit(c.id, same, **validating(herald)).template == "Changed"


def test_a_sender_id_is_set_shown_kept_by_other_edits_and_cleared_from_the_cli(
    env: dict[str, str], herald: Herald
) -> None:
    runner = CliRunner()
    create = ["campaigns", "create", "--name", "Branded", "--rule", "166", "-p", "officeId=1"]
    created = runner.invoke(app, [*create, "--message", "Hi {{firstName}}", "--sender-id", "MFIBank"], env=env)
    assert created.exit_code == 0, created.output
    shown = runner.invoke(app, ["campaigns", "show", "Branded"], env=env)
    assert "sender id" in shown.output and "MFIBank" in shown.output
    assert runner.invoke(app, ["campaigns", "edit", "Branded", "--message", "Hello"], env=env).exit_code == 0
    assert _stored(herald, "Branded").sender_id == "MFIBank"
    # The real command, as a user runs it: one readable line, exit code 1.
    refused = subprocess.run(
        [sys.executable, "-m", "herald", "campaigns", "edit", "Branded", "--sender-id", "Micro Finance Bank"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1 and "at most 11" in refused.stderr and "Traceback" not in refused.stderr
    assert _stored(herald, "Branded").sender_id == "MFIBank"
    assert runner.invoke(app, ["campaigns", "edit", "Branded", "--sender-id", ""], env=env).exit_code == 0
    assert _stored(herald, "Branded").sender_id is None
