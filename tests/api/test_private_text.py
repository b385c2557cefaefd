"""Numbers inside text reach only admins (bodies, provider texts, reasons); CSV cells never run as formulas."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from herald.app import Herald
from herald.domain.message import MessageStatus
from herald.store.tables import messages
from tests.api.conftest import Corebank, create_campaign, materialized_campaign

TWILIO_ERROR = "The 'To' number +15005550001 is not a valid phone number."
NUMBERS = ("0712345678", "+254712345678", "+15005550001", "0712 999 888")
HYPERLINK = '=HYPERLINK("http://x","y")'


def _fail_one_with_a_provider_text(herald: Herald) -> None:
    """What a Twilio refusal leaves on a message (the send path stores the provider's own words)."""
    with herald.store.begin() as conn:
        first = conn.execute(
            select(messages.c.id).where(messages.c.status == MessageStatus.PENDING).order_by(messages.c.id)
        ).scalars().first()
        conn.execute(
            update(messages)
            .where(messages.c.id == first)
            .values(status=MessageStatus.FAILED, error_code="21211", error_text=TWILIO_ERROR)
        )


def _everything(client: TestClient, headers: dict[str, str]) -> str:
    """All a caller can read about the messages: the list, each message, the CSV."""
    items = client.get("/api/v1/messages", headers=headers).json()["items"]
    details = [client.get(f"/api/v1/messages/{m['id']}", headers=headers).json() for m in items]
    exported = client.get("/api/v1/messages/export.csv", headers=headers).text
    return json.dumps(items) + json.dumps(details) + exported


def test_numbers_in_bodies_and_provider_texts_are_masked_for_everyone_but_admins(
    client: TestClient, herald: Herald, viewer: dict[str, str], manager: dict[str, str], admin: dict[str, str]
) -> None:
    message = "Hello {{firstName}}, call 0712345678 or +254712345678 (or 0712 999 888)"
    materialized_campaign(client, manager, message=message)
    _fail_one_with_a_provider_text(herald)
    for headers in (viewer, manager):
        seen = _everything(client, headers)
        for number in NUMBERS:
            assert number not in seen
        assert "call 07******78 or +2547******78 (or 07******88)" in seen
        assert "The 'To' number +1500*****01 is not a valid phone number." in seen
    seen = _everything(client, admin)
    assert message.replace("{{firstName}}", "Amina") in seen and TWILIO_ERROR in seen


def test_every_csv_cell_that_could_run_as_a_formula_opens_as_text(
    client: TestClient, herald: Herald, corebank: Corebank, manager: dict[str, str], admin: dict[str, str]
) -> None:
    corebank.builder.client("Mallory", HYPERLINK, office_id=corebank.nairobi)  # stored raw from Fineract
    materialized_campaign(client, manager, message="=1+1 {{firstName}}")
    with herald.store.begin() as conn:
        conn.execute(update(messages).where(messages.c.status == MessageStatus.INVALID).values(error_text="@SUM(1)"))
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/messages/export.csv", headers=admin).text)))
    assert {r["mobileNo"] for r in rows if r["mobileNo"].startswith("'=")} == {"'" + HYPERLINK}
    assert {r["body"] for r in rows} == {"'=1+1 Amina", "'=1+1 Baraka", "'=1+1 Chebet", "'=1+1 Mallory"}
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row


def test_numbers_in_preview_samples_are_masked_for_everyone_but_admins(
    client: TestClient, manager: dict[str, str], admin: dict[str, str]
) -> None:
    """A preview shows rendered bodies too: a number in the template (or a client's name) is masked there."""
    message = "Hello {{firstName}}, call 0712345678 or +254712345678"
    campaign = create_campaign(client, manager, message=message)
    managers = client.post(f"/api/v1/campaigns/{campaign['id']}/preview", headers=manager)
    assert managers.status_code == 200, managers.text
    bodies = [s["body"] for s in managers.json()["samples"]]
    assert bodies and all("call 07******78 or +2547******78" in b for b in bodies)
    assert "0712345678" not in managers.text and "+254712345678" not in managers.text
    admins = client.post(f"/api/v1/campaigns/{campaign['id']}/preview", headers=admin).json()
    assert all("call 0712345678 or +254712345678" in s["body"] for s in admins["samples"])
