"""Machine output says times in UTC, ISO 8601 with a Z, the same in the JSON and the CSV export."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from tests.api.conftest import materialized_campaign


def test_json_and_csv_say_the_same_utc_instant(client: TestClient, manager: dict[str, str]) -> None:
    campaign_id = int(materialized_campaign(client, manager)["id"])
    listed = client.get("/api/v1/messages", params={"campaignId": campaign_id}, headers=manager)
    assert listed.status_code == 200, listed.text
    exported = client.get("/api/v1/messages/export.csv", params={"campaignId": campaign_id}, headers=manager)
    assert exported.status_code == 200, exported.text
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows and {r["createdAt"] for r in rows} == {"2026-11-20T04:00:00Z"}  # 07:00 in Nairobi, said in UTC
    assert {m["createdAt"] for m in listed.json()["items"]} == {"2026-11-20T04:00:00Z"}
