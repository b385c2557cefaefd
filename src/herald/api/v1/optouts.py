"""REST: the opt-out list: read it (numbers masked unless admin), add a number, take one off; every change audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from herald.app import Herald
from herald.domain.phones import mask
from herald.domain.redact import redact_phones
from herald.http.auth import CampaignManager, Viewer
from herald.http.errors import error_response
from herald.services.audit import Actor
from herald.services.auth import Role
from herald.services.optouts import add_number, recent, remove_number


class OptOutOut(BaseModel):
    number: str = Field(description="E.164, masked unless the caller is an admin.")
    source: str = Field(description="Where it came from: a provider (STOP reply), ui, api or cli.")
    detail: str | None = Field(description="The reason given; numbers in it masked unless the caller is an admin.")
    createdAt: datetime


class OptOutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=40, description="The number, +<country><number> or national.")
    reason: str = Field("added by hand", max_length=200)


class OptOutChange(BaseModel):
    number: str = Field(description="The number's E.164 form, masked.")
    changed: bool = Field(description="False when the number already was (or was not) on the list.")


def router(herald: Herald) -> APIRouter:
    api = APIRouter(prefix="/optouts", tags=["opt-outs"])

    @api.get("", summary="The opt-out list, newest first")
    def list_optouts(
        user: Viewer, response: Response, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> list[OptOutOut]:
        response.headers["Cache-Control"] = "no-store"  # phone numbers
        rows = recent(limit, store=herald.store)
        reveal = user.role is Role.ADMIN
        return [
            OptOutOut(
                number=r.number if reveal else mask(r.number),
                source=r.source,
                detail=r.detail if reveal else redact_phones(r.detail),  # a reason may quote the number
                createdAt=r.created_at,
            )
            for r in rows
        ]

    @api.post("", status_code=201, summary="Put a number on the opt-out list")
    def add(user: CampaignManager, body: OptOutIn) -> OptOutChange:
        e164, added = add_number(
            body.number,
            body.reason,
            Actor.api(user.username),
            store=herald.store,
            clock=herald.clock,
            default_region=herald.settings.default_region,
        )
        return OptOutChange(number=mask(e164), changed=added)

    @api.delete("/{number}", summary="Take a number off the opt-out list (the client asked to be messaged again)")
    def remove(user: CampaignManager, number: Annotated[str, Path(min_length=1, max_length=40)]) -> Response:
        e164, gone = remove_number(
            number,
            Actor.api(user.username),
            store=herald.store,
            clock=herald.clock,
            default_region=herald.settings.default_region,
        )
        if not gone:
            return error_response(404, "not_found", f"{mask(e164)} is not on the opt-out list.", "number")
        return Response(status_code=204)

    return api
