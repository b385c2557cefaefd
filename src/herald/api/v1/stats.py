"""REST: statistics: counts per status per day, office, provider and language, the delivery rate and the cost."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from herald.api.v1.counts import TabCounts
from herald.app import Herald
from herald.corebank.lookups import office_names
from herald.errors import HeraldError
from herald.http.auth import Viewer
from herald.services.stats import Counts, Pricing, statistics

log = logging.getLogger(__name__)


class CountsOut(TabCounts):
    """Messages per status, under the tabs' names, and how many in all."""

    total: int

    @classmethod
    def of_counts(cls, c: Counts) -> CountsOut:
        return cls.model_validate(TabCounts.of(c.by_status).model_dump() | {"total": c.total})


class DayOut(BaseModel):
    date: date
    counts: CountsOut


class OfficeOut(BaseModel):
    tenantId: str
    officeId: int | None
    officeName: str | None = Field(description="From the core-banking database; None if it cannot be read.")
    counts: CountsOut


class ProviderCountsOut(BaseModel):
    providerId: str
    counts: CountsOut


class ProviderCostOut(BaseModel):
    amount: str = Field(description="The sum, as a decimal string (exact).")
    currency: str


class LanguageCountsOut(BaseModel):
    language: str | None = Field(description="ISO 639 code of the template; null: none named (or Fineract's own text).")
    counts: CountsOut
    segments: int = Field(description="Segments of this language's messages a provider accepted.")
    cost: float


class CostOut(BaseModel):
    segments: int = Field(description="Segments of messages a provider accepted.")
    pricePerSegment: float
    amount: float = Field(description="The estimate: segments times HERALD_PRICE_PER_SEGMENT.")
    currency: str
    providerCharged: list[ProviderCostOut] = Field(
        default_factory=list,
        description="What the providers said they charged, per currency (Africa's Talking's send answers).",
    )
    providerChargedMessages: int = Field(0, description="How many messages the providers priced.")


class StatsOut(BaseModel):
    fromDate: date
    toDate: date
    timezone: str
    totals: CountsOut
    resends: CountsOut = Field(description="The re-sends among the totals (by hand, or of failures that pass).")
    perDay: list[DayOut]
    perOffice: list[OfficeOut]
    perProvider: list[ProviderCountsOut]
    perLanguage: list[LanguageCountsOut] = Field(default_factory=list, description="Per template language.")
    deliveryRate: float | None = Field(description="Delivered / (delivered + failed); None before any outcome.")
    cost: CostOut


def router(herald: Herald) -> APIRouter:
    api = APIRouter(prefix="/stats", tags=["stats"])

    def names(tenant: str) -> dict[int, str]:
        try:
            return office_names(herald.corebanks.engine(tenant))
        except HeraldError as exc:  # statistics are herald's own; the core bank only adds labels
            log.warning("office names of tenant %s unavailable: %s", tenant, exc)
            return {}

    @api.get("", summary="Message statistics of the last days")
    def get(
        user: Viewer,
        days: Annotated[int, Query(ge=1, le=366, description="How many days up to today.")] = 30,
        campaignId: Annotated[int | None, Query(ge=1, le=2**53, description="Only this campaign.")] = None,
    ) -> StatsOut:
        s = statistics(
            store=herald.store,
            clock=herald.clock,
            timezone=herald.settings.timezone,
            pricing=Pricing.of(herald.settings),
            days=days,
            campaign_id=campaignId,
        )
        labels = {tenant: names(tenant) for tenant in {t for t, _ in s.per_office}}
        return StatsOut(
            fromDate=s.first_day,
            toDate=s.last_day,
            timezone=s.timezone,
            totals=CountsOut.of_counts(s.totals),
            resends=CountsOut.of_counts(s.resends),
            perDay=[DayOut(date=d, counts=CountsOut.of_counts(c)) for d, c in s.per_day.items()],
            perOffice=[
                OfficeOut(
                    tenantId=tenant,
                    officeId=office,
                    officeName=labels[tenant].get(office) if office is not None else None,
                    counts=CountsOut.of_counts(c),
                )
                for (tenant, office), c in s.per_office.items()
            ],
            perProvider=[
                ProviderCountsOut(providerId=p, counts=CountsOut.of_counts(c)) for p, c in s.per_provider.items()
            ],
            perLanguage=[
                LanguageCountsOut(
                    language=code,
                    counts=CountsOut.of_counts(c),
                    segments=s.language_segments.get(code, 0),
                    cost=round(s.language_segments.get(code, 0) * s.price_per_segment, 4),
                )
                for code, c in s.per_language.items()
            ],
            deliveryRate=s.delivery_rate,
            cost=CostOut(
                segments=s.billed_segments,
                pricePerSegment=s.price_per_segment,
                amount=s.cost,
                currency=s.currency,
                providerCharged=[ProviderCostOut(amount=str(a), currency=c) for c, a in s.provider_costs.items()],
                providerChargedMessages=s.provider_costed,
            ),
        )

    return api
