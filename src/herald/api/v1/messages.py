"""REST: campaign messages: filtered, paginated lists with a total, one message, and a streamed CSV export."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from herald.app import Herald
from herald.http.auth import Viewer
from herald.services.auth import Role, User
from herald.services.search import (
    MessageFilter,
    StoredMessage,
    csv_lines,
    get_message,
    parse_status,
    search,
    shown_number,
    shown_text,
)

BigId = Annotated[int, Query(ge=1, le=2**53)]


class MessageStatusOut(BaseModel):
    code: int
    label: str


class MessageOut(BaseModel):
    id: int
    campaignId: int
    clientId: int | None
    officeId: int | None
    mobileNo: str | None = Field(description="Masked (+2547******12) unless the caller is an admin.")
    body: str = Field(description="Phone numbers in it masked unless the caller is an admin.")
    status: MessageStatusOut
    reason: str | None = Field(description="Why a message is Invalid (numbers masked unless admin).")
    errorCode: str | None
    errorText: str | None = Field(description="The provider's error text (numbers masked unless admin).")
    provider: str
    externalId: str | None
    encoding: str
    segments: int
    attempts: int
    createdAt: datetime
    updatedAt: datetime
    sentAt: datetime | None
    deliveredAt: datetime | None

    @classmethod
    def of(cls, r: StoredMessage, reveal: bool) -> MessageOut:
        status = r.status
        return cls(
            id=r.id,
            campaignId=r.campaign_id,
            clientId=r.client_id,
            officeId=r.office_id,
            mobileNo=shown_number(r.mobile_no, reveal),
            body=shown_text(r.body, reveal) or "",
            status=MessageStatusOut(code=int(status), label=status.label),
            reason=shown_text(r.reason, reveal),
            errorCode=r.error_code,
            errorText=shown_text(r.error_text, reveal),
            provider=r.provider,
            externalId=r.external_id,
            encoding=r.encoding,
            segments=r.segments,
            attempts=r.attempts,
            createdAt=r.created_at,
            updatedAt=r.updated_at,
            sentAt=r.sent_at,
            deliveredAt=r.delivered_at,
        )


class MessagePage(BaseModel):
    total: int = Field(description="How many messages match the filters.")
    limit: int
    offset: int
    items: list[MessageOut]


def _filter(
    status: Annotated[
        str | None, Query(max_length=40, description="Code (300) or name: pending, waiting, sent, delivered ...")
    ] = None,
    campaignId: BigId | None = None,
    clientId: BigId | None = None,
    officeId: BigId | None = None,
    from_: Annotated[date | None, Query(alias="from", description="First day (herald's time zone).")] = None,
    to: Annotated[date | None, Query(description="Last day, included.")] = None,
) -> MessageFilter:
    return MessageFilter(
        status=parse_status(status) if status else None,
        campaign_id=campaignId,
        client_id=clientId,
        office_id=officeId,
        date_from=from_,
        date_to=to,
    )


Filters = Annotated[MessageFilter, Depends(_filter)]


def router(herald: Herald) -> APIRouter:
    api = APIRouter(prefix="/messages", tags=["messages"])

    @api.get("", summary="Messages matching the filters, one page at a time")
    def list_messages(
        user: Viewer,
        wanted: Filters,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        offset: Annotated[int, Query(ge=0, le=2**53)] = 0,
    ) -> MessagePage:
        total, rows = search(wanted, limit, offset, store=herald.store, timezone=herald.settings.timezone)
        items = [MessageOut.of(r, _reveals(user)) for r in rows]
        return MessagePage(total=total, limit=limit, offset=offset, items=items)

    @api.get(
        "/export.csv",
        summary="The matching messages as CSV (numbers masked unless admin)",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/csv": {}}, "description": "CSV, one message a line"}},
    )
    def export(user: Viewer, wanted: Filters) -> StreamingResponse:
        lines = csv_lines(wanted, store=herald.store, timezone=herald.settings.timezone, reveal_numbers=_reveals(user))
        stamp = herald.clock.now().strftime("%Y%m%d-%H%M")
        return StreamingResponse(
            lines,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="herald-messages-{stamp}.csv"'},
        )

    @api.get("/{message_id}", summary="One message")
    def get(user: Viewer, message_id: Annotated[int, Path(ge=1, le=2**53)]) -> MessageOut:
        return MessageOut.of(get_message(message_id, store=herald.store), _reveals(user))

    return api


def _reveals(user: User) -> bool:
    return user.role is Role.ADMIN
