"""The offices page: Fineract's offices with herald's phone region and time zone for each, edited by admins.

The region decides how a number written without its country code is read, and the time zone
when quiet hours begin for the office's clients: settings of the installation, so only admins
change them (as only whoever runs `herald` changes them on the command line); everyone logged in
may look. Changes go through the same service as `herald offices set` and reach a running
worker within its profiles' freshness (services/office_profiles.py).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request, Response

from herald.app import Herald
from herald.domain.languages import NAMES
from herald.errors import NotFoundError
from herald.services import offices
from herald.services.audit import Actor
from herald.services.auth import Role
from herald.web.pages import NOTICES, Form, PageRoute, acting, allowed, render, see_other, text, viewer

NOTICES.update({"office-saved": "Office saved: its clients' numbers and quiet hours follow the new settings."})

Tenant = Annotated[str, Query(max_length=100)]
OfficeId = Annotated[int, Path(ge=0, le=2**31)]


def one(found: list[offices.OfficeProfile], office_id: int) -> offices.OfficeProfile:
    office = next((o for o in found if o.office_id == office_id), None)
    if office is None:
        raise NotFoundError(f"The core bank has no office {office_id}.", hint="The Offices page lists them.")
    return office


def router(herald: Herald) -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)

    def listed(tenant: str) -> list[offices.OfficeProfile]:
        if tenant and tenant not in herald.corebanks:  # a link or a hand-typed address, not a setting: a 404
            known = ", ".join(herald.corebanks.tenants)
            raise NotFoundError(f"herald has no Fineract tenant {tenant[:100]!r}.", hint=f"Its tenants: {known}.")
        return offices.list_offices(
            store=herald.store,
            corebanks=herald.corebanks,
            default_region=herald.settings.default_region,
            default_timezone=herald.settings.timezone,
            tenant=tenant or None,
        )

    @pages.get("/offices")
    def offices_page(request: Request, tenant: Tenant = "") -> Response:
        user = viewer(request)
        return render(
            request,
            "offices.html",
            offices=listed(tenant),
            tenant=herald.corebanks.tenant(tenant or None),
            tenants=herald.corebanks.tenants,
            may_edit=user.role.allows(Role.ADMIN),
            default_region=herald.settings.default_region,
        )

    @pages.get("/offices/{office_id}/edit")
    def edit_page(request: Request, office_id: OfficeId, tenant: Tenant = "") -> Response:
        allowed(viewer(request), Role.ADMIN)
        found = listed(tenant)
        return render(
            request,
            "office_form.html",
            office=one(found, office_id),
            tenant=herald.corebanks.tenant(tenant or None),
            tenants=herald.corebanks.tenants,
            regions=offices.REGIONS,
            zones=offices.timezone_choices([herald.settings.timezone, *(o.timezone for o in found)]),
            languages=NAMES,
        )

    @pages.post("/offices/{office_id}")
    def save(request: Request, office_id: OfficeId, form: Form) -> Response:
        admin, _ = acting(request, Role.ADMIN, form)
        tenant = text(form, "tenant")
        office = one(listed(tenant), office_id)
        offices.set_profile(
            office_id,
            text(form, "region"),
            text(form, "timezone"),
            office.name,
            store=herald.store,
            corebanks=herald.corebanks,
            offices=herald.offices,
            tenant=tenant or None,
            by=Actor.ui(admin.username),
            now=herald.clock.now(),
            # A form from before languages (no field) keeps the office's language.
            language=text(form, "language") if "language" in form else office.language,
        )
        query = urlencode(({"tenant": tenant} if tenant else {}) | {"notice": "office-saved"})
        return see_other(f"/offices?{query}#office-{office_id}")

    return pages
