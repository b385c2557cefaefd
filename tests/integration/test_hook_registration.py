"""`herald fineract hook --register`: the hook Fineract needs, posted to a local fake of Fineract's API."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from herald.errors import ConfigurationError, HeraldError
from herald.services.hook_registration import hook_request, payload_url, register


class _Fineract(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        auth = base64.b64encode(b"mifos:password").decode()
        if self.headers.get("Authorization") != f"Basic {auth}":
            self._answer(401, {"developerMessage": "Invalid authentication details were passed"})
            return
        _Fineract.received.append(
            {"path": self.path, "tenant": self.headers.get("Fineract-Platform-TenantId"), "body": body}
        )
        self._answer(200, {"resourceId": 3})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def fineract_api() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Fineract)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Fineract.received = []
    yield f"http://127.0.0.1:{server.server_port}/fineract-provider/api/v1"
    server.shutdown()


def test_the_hook_is_registered_with_fineracts_fields_events_and_tenant(fineract_api: str) -> None:
    url = payload_url("https://herald.mfi.example", "s3cret")
    assert url == "https://herald.mfi.example/fineract/hooks/s3cret/"
    result = register(fineract_api, "default", "mifos", "password", hook_request(url))
    assert result == {"resourceId": 3}
    [call] = _Fineract.received
    assert call["path"] == "/fineract-provider/api/v1/hooks" and call["tenant"] == "default"
    body = call["body"]
    assert (body["name"], body["isActive"]) == ("Web", True)
    assert body["config"] == {"Payload URL": url, "Content Type": "json"}
    assert {"entityName": "LOAN", "actionName": "REPAYMENT"} in body["events"]
    # Fineract's nine rules' events plus the two hooks of herald's own rules (1003 Loan Disbursed, 1005 Client
    # Created); repayment due / overdue and loan closed come only as external events.
    assert {"entityName": "LOAN", "actionName": "DISBURSE"} in body["events"]
    assert {"entityName": "CLIENT", "actionName": "CREATE"} in body["events"]
    assert len(body["events"]) == 11


def test_wrong_credentials_give_fineracts_reason(fineract_api: str) -> None:
    with pytest.raises(HeraldError, match="refused the hook \\(401\\)"):
        register(fineract_api, "default", "mifos", "wrong", hook_request("https://h.example/fineract/hooks/x/"))


def test_an_unreachable_fineract_is_named() -> None:
    with pytest.raises(HeraldError, match="Cannot reach Fineract"):
        register("http://127.0.0.1:9/api/v1", "default", "mifos", "password", {})


def test_payload_urls_fineract_cannot_store_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="at most 100"):
        payload_url("https://" + "h" * 90 + ".example", "secret")
    with pytest.raises(ConfigurationError, match="HERALD_FINERACT_HOOK_SECRET"):
        payload_url("https://h.example", None)
