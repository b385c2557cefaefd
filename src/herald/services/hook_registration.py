"""Registering herald's hook in Fineract: the JSON of `POST /hooks`, and sending it when asked to."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from typing import Any

from herald.errors import ConfigurationError, HeraldError

HOOK_EVENTS: tuple[tuple[str, str], ...] = (
    ("LOAN", "REPAYMENT"),
    ("LOAN", "APPROVE"),
    ("LOAN", "REJECT"),
    ("LOAN", "DISBURSE"),
    ("CLIENT", "CREATE"),
    ("CLIENT", "ACTIVATE"),
    ("CLIENT", "REJECT"),
    ("SAVINGSACCOUNT", "ACTIVATE"),
    ("SAVINGSACCOUNT", "REJECT"),
    ("SAVINGSACCOUNT", "DEPOSIT"),
    ("SAVINGSACCOUNT", "WITHDRAWAL"),
)
"""The (entity, action) hook pairs the triggered rules listen to: Fineract's nine and herald's Loan Disbursed and
Client Created. Repayment due / overdue and loan closed come only as external events (no hook reports them)."""

MAX_PAYLOAD_URL = 100  # Fineract stores the Payload URL in a VARCHAR(100)


def payload_url(public_url: str | None, secret: str | None) -> str:
    if not public_url:
        raise ConfigurationError("Set HERALD_PUBLIC_URL to the address Fineract can reach herald at.")
    if not secret:
        raise ConfigurationError("Set HERALD_FINERACT_HOOK_SECRET: Fineract signs nothing, the URL's secret guards it.")
    # Fineract needs the trailing slash on a Payload URL with a path (FINERACT-2931).
    url = f"{public_url.rstrip('/')}/fineract/hooks/{secret}/"
    if len(url) > MAX_PAYLOAD_URL:
        raise ConfigurationError(
            f"The hook URL is {len(url)} characters; Fineract keeps at most {MAX_PAYLOAD_URL}.",
            hint="Use a shorter HERALD_PUBLIC_URL or hook secret.",
        )
    return url


def hook_request(url: str, name: str = "herald") -> dict[str, Any]:
    """The body of Fineract's `POST /hooks` for a Web hook that sends JSON to herald."""
    return {
        "name": "Web",
        "displayName": name,
        "isActive": True,
        "events": [{"entityName": e, "actionName": a} for e, a in HOOK_EVENTS],
        "config": {"Payload URL": url, "Content Type": "json"},
    }


def register(
    fineract_url: str, tenant: str, username: str, password: str, body: dict[str, Any], verify_tls: bool = True
) -> dict[str, Any]:
    """POST the hook to Fineract's API; Fineract calls herald's URL with GET before it accepts it."""
    endpoint = fineract_url.rstrip("/") + "/hooks"
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    request = urllib.request.Request(
        endpoint,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Fineract-Platform-TenantId": tenant,
            "Authorization": f"Basic {token}",
        },
    )
    context = None if verify_tls else ssl._create_unverified_context()  # Fineract ships a self-signed certificate
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as answer:
            result: dict[str, Any] = json.loads(answer.read() or b"{}")
            return result
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:500]
        raise HeraldError(f"Fineract refused the hook ({exc.code}): {detail}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise HeraldError(f"Cannot reach Fineract at {endpoint}: {getattr(exc, 'reason', exc)}.") from None


def registered_events(
    fineract_url: str,
    tenant: str,
    username: str,
    password: str,
    url: str,
    *,
    verify_tls: bool = True,
    timeout: float = 4.0,
) -> set[tuple[str, str]]:
    """The (entity, action) events an active Fineract hook sends to `url`, read with `GET /hooks`."""
    endpoint = fineract_url.rstrip("/") + "/hooks"
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    request = urllib.request.Request(
        endpoint, headers={"Fineract-Platform-TenantId": tenant, "Authorization": f"Basic {token}"}
    )
    context = None if verify_tls else ssl._create_unverified_context()
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:
            hooks: Any = json.loads(answer.read() or b"[]")
    except urllib.error.HTTPError as exc:
        raise HeraldError(f"Fineract refused to list its hooks ({exc.code}) at {endpoint}.") from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise HeraldError(f"Cannot ask Fineract at {endpoint}: {getattr(exc, 'reason', exc)}.") from None
    found: set[tuple[str, str]] = set()
    for hook in hooks if isinstance(hooks, list) else []:
        config = {c.get("fieldName"): c.get("fieldValue") for c in hook.get("config") or [] if isinstance(c, dict)}
        if not hook.get("isActive") or str(config.get("Payload URL", "")).rstrip("/") != url.rstrip("/"):
            continue
        found |= {
            (str(e.get("entityName", "")).upper(), str(e.get("actionName", "")).upper())
            for e in hook.get("events") or []
            if isinstance(e, dict)
        }
    return found
