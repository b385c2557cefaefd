"""REST: the business rules with their parameters, and the choices of select parameters from the core bank."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from herald.app import Herald
from herald.corebank import lookups
from herald.domain.business_rule import BusinessRule
from herald.errors import NotFoundError, UnknownRuleError
from herald.http.auth import Viewer
from herald.rules.catalog import all_rules, get_rule


class ChoiceOut(BaseModel):
    value: int
    label: str


class ParameterOut(BaseModel):
    name: str = Field(description="Fineract's placeholder name, the key in a campaign's paramValue.")
    label: str
    kind: str = Field(description="office, loan_officer, loan_type (select parameters) or days (a number).")
    default: int | None = Field(description="None: required.")
    description: str
    allowsAll: bool = Field(description="An office parameter that takes -1 for every office.")
    choices: list[ChoiceOut] | None = Field(None, description="Only in a single rule's answer, for select parameters.")


class RuleOut(BaseModel):
    id: int = Field(description="Fineract's report id: a campaign's runReportId.")
    name: str
    triggered: bool
    category: str | None
    description: str
    parameters: list[ParameterOut]
    variables: list[str] = Field(description="What a message template may use: {{firstName}} ...")
    events: list[str] = Field(description="Fineract hooks (ENTITY/ACTION) that fire a triggered rule.")

    @classmethod
    def of(cls, rule: BusinessRule, choices: dict[str, list[lookups.Choice]] | None = None) -> RuleOut:
        choices = choices or {}
        return cls(
            id=rule.id,
            name=rule.name,
            triggered=rule.triggered,
            category=rule.category,
            description=rule.description,
            parameters=[
                ParameterOut(
                    name=p.name,
                    label=p.label,
                    kind=p.kind.value,
                    default=p.default,
                    description=p.description,
                    allowsAll=p.allows_all,
                    choices=[ChoiceOut(value=c.value, label=c.label) for c in choices[p.name]]
                    if p.name in choices
                    else None,
                )
                for p in rule.parameters
            ],
            variables=list(rule.variables),
            events=[f"{entity}/{action}" for entity, action in rule.events],
        )


Tenant = Annotated[str | None, Query(max_length=100, description="Fineract tenant; the default one when omitted.")]


def router(herald: Herald) -> APIRouter:
    api = APIRouter(tags=["rules"])

    @api.get("/rules", summary="Every business rule with its parameters and variables")
    def list_rules(
        user: Viewer, triggered: Annotated[bool | None, Query(description="Only (non-)triggered rules.")] = None
    ) -> list[RuleOut]:
        return [RuleOut.of(r) for r in all_rules(triggered)]

    @api.get("/rules/{rule_id}", summary="One rule, with the choices of its select parameters")
    def get(
        user: Viewer,
        rule_id: Annotated[int, Path(ge=0, le=2**31, description="Fineract's report id, e.g. 166.")],
        tenantId: Tenant = None,
        officeId: Annotated[
            int | None, Query(ge=1, le=2**53, description="Loan officers of this office and its sub-offices.")
        ] = None,
    ) -> RuleOut:
        rule = _rule(rule_id)
        engine = herald.corebanks.engine(herald.corebanks.requested(tenantId))
        return RuleOut.of(rule, lookups.choices_for(rule, engine, officeId))

    @api.get("/loan-products", summary="Loan products of the core-banking database")
    def loan_products(user: Viewer, tenantId: Tenant = None) -> list[ChoiceOut]:
        found = lookups.loan_products(herald.corebanks.engine(herald.corebanks.requested(tenantId)))
        return [ChoiceOut(value=c.value, label=c.label) for c in found]

    return api


def _rule(rule_id: int) -> BusinessRule:
    try:
        return get_rule(rule_id)
    except UnknownRuleError:
        raise NotFoundError(f"No business rule {rule_id}.", hint="GET /api/v1/rules lists them.") from None
