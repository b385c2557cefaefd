"""The audit log page for admins: who did what and when, filtered by action, actor and days, a page at a time."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response

from herald.app import Herald
from herald.errors import ValidationError
from herald.services import audit
from herald.services.auth import Role
from herald.web.pages import PageRoute, allowed, render, viewer

PAGE_SIZE = 50


def _day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{text[:20]!r} is not a day; pick one as YYYY-MM-DD.", field=field) from None


def router(herald: Herald) -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)

    @pages.get("/audit")
    def audit_page(
        request: Request,
        action: Annotated[str, Query(max_length=60)] = "",
        actor: Annotated[str, Query(max_length=100)] = "",
        from_: Annotated[str, Query(alias="from", max_length=20)] = "",
        to: Annotated[str, Query(max_length=20)] = "",
        page: Annotated[int, Query(ge=1, le=10**9)] = 1,
    ) -> Response:
        allowed(viewer(request), Role.ADMIN)
        wanted = audit.filter_of(
            timezone=herald.settings.timezone,
            action=action,
            actor=actor,
            date_from=_day(from_, "from"),
            date_to=_day(to, "to"),
        )
        total, entries = audit.find(wanted, PAGE_SIZE, (page - 1) * PAGE_SIZE, store=herald.store)
        pages_count = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        query = {"action": action, "actor": actor, "from": from_, "to": to}
        response = render(
            request,
            "audit.html",
            entries=entries,
            total=total,
            page=page,
            pages=pages_count,
            actions=audit.ACTIONS,
            actors=audit.actors(store=herald.store),
            chosen=query,
            link=lambda n: "/audit?" + urlencode({k: v for k, v in query.items() if v} | {"page": n}),
            export="/api/v1/audit/export.csv?" + urlencode({k: v for k, v in query.items() if v}),
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    return pages
