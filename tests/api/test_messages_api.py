"""REST messages: filters, pages with a total, one message, and the CSV export with numbers masked for non-admins."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Corebank, assert_error, materialized_campaign


@pytest.fixture
def campaign_id(client: TestClient, manager: dict[str, str]) -> int:
    return int(materialized_campaign(client, manager)["id"])


def _ids(client: TestClient, headers: dict[str, str], **params: object) -> list[int]:
    response = client.get("/api/v1/messages", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["items"]]


def test_messages_are_filtered_by_status_campaign_client_office_and_day(
    client: TestClient, viewer: dict[str, str], campaign_id: int, corebank: Corebank
) -> None:
    assert len(_ids(client, viewer)) == 3
    assert len(_ids(client, viewer, status="pending")) == 2
    assert len(_ids(client, viewer, status="0")) == 1
    assert len(_ids(client, viewer, status="Invalid")) == 1
    assert _ids(client, viewer, status="delivered") == []
    assert len(_ids(client, viewer, campaignId=campaign_id)) == 3
    assert _ids(client, viewer, campaignId=campaign_id + 1) == []
    assert len(_ids(client, viewer, clientId=corebank.clients[0])) == 1
    assert len(_ids(client, viewer, officeId=corebank.westlands)) == 2
    assert len(_ids(client, viewer, **{"from": "2026-11-20", "to": "2026-11-20"})) == 3
    assert _ids(client, viewer, **{"from": "2026-11-21"}) == []
    assert _ids(client, viewer, to="2026-11-19") == []


def test_pages_carry_the_total_of_all_matches(client: TestClient, viewer: dict[str, str], campaign_id: int) -> None:
    page = client.get("/api/v1/messages", params={"limit": 2, "offset": 2}, headers=viewer).json()
    assert page["total"] == 3 and page["limit"] == 2 and page["offset"] == 2 and len(page["items"]) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"offset": -1}, "offset"),
        ({"campaignId": "x"}, "campaignId"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-11-21", "to": "2026-11-20"}, "from"),
    ],
)
def test_a_bad_filter_is_refused_with_its_name(
    client: TestClient, viewer: dict[str, str], params: dict[str, object], field: str
) -> None:
    assert_error(client.get("/api/v1/messages", params=params, headers=viewer), 422, "validation_error", field)


def test_numbers_are_masked_for_everyone_but_admins(
    client: TestClient, viewer: dict[str, str], manager: dict[str, str], admin: dict[str, str], campaign_id: int
) -> None:
    def numbers(headers: dict[str, str]) -> set[str | None]:
        return {m["mobileNo"] for m in client.get("/api/v1/messages", headers=headers).json()["items"]}

    assert numbers(viewer) == numbers(manager) == {"+2547******78", None}
    assert numbers(admin) == {"+254712345678", "+254722345678", None}


def test_one_message_is_found_by_id_or_not_found(client: TestClient, viewer: dict[str, str], campaign_id: int) -> None:
    first = _ids(client, viewer)[0]
    message = client.get(f"/api/v1/messages/{first}", headers=viewer).json()
    assert message["campaignId"] == campaign_id and message["status"] == {"code": 100, "label": "Pending"}
    assert_error(client.get("/api/v1/messages/999", headers=viewer), 404, "not_found")


def _csv(client: TestClient, headers: dict[str, str], **params: object) -> list[dict[str, str]]:
    response = client.get("/api/v1/messages/export.csv", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


def test_the_csv_export_streams_the_filtered_messages_masked_unless_admin(
    client: TestClient, viewer: dict[str, str], admin: dict[str, str], campaign_id: int
) -> None:
    rows = _csv(client, viewer, status="pending")
    # A leading "+" would make a spreadsheet read the cell as a formula: it is opened as text.
    assert len(rows) == 2 and {r["mobileNo"] for r in rows} == {"'+2547******78"}
    assert {r["status"] for r in rows} == {"Pending"} and {r["body"] for r in rows} == {"Hello Amina", "Hello Baraka"}
    assert {r["mobileNo"] for r in _csv(client, admin, status="pending")} == {"'+254712345678", "'+254722345678"}
    assert _csv(client, viewer, status="failed") == []


def test_the_csv_export_refuses_a_bad_filter(client: TestClient, viewer: dict[str, str]) -> None:
    assert_error(
        client.get("/api/v1/messages/export.csv?status=lost", headers=viewer), 422, "validation_error", "status"
    )
