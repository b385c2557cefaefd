"""`herald fineract events [--apply]` run as a user runs it, against a fake of Fineract's API over real HTTP.

What Fineract ends up with is read at the far side: the fake's event table and the requests it received.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.app import Herald
from herald.domain.campaign import Campaign
from herald.events.kinds import KINDS
from herald.fakes.fineract_api import OTHER_TYPES, FakeFineractApi, FineractUser
from herald.services import campaigns
from herald.services.campaigns import CampaignRequest
from tests.campaign_parts import activating, validating

HERALD = [sys.executable, "-m", "herald"]
PASSWORD = "Fin3ract-pw"  # the fake's, never a real one
BROKER_SECRET = "br0ker-s3cret"
HERALDS = list(KINDS)


@pytest.fixture
def fineract_api() -> Iterator[FakeFineractApi]:
    with FakeFineractApi(users={"mifos": FineractUser(PASSWORD)}) as api:
        yield api


@pytest.fixture
def herald_app(herald: Herald) -> Herald:
    """The conftest's Herald (SQLite store, a crafted Fineract database), under a name free for the command."""
    return herald


@pytest.fixture
def env(tmp_path: Path, fineract_api: FakeFineractApi) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    return clean | {
        "HERALD_HOME": str(tmp_path / "var"),
        "COLUMNS": "200",
        "HERALD_FINERACT_API_URL": fineract_api.url,
        "HERALD_FINERACT_PASSWORD": PASSWORD,
        "HERALD_EVENTS_URL": f"stomp://herald:{BROKER_SECRET}@mq.mfi.example:61613/queue/fineract-events",
    }


def run_herald(
    env: dict[str, str], *args: str, ok: bool = True, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*HERALD, *args], env=env, capture_output=True, text=True, timeout=120, cwd=cwd)
    output = done.stdout + done.stderr
    assert done.returncode == (0 if ok else 1), output
    assert "Traceback" not in output
    assert PASSWORD not in output and BROKER_SECRET not in output
    return done


def error_line(done: subprocess.CompletedProcess[str]) -> str:
    [line] = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    return line


def put_body(stdout: str) -> dict[str, object]:
    """The JSON block the command prints (from its "{" line to its "}" line)."""
    lines = stdout.splitlines()
    start, end = lines.index("{"), lines.index("}")
    parsed: dict[str, object] = json.loads("\n".join(lines[start : end + 1]))
    return parsed


def test_print_mode_lists_the_types_the_body_and_fineracts_settings_without_calling_fineract(
    env: dict[str, str], fineract_api: FakeFineractApi
) -> None:
    out = run_herald(env, "fineract", "events").stdout
    assert fineract_api.received == []  # no network without --apply
    assert put_body(out) == {"externalEventConfigurations": dict.fromkeys(HERALDS, True)}
    for kind in HERALDS:
        assert kind in out
    repayment = next(line for line in out.splitlines() if "LoanTransactionMakeRepaymentPostBusinessEvent" in line)
    assert "179 Loan Repayment" in repayment
    assert "FINERACT_EXTERNAL_EVENTS_ENABLED=true" in out
    assert "FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_ENABLED=true" in out
    broker = next(line for line in out.splitlines() if "PRODUCER_JMS_BROKER_URL=" in line)
    assert "FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_BROKER_URL=tcp://mq.mfi.example:61616" in broker
    assert "OpenWire" in broker and "not its STOMP port" in broker
    assert "FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_QUEUE_NAME=fineract-events" in out
    assert "stomp://herald:***@mq.mfi.example:61613/queue/fineract-events" in out
    assert "--apply" in out
    assert "Active campaigns not known" in out and "herald db upgrade" in out  # no herald database here


def test_without_herald_events_url_it_prints_placeholders_and_says_to_set_it(env: dict[str, str]) -> None:
    del env["HERALD_EVENTS_URL"]
    out = run_herald(env, "fineract", "events").stdout
    assert "FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_BROKER_URL=tcp://<broker host>:61616" in out
    assert "FINERACT_EXTERNAL_EVENTS_PRODUCER_JMS_QUEUE_NAME=<queue name>" in out
    assert "HERALD_EVENTS_URL is not set" in out and "stomp://" in out
    assert put_body(out) == {"externalEventConfigurations": dict.fromkeys(HERALDS, True)}


def test_a_bad_herald_events_url_is_one_line_without_its_password(env: dict[str, str]) -> None:
    env["HERALD_EVENTS_URL"] = f"kafka://herald:{BROKER_SECRET}@broker:9092/external-events"
    done = run_herald(env, "fineract", "events", ok=False)
    assert error_line(done).startswith("Error: Invalid configuration: HERALD_EVENTS_URL:")
    assert "Kafka" in done.stderr and done.stdout == ""


def test_the_table_says_which_active_campaigns_listen_to_each_type(env: dict[str, str], herald_app: Herald) -> None:
    def triggered(name: str, rule: int) -> Campaign:
        request = {
            "campaignName": name,
            "triggerType": "triggered",
            "runReportId": rule,
            "message": "Thanks {{firstName}}",
        }
        return campaigns.create(CampaignRequest.model_validate(request | {"paramValue": {"officeId": "1"}}),
                                **validating(herald_app))  # fmt: skip

    campaigns.activate(triggered("Repaid thanks", 179).id, **activating(herald_app))
    triggered("Deposit draft", 186)  # pending: it listens to nothing yet
    env |= {"HERALD_DATABASE_URL": herald_app.settings.own_database_url,
            "HERALD_COREBANK_URL": herald_app.settings.corebank_database_url}  # fmt: skip
    out = run_herald(env, "fineract", "events").stdout
    rows = {line.split("│")[1].strip(): line.split("│")[3].strip() for line in out.splitlines() if line.count("│") >= 4}
    assert set(rows) == set(HERALDS)
    assert rows["LoanTransactionMakeRepaymentPostBusinessEvent"] == "Repaid thanks"
    assert rows["LoanTransactionRecoveryPaymentPostBusinessEvent"] == "Repaid thanks"
    assert rows["SavingsDepositBusinessEvent"] == "-"
    assert "Active campaigns not known" not in out


def test_apply_enables_exactly_the_missing_types_and_leaves_every_other_as_it_was(
    env: dict[str, str], fineract_api: FakeFineractApi
) -> None:
    fineract_api.events["LoanApprovedBusinessEvent"] = True  # one of herald's, enabled already
    fineract_api.events[OTHER_TYPES[0]] = True  # another system's, enabled: stays so
    before_others = {t: on for t, on in fineract_api.events.items() if t not in KINDS}
    out = run_herald(env, "fineract", "events", "--apply").stdout

    assert all(fineract_api.events[t] for t in HERALDS)
    assert {t: on for t, on in fineract_api.events.items() if t not in KINDS} == before_others
    [put] = fineract_api.puts()
    assert put.tenant == "default" and put.path.endswith("/fineract-provider/api/v1/externalevents/configuration")
    assert put.body == {"externalEventConfigurations": {t: True for t in HERALDS if t != "LoanApprovedBusinessEvent"}}
    assert [r.method for r in fineract_api.received] == ["GET", "PUT", "GET"]
    assert f"{len(HERALDS) - 1} types enabled by herald just now, 1 enabled already" in out
    assert "LoanApprovedBusinessEvent" in out and "enabled already" in out
    assert f"All {len(HERALDS)} event types herald listens to are enabled in Fineract." in out

    again = run_herald(env, "fineract", "events", "--apply").stdout  # a second run asks for nothing
    assert len(fineract_api.puts()) == 1
    assert f"0 types enabled by herald just now, {len(HERALDS)} enabled already" in again


def test_a_wrong_password_is_one_line_and_changes_nothing(env: dict[str, str], fineract_api: FakeFineractApi) -> None:
    env["HERALD_FINERACT_PASSWORD"] = "not-" + PASSWORD
    done = run_herald(env, "fineract", "events", "--apply", ok=False)
    line = error_line(done)
    assert "(401)" in line and "HERALD_FINERACT_PASSWORD" in line and "not-" + PASSWORD not in done.stderr
    assert fineract_api.puts() == [] and not any(fineract_api.events.values())


def test_a_user_without_the_update_permission_is_told_which_one(
    env: dict[str, str], fineract_api: FakeFineractApi
) -> None:
    fineract_api.users["reader"] = FineractUser(PASSWORD, frozenset({"READ_EXTERNAL_EVENT_CONFIGURATION"}))
    env["HERALD_FINERACT_USERNAME"] = "reader"
    line = error_line(run_herald(env, "fineract", "events", "--apply", ok=False))
    assert "(403)" in line and "UPDATE_EXTERNAL_EVENT_CONFIGURATION" in line and "reader" in line
    assert not any(fineract_api.events.values())


def test_a_type_this_fineract_lacks_is_named_and_the_others_are_enabled(tmp_path: Path, env: dict[str, str]) -> None:
    older = [t for t in KINDS if t != "LoanRepaymentOverdueBusinessEvent"]
    with FakeFineractApi(users={"mifos": FineractUser(PASSWORD)}, event_types=older) as fineract_api:
        env["HERALD_FINERACT_API_URL"] = fineract_api.url
        line = error_line(run_herald(env, "fineract", "events", "--apply", ok=False))
        assert "LoanRepaymentOverdueBusinessEvent" in line and "older" in line
        [put] = fineract_api.puts()
        assert put.body == {"externalEventConfigurations": dict.fromkeys(older, True)}
        assert all(fineract_api.events.values())


def test_an_unreachable_fineract_is_one_line(env: dict[str, str]) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env["HERALD_FINERACT_API_URL"] = f"http://127.0.0.1:{port}/fineract-provider/api/v1"
    line = error_line(run_herald(env, "fineract", "events", "--apply", ok=False))
    assert (
        line.startswith(f"Error: Cannot reach Fineract at http://127.0.0.1:{port}/")
        and "HERALD_FINERACT_API_URL" in line
    )


@pytest.fixture
def self_signed(tmp_path: Path, fineract_api: FakeFineractApi) -> str:
    """The fake's API behind a self-signed TLS certificate, as Fineract ships by default."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip("openssl cannot make a certificate here")
    return fineract_api.also_over_tls(str(cert), str(key))


def test_a_self_signed_certificate_is_one_line_naming_the_setting_that_accepts_it(
    env: dict[str, str], fineract_api: FakeFineractApi, self_signed: str
) -> None:
    env["HERALD_FINERACT_API_URL"] = self_signed
    line = error_line(run_herald(env, "fineract", "events", "--apply", ok=False))
    assert "TLS certificate is not trusted" in line and "HERALD_FINERACT_VERIFY_TLS=false" in line
    assert fineract_api.received == []

    env["HERALD_FINERACT_VERIFY_TLS"] = "false"
    run_herald(env, "fineract", "events", "--apply")
    assert all(fineract_api.events[t] for t in HERALDS)


def test_apply_without_fineracts_api_settings_says_what_to_set(env: dict[str, str]) -> None:
    del env["HERALD_FINERACT_API_URL"]
    line = error_line(run_herald(env, "fineract", "events", "--apply", ok=False))
    assert "HERALD_FINERACT_API_URL" in line and "HERALD_FINERACT_PASSWORD" in line


def test_a_campaign_name_is_listed_as_written_never_read_as_rich_markup(
    env: dict[str, str], herald_app: Herald
) -> None:
    name = "Repaid [/x] :-1: [bold]thanks"  # a campaign manager's name for it, whatever it holds
    request = {"campaignName": name, "triggerType": "triggered", "runReportId": 179, "message": "Thanks {{firstName}}"}
    created = campaigns.create(CampaignRequest.model_validate(request | {"paramValue": {"officeId": "1"}}),
                               **validating(herald_app))  # fmt: skip
    campaigns.activate(created.id, **activating(herald_app))
    env |= {"HERALD_DATABASE_URL": herald_app.settings.own_database_url,
            "HERALD_COREBANK_URL": herald_app.settings.corebank_database_url}  # fmt: skip
    out = run_herald(env, "fineract", "events").stdout
    rows = {line.split("│")[1].strip(): line.split("│")[3].strip() for line in out.splitlines() if line.count("│") >= 4}
    assert rows["LoanTransactionMakeRepaymentPostBusinessEvent"] == name
