"""herald as Fineract's message gateway: the outbound SMS contract and the delivery-report poll.

An unchanged Fineract POSTs its campaign messages to `{end_point}/sms` and polls their statuses
at `{end_point}/sms/report`. herald files them under one internal campaign per tenant, keyed on
Fineract's internal message id, so a message Fineract sends twice (its own duplicate defect) goes
out once, through herald's providers with retries, failover and reports.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from herald.clock import Clock
from herald.config import Settings
from herald.corebank.engines import CoreBanks
from herald.domain import wire
from herald.domain.campaign import Campaign, CampaignStatus, TriggerType
from herald.domain.compose import recipient
from herald.domain.message import COUNTED_AS_FAILED, MessageStatus
from herald.domain.segments import Alphabet, count_segments
from herald.domain.senders import parse_sender
from herald.errors import WebhookError
from herald.rules.catalog import GATEWAY_RULE
from herald.store import campaign_messages, optouts
from herald.store import campaigns as campaign_store
from herald.store import messages as message_store

TENANT_HEADER = "fineract-platform-tenantid"
APP_KEY_HEADER = "fineract-tenant-app-key"
_NUMBER_LIMIT = 50  # messages.mobile_no; no phone number is longer


@dataclass(frozen=True)
class GatewaySettings:
    """What the drop-in gateway takes from the settings: the provider per Fineract providerId, the phone region."""

    provider: str
    default_region: str
    provider_map: Mapping[str, str] = field(default_factory=dict)
    sender_ids: Mapping[str, str] = field(default_factory=dict)  # per tenant; absent: the provider's own sender
    alphabets: Mapping[str, Alphabet] = field(default_factory=dict)  # per provider, where not GSM-7 (Providers)

    @classmethod
    def of(cls, settings: Settings, alphabets: Mapping[str, Alphabet] | None = None) -> GatewaySettings:
        return cls(
            provider=settings.gateway_provider,
            default_region=settings.default_region,
            provider_map=dict(settings.gateway_provider_map),
            sender_ids=_sender_ids(settings.gateway_sender_id_map),
            alphabets=dict(alphabets or {}),
        )


def _sender_ids(configured: Mapping[str, str]) -> dict[str, str]:
    """Each tenant's sender id as the providers receive it (" +256 700 000001 " -> "+256700000001")."""
    parsed = {tenant: parse_sender(text) for tenant, text in configured.items()}
    return {tenant: sender.text for tenant, sender in parsed.items() if sender is not None}


@dataclass(frozen=True)
class GatewayMessage:
    internal_id: int
    mobile_number: str | None
    message: str
    provider_id: int | None


def authenticate(headers: Mapping[str, str], *, app_keys: Mapping[str, str], corebanks: CoreBanks) -> str:
    """The tenant of a gateway call whose app key matches; WebhookError(401/403) otherwise."""
    lowered = {k.lower(): v for k, v in headers.items()}
    tenant = lowered.get(TENANT_HEADER)
    key = lowered.get(APP_KEY_HEADER)
    if not tenant or not key:
        raise WebhookError("Fineract-Platform-TenantId and Fineract-Tenant-App-Key headers are required.", status=401)
    expected = app_keys.get(tenant)
    if expected is None or not hmac.compare_digest(expected.encode(), key.encode()):
        raise WebhookError(f"The app key of tenant {tenant!r} is not valid.", status=403)
    if tenant not in corebanks:
        raise WebhookError(
            f"Tenant {tenant!r} has an app key but no core-banking database (HERALD_TENANTS).", status=403
        )
    return tenant


def parse_send(body: bytes) -> list[GatewayMessage]:
    """Fineract's send body: a JSON array of {internalId, mobileNumber, message, providerId}."""
    data = _json(body)
    if not isinstance(data, list):
        raise WebhookError("The body must be a JSON array of messages.", status=400)
    out = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("message"), str):
            raise WebhookError(f"Message {index} needs a text 'message'.", status=400)
        internal = item.get("internalId")
        if not isinstance(internal, int) or wire.as_id(internal) is None:
            raise WebhookError(
                f"Message {index} needs a numeric 'internalId' from 1 to {wire.BIGINT_MAX}, not {internal!r:.40}.",
                status=400,
            )
        number = item.get("mobileNumber")
        if number is not None and not isinstance(number, str):
            raise WebhookError(
                f"Message {index}: 'mobileNumber' must be text such as \"+254712345678\", not {number!r:.40}.",
                status=400,
            )
        for name, value, limit in (("mobileNumber", number or "", _NUMBER_LIMIT), ("message", item["message"], None)):
            problem = wire.text_problem(value, limit)
            if problem:
                raise WebhookError(f"Message {index}: '{name}' {problem}.", status=400)
        provider = item.get("providerId")
        out.append(
            GatewayMessage(
                internal,
                number or None,
                item["message"],
                provider if isinstance(provider, int) and not isinstance(provider, bool) else None,
            )
        )
    return out


def parse_report(body: bytes) -> list[int]:
    """Fineract's report poll: a JSON array of internal ids (objects with internalId are accepted too)."""
    data = _json(body)
    if not isinstance(data, list):
        raise WebhookError("The body must be a JSON array of internal message ids.", status=400)
    ids = []
    for item in data:
        value = item.get("internalId", item.get("id")) if isinstance(item, dict) else item
        if not isinstance(value, int) or wire.as_id(value) is None:
            raise WebhookError(f"{item!r:.60} is not an internal message id (1 to {wire.BIGINT_MAX}).", status=400)
        ids.append(value)
    return ids


def _json(body: bytes) -> Any:
    try:
        return wire.loads(body)
    except wire.Unreadable as exc:
        raise WebhookError(str(exc), status=400) from None


def campaign_for(conn: Connection, tenant: str, *, provider: str, sender_id: str | None, now: datetime) -> int:
    """The tenant's internal gateway campaign, created (active) on first use; its sender id follows the settings."""
    name = f"Fineract message gateway ({tenant})"
    found = campaign_store.by_name(conn, name)
    if found is not None:
        if found.sender_id != sender_id:
            campaign_store.replace_chosen(conn, found.id, replace(found, sender_id=sender_id))
        return found.id
    campaign = Campaign(
        name=name,
        tenant=tenant,
        trigger_type=TriggerType.GATEWAY,
        rule=GATEWAY_RULE,
        template="(rendered by Fineract)",
        provider=provider,
        sender_id=sender_id,
        status=CampaignStatus.ACTIVE,
    )
    return campaign_store.add(conn, campaign, now=now)


def accept(
    tenant: str, batch: Sequence[GatewayMessage], *, store: Engine, clock: Clock, settings: GatewaySettings
) -> dict[str, int]:
    """Store Fineract's messages as PENDING (or INVALID with a reason); the worker sends them."""
    now = clock.now()
    with store.begin() as conn:
        blocked = optouts.all_numbers(conn)
        cid = campaign_for(conn, tenant, provider=settings.provider, sender_id=settings.sender_ids.get(tenant), now=now)
        rows = []
        invalid = 0
        for m in batch:
            status, number, reason = recipient(m.mobile_number, settings.default_region, blocked)
            provider = settings.provider_map.get(str(m.provider_id), settings.provider)
            info = count_segments(m.message, settings.alphabets.get(provider, Alphabet.GSM7))
            invalid += status is MessageStatus.INVALID
            rows.append(
                (
                    cid,
                    f"fineract_message:{m.internal_id}",
                    None,
                    None,
                    number,
                    m.message,
                    int(status),
                    reason,
                    info.encoding.value,
                    info.segments,
                    provider,
                    0,
                    now,
                    now,
                    None,  # Fineract wrote the text: herald chose no language
                )
            )
        created = message_store.insert_new(conn, rows)
    return {"received": len(batch), "created": created, "duplicates": len(batch) - created, "invalid": invalid}


# Fineract's report job polls only messages it holds as 150, so "sent, not yet delivered" stays 150
# for Fineract: it keeps asking until herald knows the final outcome.
_FINERACT_STATUS = {
    MessageStatus.INVALID: MessageStatus.FAILED,
    MessageStatus.PENDING: MessageStatus.PENDING,
    MessageStatus.WAITING_FOR_DELIVERY_REPORT: MessageStatus.WAITING_FOR_DELIVERY_REPORT,
    MessageStatus.SENT: MessageStatus.WAITING_FOR_DELIVERY_REPORT,
    MessageStatus.DELIVERED: MessageStatus.DELIVERED,
    MessageStatus.FAILED: MessageStatus.FAILED,
}


def report(
    tenant: str, internal_ids: Sequence[int], *, store: Engine, clock: Clock, settings: GatewaySettings
) -> list[dict[str, Any]]:
    """The statuses of Fineract's messages, in Fineract's report shape; unknown ids are left out."""
    keys = {f"fineract_message:{i}": i for i in internal_ids}
    with store.begin() as conn:
        cid = campaign_for(
            conn, tenant, provider=settings.provider, sender_id=settings.sender_ids.get(tenant), now=clock.now()
        )
        found = campaign_messages.by_keys(conn, cid, list(keys))
    out = []
    for m in found:
        error = m.reason if m.status is MessageStatus.INVALID else m.error_text
        out.append(
            {
                "id": keys[m.dedup_key],
                "externalId": m.external_id,
                "addedOnDate": _stamp(m.created_at),
                "deliveredOnDate": _stamp(m.delivered_at),
                "deliveryStatus": int(_FINERACT_STATUS[m.status]),
                "hasError": m.status in COUNTED_AS_FAILED,
                "errorMessage": (f"{m.error_code} {error}" if m.error_code else error) if error else None,
            }
        )
    return sorted(out, key=lambda item: item["id"])


def _stamp(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S") if value else None
