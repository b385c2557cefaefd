"""REST: Fineract's offices with herald's profile for each (phone region, time zone, default language), set by admins.

The same roles as the Offices page (web/offices_page.py): everyone logged in may read them, only
admins change them, because they are settings of the installation (how a number without its
country code is read, when quiet hours begin, which template a client gets). A change goes
through the service the UI and `herald offices set` use, so it is checked and audited the same way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from herald.app import Herald
from herald.domain.languages import language_name
from herald.errors import NotFoundError
from herald.http.auth import Admin, Viewer
from herald.services import offices
from herald.services.audit import Actor

Tenant = Annotated[str | None, Query(max_length=100, description="Fineract tenant; the default one when omitted.")]
OfficeId = Annotated[int, Path(ge=0, le=2**31, description="Fineract's office id.")]


class OfficeOut(BaseModel):
    id: int = Field(description="Fineract's office id.")
    name: str
    region: str = Field(description="ISO country code a number written without its country code is read in.")
    timezone: str = Field(description="IANA time zone of the office's quiet hours.")
    language: str | None = Field(
        description="Default language of its clients' messages (ISO 639); null: each campaign's first template."
    )
    languageName: str | None = Field(description='"Swahili (sw)"; null when no language is set.')
    custom: bool = Field(description="False: no profile saved yet, the installation's defaults apply.")

    @classmethod
    def of(cls, o: offices.OfficeProfile) -> OfficeOut:
        return cls(
            id=o.office_id,
            name=o.name,
            region=o.region,
            timezone=o.timezone,
            language=o.language,
            languageName=language_name(o.language) if o.language else None,
            custom=o.custom,
        )


class OfficeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = Field(min_length=1, max_length=10, description="ISO country code, e.g. UG.")
    timezone: str = Field(min_length=1, max_length=100, description="IANA time zone, e.g. Africa/Kampala.")
    language: str | None = Field(
        None,
        max_length=10,
        description='ISO 639 code (en, sw, lg, rw); null or "" for none. Left out: the office\'s language is kept.',
    )


def router(herald: Herald) -> APIRouter:
    api = APIRouter(prefix="/offices", tags=["offices"])

    def listed(tenant: str | None) -> list[offices.OfficeProfile]:
        return offices.list_offices(
            store=herald.store,
            corebanks=herald.corebanks,
            default_region=herald.settings.default_region,
            default_timezone=herald.settings.timezone,
            tenant=herald.corebanks.requested(tenant),  # unknown: the caller's mistake (422), not a 500
        )

    @api.get("", summary="Every office of a tenant's Fineract with its region, time zone and default language")
    def list_offices(user: Viewer, tenantId: Tenant = None) -> list[OfficeOut]:
        return [OfficeOut.of(o) for o in listed(tenantId)]

    @api.put("/{office_id}", summary="Set an office's region, time zone and default language (audited)")
    def set_office(user: Admin, office_id: OfficeId, body: OfficeIn, tenantId: Tenant = None) -> OfficeOut:
        found = listed(tenantId)
        office = next((o for o in found if o.office_id == office_id), None)
        if office is None:
            known = ", ".join(str(o.office_id) for o in found[:20]) or "none"
            raise NotFoundError(
                f"The core bank has no office {office_id}.", hint=f"GET /api/v1/offices lists them (ids: {known})."
            )
        # Left out (a client written before languages): kept, as the UI's form and the CLI keep it.
        language = body.language if "language" in body.model_fields_set else office.language
        offices.set_profile(
            office_id,
            body.region,
            body.timezone,
            office.name,
            store=herald.store,
            corebanks=herald.corebanks,
            offices=herald.offices,
            tenant=tenantId or None,
            by=Actor.api(user.username),
            now=herald.clock.now(),
            language=language,
        )
        saved = next(o for o in listed(tenantId) if o.office_id == office_id)
        return OfficeOut.of(saved)

    return api
