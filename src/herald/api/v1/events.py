"""REST: the external events herald kept aside (admins only): list them a page at a time, retry one, discard one.

Bodies never leave through the API (they may hold clients' phone numbers; the events page lets
an admin download one). A discard is audited with who did it and the reason it must be given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from herald.app import Herald
from herald.http.auth import Admin
from herald.http.errors import ErrorBody
from herald.services import dead_letters
from herald.services.audit import Actor
from herald.services.dead_letters import DeadLetter

LetterId = Annotated[int, Path(ge=1, le=2**53, description="The dead letter's id.")]
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "No dead letter with that id"}
}


class DeadLetterOut(BaseModel):
    id: int
    ref: str = Field(description="The event's idempotency key (#item id inside a bulk), else broker:<message id>.")
    receivedAt: datetime = Field(description="When herald received it, in UTC.")
    tenant: str | None = Field(description="Fineract's tenant, when the envelope could be read.")
    type: str | None = Field(description="The event type, when the envelope could be read.")
    brokerMessageId: str
    reason: str = Field(description="Why herald could not read or act on it (phone numbers masked).")
    size: int = Field(description="The body's size in bytes.")

    @classmethod
    def of(cls, d: DeadLetter) -> DeadLetterOut:
        return cls(
            id=d.id,
            ref=d.ref,
            receivedAt=d.received_at,
            tenant=d.tenant,
            type=d.type,
            brokerMessageId=d.broker_message_id,
            reason=d.reason,
            size=d.size,
        )


class DeadLetterPage(BaseModel):
    total: int = Field(description="How many dead letters there are.")
    limit: int
    offset: int
    items: list[DeadLetterOut]


class RetryOut(BaseModel):
    id: int
    wentThrough: bool = Field(description="True: it was acted on and the letter is gone.")
    created: int = Field(description="How many messages the retry created.")
    duplicates: int = Field(description="Its events herald had acted on already (nothing sent again).")
    reason: str | None = Field(description="Why it was kept aside again, when it was.")


def router(herald: Herald) -> APIRouter:
    api = APIRouter(prefix="/events", tags=["external events"])

    @api.get("/dead-letters", summary="The external events herald could not read or act on, newest first")
    def list_dead_letters(
        user: Admin,
        response: Response,
        limit: Annotated[int, Query(ge=1, le=500)] = dead_letters.PAGE,
        offset: Annotated[int, Query(ge=0, le=2**53)] = 0,
    ) -> DeadLetterPage:
        shown = dead_letters.page(limit, offset, store=herald.store)
        response.headers["Cache-Control"] = "no-store"
        return DeadLetterPage(
            total=shown.total, limit=limit, offset=offset, items=[DeadLetterOut.of(d) for d in shown.letters]
        )

    @api.post(
        "/dead-letters/{letter_id}/retry",
        summary="Run a dead letter through the consumer again (after its cause is fixed)",
        responses=NOT_FOUND,
    )
    def retry(user: Admin, letter_id: LetterId) -> RetryOut:
        result = dead_letters.retry(
            letter_id, herald.event_consumer(), Actor.api(user.username), store=herald.store, clock=herald.clock
        )
        return RetryOut(
            id=result.letter_id,
            wentThrough=result.went_through,
            created=result.created,
            duplicates=result.duplicates,
            reason=result.reason,
        )

    @api.delete(
        "/dead-letters/{letter_id}",
        status_code=204,
        summary="Discard a dead letter for good (audited with the reason)",
        responses=NOT_FOUND,
    )
    def discard(
        user: Admin,
        letter_id: LetterId,
        reason: Annotated[str, Query(min_length=1, max_length=dead_letters.REASON_LIMIT, description="Why.")],
    ) -> Response:
        dead_letters.discard(letter_id, reason, Actor.api(user.username), store=herald.store, clock=herald.clock)
        return Response(status_code=204)

    return api
