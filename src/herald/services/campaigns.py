"""The campaign service: create, edit, preview and move campaigns through their lifecycle.

Requests use Fineract's field names (campaignName, triggerType, runReportId, paramValue, message,
providerId, recurrence, recurrenceStartDate) so Mifos users and scripts recognise them. Every
refusal is a herald error that names the field and says how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, Row, delete, insert, select, update

from herald.app import Herald
from herald.domain import campaign as lifecycle
from herald.domain import wire
from herald.domain.campaign import CampaignAction, CampaignStatus, TriggerType
from herald.domain.schedule import Recurrence
from herald.domain.templates import Template
from herald.errors import LifecycleError, NotFoundError, UnknownRuleError, ValidationError
from herald.rules.catalog import BusinessRule, get_rule, validate_parameters
from herald.services import audit
from herald.services.audit import SYSTEM, Actor
from herald.store.tables import campaigns, messages


class CampaignRequest(BaseModel):
    """A create or edit request, in Fineract's words."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    campaign_name: str = Field(alias="campaignName", min_length=1, max_length=100)
    trigger_type: str | int = Field(alias="triggerType")
    run_report_id: str | int = Field(alias="runReportId")
    param_value: dict[str, Any] = Field(default_factory=dict, alias="paramValue")
    message: str
    provider_id: str = Field("simulator", alias="providerId")
    fallback_provider_id: str | None = Field(None, alias="fallbackProviderId")
    recurrence: str | None = None
    recurrence_start_date: str | datetime | None = Field(None, alias="recurrenceStartDate")
    timezone: str | None = None
    tenant_id: str | None = Field(None, alias="tenantId")

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        """Text herald keeps must be valid Unicode without NUL (PostgreSQL refuses both; SQLite would keep them)."""
        if isinstance(value, str) and (problem := wire.text_problem(value)):
            raise ValueError(f"the text {problem}")
        return value


@dataclass(frozen=True)
class Campaign:
    """A stored campaign as the service hands it out."""

    id: int
    name: str
    tenant: str
    trigger_type: TriggerType
    rule: BusinessRule
    params: dict[str, int]
    template: str
    provider: str
    fallback_provider: str | None
    status: CampaignStatus
    recurrence: Recurrence | None
    next_trigger_at: datetime | None
    last_trigger_at: datetime | None
    activation_count: int

    @classmethod
    def from_row(cls, row: Row[Any]) -> Campaign:
        recurrence = None
        if row.recurrence:
            recurrence = Recurrence.parse(row.recurrence, row.recurrence_start, row.timezone)
        return cls(
            id=row.id,
            name=row.name,
            tenant=row.tenant,
            trigger_type=TriggerType(row.trigger_type),
            rule=_rule_of(row),
            params=dict(row.params),
            template=row.template,
            provider=row.provider,
            fallback_provider=row.fallback_provider,
            status=CampaignStatus(row.status),
            recurrence=recurrence,
            next_trigger_at=row.next_trigger_at,
            last_trigger_at=row.last_trigger_at,
            activation_count=row.activation_count,
        )

    @property
    def timezone(self) -> str | None:
        return self.recurrence.timezone if self.recurrence else None


def _rule_of(row: Row[Any]) -> BusinessRule:
    if row.trigger_type == TriggerType.GATEWAY:
        from herald.services.gateway import GATEWAY_RULE

        return GATEWAY_RULE
    return get_rule(row.rule_id)


def _validated(herald: Herald, request: CampaignRequest) -> dict[str, Any]:
    """Check a request completely; return the row values to store."""
    trigger = TriggerType.parse(request.trigger_type)
    tenant = request.tenant_id or herald.settings.tenant
    if tenant not in herald.corebanks:
        raise ValidationError(
            f"Unknown tenant {tenant!r}; configured tenants: {', '.join(sorted(herald.corebanks))}.", field="tenantId"
        )
    rule = get_rule(request.run_report_id)
    if rule.triggered != (trigger is TriggerType.TRIGGERED):
        kind = "a Triggered" if rule.triggered else "a Direct or Scheduled"
        raise UnknownRuleError(
            f'Rule {rule.id} "{rule.name}" is for {kind} campaign, not a {trigger.name.capitalize()} one.',
            field="runReportId",
            hint="`herald rules list` shows which rules each trigger type takes.",
        )
    params = validate_parameters(rule, request.param_value)
    _check_office(herald, tenant, params)
    template = Template.parse(request.message)
    template.check_variables(rule.variables, rule=rule.name)
    if request.provider_id not in herald.providers:
        raise ValidationError(
            f"Unknown provider {request.provider_id!r}; choose one of: {', '.join(sorted(herald.providers))}.",
            field="providerId",
        )
    fallback = request.fallback_provider_id or None
    if fallback is not None and (fallback not in herald.providers or fallback == request.provider_id):
        raise ValidationError(
            f"Fallback provider {fallback!r} must be another configured provider: "
            f"{', '.join(sorted(p for p in herald.providers if p != request.provider_id))}.",
            field="fallbackProviderId",
        )
    values: dict[str, Any] = {
        "name": request.campaign_name.strip(),
        "tenant": tenant,
        "trigger_type": trigger,
        "rule_id": rule.id,
        "params": params,
        "template": request.message,
        "provider": request.provider_id,
        "fallback_provider": fallback,
        "recurrence": None,
        "recurrence_start": None,
        "timezone": None,
    }
    if trigger is TriggerType.SCHEDULE:
        if not request.recurrence:
            raise ValidationError(
                "A Scheduled campaign needs a recurrence, e.g. FREQ=DAILY;BYHOUR=8.", field="recurrence"
            )
        start = request.recurrence_start_date or herald.clock.now().strftime("%Y-%m-%dT%H:%M")
        recurrence = Recurrence.parse(request.recurrence, start, request.timezone or herald.settings.timezone)
        values.update(recurrence=recurrence.rule, recurrence_start=recurrence.start, timezone=recurrence.timezone)
    elif request.recurrence:
        raise ValidationError(
            "Only Scheduled campaigns take a recurrence; a Direct campaign runs once when activated.",
            field="recurrence",
        )
    return values


_REQUEST_NAMES = {
    "name": "campaignName",
    "tenant": "tenantId",
    "trigger_type": "triggerType",
    "rule_id": "runReportId",
    "params": "paramValue",
    "template": "message",
    "provider": "providerId",
    "fallback_provider": "fallbackProviderId",
    "recurrence_start": "recurrenceStartDate",
}
"""Column -> the request field people know, for the audit log's list of what an edit changed."""


def _check_office(herald: Herald, tenant: str, params: dict[str, int]) -> None:
    if params.get("officeId", -1) < 0:  # absent, or -1 = every office (triggered rules)
        return
    from herald.corebank.schema import m_office

    with herald.corebank_for(tenant).connect() as conn:
        found = conn.execute(select(m_office.c.id).where(m_office.c.id == params["officeId"])).first()
    if found is None:
        raise ValidationError(
            f"Office {params['officeId']} does not exist in the core-banking database.",
            field="paramValue.officeId",
            hint="`herald offices list` shows the offices.",
        )


def _name_is_free(conn: Connection, name: str, except_id: int | None = None) -> None:
    query = select(campaigns.c.id).where(campaigns.c.name == name)
    if except_id is not None:
        query = query.where(campaigns.c.id != except_id)
    if conn.execute(query).first() is not None:
        raise ValidationError(f'A campaign named "{name}" already exists; choose another name.', field="campaignName")


def draft(herald: Herald, request: CampaignRequest) -> Campaign:
    """An unsaved campaign from a request, checked exactly as create() checks it (id 0): what a
    form previews while it is being filled in. Nothing is stored."""
    values = _validated(herald, request)
    recurrence = None
    if values["recurrence"]:
        recurrence = Recurrence.parse(values["recurrence"], values["recurrence_start"], values["timezone"])
    return Campaign(
        id=0,
        name=values["name"],
        tenant=values["tenant"],
        trigger_type=TriggerType(values["trigger_type"]),
        rule=get_rule(values["rule_id"]),
        params=values["params"],
        template=values["template"],
        provider=values["provider"],
        fallback_provider=values["fallback_provider"],
        status=CampaignStatus.PENDING,
        recurrence=recurrence,
        next_trigger_at=None,
        last_trigger_at=None,
        activation_count=0,
    )


def create(herald: Herald, request: CampaignRequest, actor: Actor = SYSTEM) -> Campaign:
    values = _validated(herald, request)
    now = herald.clock.now()
    with herald.store.begin() as conn:
        _name_is_free(conn, values["name"])
        new_id = conn.execute(
            insert(campaigns).values(**values, status=CampaignStatus.PENDING, created_at=now)
        ).inserted_primary_key
        assert new_id is not None
        detail = {"id": int(new_id[0]), "triggerType": int(values["trigger_type"]), "runReportId": values["rule_id"]}
        audit.record(conn, actor, "campaign.create", now, target=values["name"], tenant=values["tenant"], detail=detail)
    return get(herald, int(new_id[0]))


def edit(herald: Herald, campaign_id: int, request: CampaignRequest, actor: Actor = SYSTEM) -> Campaign:
    current = get(herald, campaign_id)
    if current.trigger_type is TriggerType.GATEWAY:
        raise LifecycleError(
            f'"{current.name}" holds the messages Fineract sends through herald; herald manages it, '
            "so it cannot be edited (close it to pause the gateway)."
        )
    lifecycle.apply(current.status, CampaignAction.EDIT, name=current.name)
    values = _validated(herald, request)
    with herald.store.begin() as conn:
        _name_is_free(conn, values["name"], except_id=campaign_id)
        before = _row(conn, campaign_id)._mapping
        changed = sorted(_REQUEST_NAMES.get(k, k) for k, v in values.items() if before[k] != v)
        conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(**values))
        audit.record(
            conn,
            actor,
            "campaign.edit",
            herald.clock.now(),
            target=values["name"],
            tenant=values["tenant"],
            detail={"id": campaign_id, "changed": changed}
            | ({"was": current.name} if "campaignName" in changed else {}),
        )
    return get(herald, campaign_id)


def get(herald: Herald, campaign_id_or_name: int | str) -> Campaign:
    with herald.store.connect() as conn:
        return Campaign.from_row(_row(conn, campaign_id_or_name))


def _row(conn: Connection, key: int | str) -> Row[Any]:
    query = select(campaigns)
    if isinstance(key, int) or str(key).isdigit():
        query = query.where(campaigns.c.id == int(key))
    else:
        query = query.where(campaigns.c.name == key)
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"No campaign {key!r}.", hint="`herald campaigns list` shows them.")
    return row


def list_all(herald: Herald) -> list[Campaign]:
    with herald.store.connect() as conn:
        return [Campaign.from_row(r) for r in conn.execute(select(campaigns).order_by(campaigns.c.id))]


def _transition(
    herald: Herald, campaign_id: int, action: CampaignAction, actor: Actor, detail: dict[str, Any] | None = None
) -> Campaign:
    now = herald.clock.now()
    with herald.store.begin() as conn:
        row = _row(conn, campaign_id)
        current = Campaign.from_row(row)
        new_status = lifecycle.apply(current.status, action, name=current.name)
        values: dict[str, Any] = {"status": new_status}
        if action in (CampaignAction.ACTIVATE, CampaignAction.REACTIVATE):
            values.update(activated_at=now, closed_at=None, activation_count=current.activation_count + 1)
            if current.trigger_type is TriggerType.DIRECT:
                values["next_trigger_at"] = now  # the worker materializes it at once
            elif current.recurrence is not None:
                # Occurrences before (re)activation are not owed; the first one is the next one.
                values["last_trigger_at"] = max(now, current.last_trigger_at or now)
                values["next_trigger_at"] = current.recurrence.next_after(values["last_trigger_at"])
        if action is CampaignAction.CLOSE:
            values.update(closed_at=now, next_trigger_at=None)
        conn.execute(
            update(campaigns)
            .where(campaigns.c.id == campaign_id, campaigns.c.status == current.status)
            .values(**values)
        )
        audit.record(
            conn,
            actor,
            f"campaign.{action.name.lower()}",
            now,
            target=current.name,
            tenant=current.tenant,
            detail={"id": campaign_id} | (detail or {}),
        )
    return get(herald, campaign_id)


def _estimate(herald: Herald, campaign_id: int, action: CampaignAction) -> dict[str, Any]:
    """What an activation commits to, for the audit log: audience size and estimated cost (Direct and Scheduled)."""
    from herald.errors import HeraldError
    from herald.services.preview import preview

    campaign = get(herald, campaign_id)
    lifecycle.apply(campaign.status, action, name=campaign.name)  # refuse before counting anybody
    if campaign.trigger_type not in (TriggerType.DIRECT, TriggerType.SCHEDULE):
        return {"audience": None}  # whoever the next event is about: nothing to count yet
    try:
        found = preview(herald, campaign, sample_size=0)
    except HeraldError as exc:  # the core bank is unreachable: the activation itself does not need it
        return {"audience": None, "estimate": f"not available: {exc}"[:200]}
    return {"audience": found.audience, "sendable": found.sendable, "cost": found.cost, "currency": found.currency}


def activate(herald: Herald, campaign_id: int, actor: Actor = SYSTEM) -> Campaign:
    return _transition(
        herald, campaign_id, CampaignAction.ACTIVATE, actor, _estimate(herald, campaign_id, CampaignAction.ACTIVATE)
    )


def close(herald: Herald, campaign_id: int, actor: Actor = SYSTEM) -> Campaign:
    return _transition(herald, campaign_id, CampaignAction.CLOSE, actor)


def reactivate(herald: Herald, campaign_id: int, actor: Actor = SYSTEM) -> Campaign:
    return _transition(
        herald, campaign_id, CampaignAction.REACTIVATE, actor, _estimate(herald, campaign_id, CampaignAction.REACTIVATE)
    )


def remove(herald: Herald, campaign_id: int, actor: Actor = SYSTEM) -> None:
    """Delete a campaign that is not active, with its messages."""
    with herald.store.begin() as conn:
        current = Campaign.from_row(_row(conn, campaign_id))
        lifecycle.apply(current.status, CampaignAction.DELETE, name=current.name)
        gone = conn.execute(delete(messages).where(messages.c.campaign_id == campaign_id)).rowcount
        conn.execute(delete(campaigns).where(campaigns.c.id == campaign_id))
        audit.record(
            conn,
            actor,
            "campaign.delete",
            herald.clock.now(),
            target=current.name,
            tenant=current.tenant,
            detail={"id": campaign_id, "messages": gone},
        )
