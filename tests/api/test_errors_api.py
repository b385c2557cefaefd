"""The one error shape: unknown routes, wrong methods, malformed bodies and crashes answer alike, never a trace."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from herald.app import Herald
from herald.errors import CoreBankError
from herald.server import create_app
from tests.api.conftest import assert_error


def test_an_unknown_route_and_a_wrong_method_answer_in_the_error_shape(
    client: TestClient, viewer: dict[str, str]
) -> None:
    assert_error(client.get("/api/v1/nothing-here", headers=viewer), 404, "not_found")
    assert_error(client.patch("/api/v1/campaigns", headers=viewer), 405, "method_not_allowed")


def test_every_answer_carries_a_request_id(client: TestClient, viewer: dict[str, str]) -> None:
    first = client.get("/api/v1/me", headers=viewer).headers["X-Request-ID"]
    second = client.get("/api/v1/me").headers["X-Request-ID"]
    assert first and second and first != second


def test_a_crash_is_logged_with_its_request_id_and_answered_without_a_trace(
    herald: Herald, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(herald)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/boom")
    error = assert_error(response, 500, "internal_error")
    request_id = response.headers["X-Request-ID"]
    assert request_id in error["message"] and "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert any(request_id in r.getMessage() for r in caplog.records)


def test_an_unreadable_core_bank_answers_503_in_the_error_shape(herald: Herald) -> None:
    app = create_app(herald)

    @app.get("/api/v1/corebank-down")
    def down() -> None:
        raise CoreBankError("cannot read the core-banking database")

    with TestClient(app) as client:
        assert_error(client.get("/api/v1/corebank-down"), 503, "corebank_unavailable")


def test_the_openapi_spec_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/campaigns" in spec["paths"] and "HTTPBearer" in spec["components"]["securitySchemes"]
    campaign = spec["components"]["schemas"]["CampaignRequest"]["properties"]
    assert {"campaignName", "triggerType", "runReportId", "paramValue", "recurrenceStartDate"} <= set(campaign)
    assert client.get("/docs").status_code == 200
