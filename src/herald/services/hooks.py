"""Reading a Fineract "Web" hook request: which tenant, which entity and action, which ids, or a failed command.

Fineract posts after every write command, on success and on failure, with no signature; a failed
command's body has no `response` and must be acknowledged and ignored. The ids a triggered rule
needs come from `response` (resourceId, loanId, savingsId, clientId) per entity and action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from herald.domain import wire
from herald.errors import WebhookError

TENANT_HEADER = "fineract-platform-tenantid"


@dataclass(frozen=True)
class FineractEvent:
    """One hook call: the command that ran in Fineract and the ids it touched."""

    tenant: str
    entity: str
    action: str
    ids: dict[str, int] = field(default_factory=dict)
    at: datetime | None = None  # when it happened in Fineract (UTC), where known
    succeeded: bool = True
    dated: bool = False  # only the business date is known: `at` is that day's start in the institution's zone

    @property
    def key(self) -> str:
        """What makes this event unique (a retried hook carries the same resource ids)."""
        return f"{self.entity}/{self.action}:" + ",".join(f"{k}={v}" for k, v in sorted(self.ids.items()))


# (entity, action) -> which response field holds which injected id; resourceId is the command's own row.
_ID_FIELDS: dict[tuple[str, str], dict[str, str]] = {
    ("LOAN", "REPAYMENT"): {"loanTransactionId": "resourceId", "loanId": "loanId", "clientId": "clientId"},
    ("LOAN", "RECOVERYPAYMENT"): {"loanTransactionId": "resourceId", "loanId": "loanId", "clientId": "clientId"},
    ("LOAN", "APPROVE"): {"loanId": "resourceId", "clientId": "clientId", "groupId": "groupId"},
    ("LOAN", "REJECT"): {"loanId": "resourceId", "clientId": "clientId", "groupId": "groupId"},
    ("LOAN", "DISBURSE"): {"loanId": "resourceId", "clientId": "clientId", "groupId": "groupId"},
    ("LOAN", "DISBURSETOSAVINGS"): {"loanId": "resourceId", "clientId": "clientId", "groupId": "groupId"},
    ("LOAN", "CLOSE"): {"loanId": "resourceId", "clientId": "clientId", "groupId": "groupId"},
    ("CLIENT", "CREATE"): {"clientId": "resourceId"},
    ("CLIENT", "ACTIVATE"): {"clientId": "resourceId"},
    ("CLIENT", "REJECT"): {"clientId": "resourceId"},
    ("SAVINGSACCOUNT", "ACTIVATE"): {"savingsId": "resourceId", "clientId": "clientId"},
    ("SAVINGSACCOUNT", "REJECT"): {"savingsId": "resourceId", "clientId": "clientId"},
    ("SAVINGSACCOUNT", "DEPOSIT"): {
        "savingsTransactionId": "resourceId",
        "savingsId": "savingsId",
        "clientId": "clientId",
    },
    ("SAVINGSACCOUNT", "WITHDRAWAL"): {
        "savingsTransactionId": "resourceId",
        "savingsId": "savingsId",
        "clientId": "clientId",
    },
}


def parse_hook(headers: Mapping[str, str], body: bytes, default_tenant: str) -> FineractEvent:
    """Read a hook; WebhookError(400) for what is not Fineract's Web-template JSON."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        data: Any = wire.loads(body)
    except wire.Unreadable as exc:
        raise WebhookError(f"{exc} Configure the Fineract hook with Content Type 'json'.", status=400) from None
    if not isinstance(data, dict):
        raise WebhookError("The hook body must be a JSON object as Fineract's Web template sends.", status=400)
    entity = _name(data.get("entityName") or lowered.get("x-fineract-entity") or "", "entityName")
    action = _name(data.get("actionName") or lowered.get("x-fineract-action") or "", "actionName")
    if not entity or not action:
        raise WebhookError("The hook names no entity and action (entityName / actionName).", status=400)
    tenant = _name(lowered.get(TENANT_HEADER) or default_tenant, "the Fineract-Platform-TenantId header", upper=False)
    at = _timestamp(data.get("timestamp"))
    response = data.get("response")
    if not isinstance(response, dict) or response.get("resourceId") is None:
        return FineractEvent(tenant, entity, action, at=at, succeeded=False)
    ids: dict[str, int] = {}
    for name, source in _ID_FIELDS.get((entity, action), {"resourceId": "resourceId"}).items():
        value = response.get(source)
        if value is None and name == "clientId":
            value = data.get("clientId")
        if value is not None:
            found = wire.as_id(value)
            if found is None:
                raise WebhookError(
                    f"The hook's response.{source} is not an id (1 to {wire.BIGINT_MAX}): {value!r:.40}.", status=400
                )
            ids[name] = found
    return FineractEvent(tenant, entity, action, ids, at)


def _name(value: object, what: str, *, upper: bool = True) -> str:
    """An entity, action or tenant name: text herald can store and compare, at most 100 characters."""
    if not isinstance(value, str):
        raise WebhookError(f"The hook's {what} must be text, not {value!r:.40}.", status=400)
    problem = wire.text_problem(value, 100)
    if problem:
        raise WebhookError(f"The hook's {what} {problem}.", status=400)
    return value.upper() if upper else value


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        parsed.astimezone(UTC)  # years 1 and 9999 with an offset overflow: such a stamp is no stamp at all
    except (ValueError, OverflowError):
        return None
    return parsed
