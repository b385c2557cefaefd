"""REST: the audit log for admins: entries filtered by action, actor and days, a page at a time, or as CSV.

Read-only by design: the log has no POST, PUT, PATCH or DELETE route, so nobody can change or
erase what it says through herald.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from herald.app import Herald
from herald.http.auth import Admin, herald_of
from herald.services import audit
from herald.services.audit import AuditFilter, AuditRecord

NO_STORE = {"Cache-Control": "no-store"}  # the log names people and (masked) numbers: never kept in a cache


class AuditEntryOut(BaseModel):
    id: int
    at: datetime = Field(description="When, in UTC.")
    actor: str | None = Field(description="The username, cli:<OS user> for the command line, or system.")
    via: str = Field(description="ui, api, cli or system.")
    action: str = Field(description="campaign.activate, optout.add, job.run, login ...")
    target: str | None = Field(description="What it was done to: a campaign name, a username, a masked number.")
    tenant: str | None
    address: str | None = Field(description="The client address, for logins.")
    detail: dict[str, Any]

    @classmethod
    def of(cls, e: AuditRecord) -> AuditEntryOut:
        return cls(
            id=e.id,
            at=e.at,
            actor=e.actor,
            via=e.via,
            action=e.action,
            target=e.target,
            tenant=e.tenant,
            address=e.address,
            detail=e.detail,
        )


class AuditPage(BaseModel):
    total: int = Field(description="How many entries match the filters.")
    limit: int
    offset: int
    items: list[AuditEntryOut]


def _filters(
    request: Request,
    action: Annotated[
        str | None, Query(max_length=60, description='An action, or a kind ending in "." (campaign.).')
    ] = None,
    actor: Annotated[str | None, Query(max_length=100, description="Exactly this actor.")] = None,
    from_: Annotated[date | None, Query(alias="from", description="First day (herald's time zone).")] = None,
    to: Annotated[date | None, Query(description="Last day, included.")] = None,
) -> AuditFilter:
    return audit.filter_of(
        timezone=herald_of(request).settings.timezone, action=action, actor=actor, date_from=from_, date_to=to
    )


Filters = Annotated[AuditFilter, Depends(_filters)]


def router(herald: Herald) -> APIRouter:
    api = APIRouter(prefix="/audit", tags=["audit"])

    @api.get("", summary="Who did what and when, newest first (admins only)")
    def list_entries(
        user: Admin,
        filters: Filters,
        response: Response,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=2**53)] = 0,
    ) -> AuditPage:
        total, rows = audit.find(filters, limit, offset, store=herald.store)
        response.headers.update(NO_STORE)
        return AuditPage(total=total, limit=limit, offset=offset, items=[AuditEntryOut.of(e) for e in rows])

    @api.get(
        "/export.csv",
        summary="The matching entries as CSV (admins only)",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/csv": {}}, "description": "CSV, one entry a line"}},
    )
    def export(user: Admin, filters: Filters) -> StreamingResponse:
        stamp = herald.clock.now().strftime("%Y%m%d-%H%M")
        return StreamingResponse(
            audit.csv_lines(filters, store=herald.store),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="herald-audit-{stamp}.csv"'} | NO_STORE,
        )

    return api
