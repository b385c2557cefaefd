"""One call to Fineract's REST API (basic auth, tenant header), its failures turned into herald's errors.

Used to register and read herald's hook (`hook_registration`) and to enable Fineract's external
events (`event_setup`). The password goes into the Authorization header only: no message says it.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from typing import Any

from herald.errors import HeraldError


class FineractRefused(HeraldError):
    """Fineract answered with an HTTP error; `status` is its code, `detail` its own sentence (or body)."""

    def __init__(self, endpoint: str, status: int, detail: str) -> None:
        super().__init__(f"Fineract refused {endpoint} ({status}): {detail}")
        self.endpoint = endpoint
        self.status = status
        self.detail = detail


class FineractUnreachable(HeraldError):
    """No answer from Fineract: connection refused, no such host, a timeout, a TLS handshake that failed."""

    def __init__(self, endpoint: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"Cannot reach Fineract at {endpoint}: {reason}.", hint=hint)
        self.endpoint = endpoint
        self.reason = reason


def endpoint_of(api_url: str, path: str) -> str:
    return api_url.rstrip("/") + "/" + path.lstrip("/")


def _detail(raw: bytes) -> str:
    """Fineract's own sentence from an error body ({"defaultUserMessage": ...}), else the start of the body."""
    text = raw.decode(errors="replace")
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        errors = body.get("errors")
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        for said in (first.get("defaultUserMessage"), body.get("defaultUserMessage"), body.get("developerMessage")):
            if isinstance(said, str) and said.strip():
                return " ".join(said.split())[:300]
    return " ".join(text.split())[:500] or "no reason given"


def call_fineract(
    api_url: str,
    path: str,
    *,
    tenant: str,
    username: str,
    password: str,
    method: str = "GET",
    body: Any = None,
    verify_tls: bool = True,
    timeout: float = 30.0,
) -> Any:
    """The JSON Fineract answers to `method path`; FineractRefused or FineractUnreachable when it does not."""
    endpoint = endpoint_of(api_url, path)
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    headers = {"Fineract-Platform-TenantId": tenant, "Authorization": f"Basic {token}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        request = urllib.request.Request(endpoint, data=data, method=method, headers=headers)
    except ValueError:  # not an http(s) URL at all
        raise FineractUnreachable(
            endpoint, "not an http(s) URL", hint="Set the API base like https://host:8443/fineract-provider/api/v1."
        ) from None
    context = None if verify_tls else ssl._create_unverified_context()  # Fineract ships a self-signed certificate
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:
            raw = answer.read()
    except urllib.error.HTTPError as exc:
        raise FineractRefused(endpoint, exc.code, _detail(exc.read())) from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise FineractUnreachable(
                endpoint,
                f"its TLS certificate is not trusted ({reason.verify_message})",
                hint="For Fineract's self-signed certificate set HERALD_FINERACT_VERIFY_TLS=false, "
                "or install the certificate's authority on this machine.",
            ) from None
        if isinstance(reason, ssl.SSLError):
            raise FineractUnreachable(
                endpoint,
                f"the TLS handshake failed ({reason.reason or reason})",
                hint="Check that the URL's scheme (http or https) and port match Fineract's.",
            ) from None
        raise FineractUnreachable(endpoint, str(reason)) from None
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise FineractUnreachable(
            endpoint,
            "the answer is not JSON",
            hint="Is it Fineract's API base, like https://host:8443/fineract-provider/api/v1?",
        ) from None
