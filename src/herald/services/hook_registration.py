"""Registering herald's hook in Fineract: the JSON of `POST /hooks`, and sending it when asked to."""

from __future__ import annotations

from typing import Any

from herald.errors import ConfigurationError, HeraldError
from herald.services.fineract_api import FineractRefused, FineractUnreachable, call_fineract

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
    try:
        result = call_fineract(
            fineract_url,
            "hooks",
            tenant=tenant,
            username=username,
            password=password,
            method="POST",
            body=body,
            verify_tls=verify_tls,
        )
    except FineractRefused as exc:
        raise HeraldError(f"Fineract refused the hook ({exc.status}): {exc.detail}") from None
    return result if isinstance(result, dict) else {}


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
    try:
        hooks = call_fineract(
            fineract_url,
            "hooks",
            tenant=tenant,
            username=username,
            password=password,
            verify_tls=verify_tls,
            timeout=timeout,
        )
    except FineractRefused as exc:
        raise HeraldError(f"Fineract refused to list its hooks ({exc.status}) at {exc.endpoint}.") from None
    except FineractUnreachable as exc:
        raise HeraldError(f"Cannot ask Fineract at {exc.endpoint}: {exc.reason}.", hint=exc.hint) from None
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
