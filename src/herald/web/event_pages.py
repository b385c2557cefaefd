"""The events page, for admins: the dead letters (retry, discard, download) and the external events' stream status.

Only admins see it, since a letter's body may hold clients' phone numbers; the body is never shown
decoded, only downloaded whole. Retry runs the body through a consumer built as the worker builds
it (Herald.event_consumer), so a letter goes through once its cause is fixed; Discard asks first
(its own page, with the reason the audit log keeps).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from herald.app import Herald
from herald.domain.times import local_text
from herald.services import dead_letters
from herald.services.audit import Actor
from herald.services.auth import Role
from herald.services.dead_letters import Retried, RetriedAll
from herald.web.pages import NOTICES, Form, PageRoute, acting, allowed, render, see_other, text, viewer

LetterId = Annotated[int, Path(ge=1, le=2**53)]
PageNumber = Annotated[int, Query(ge=1, le=2**31)]

NOTICES["letter-discarded"] = "Dead letter discarded; the audit log keeps who did it and why."

WIDTH, HEIGHT, BOTTOM = 600, 120, 18


@dataclass(frozen=True)
class HourBar:
    title: str
    x: float
    y: float
    width: float
    height: float
    label: str


def hour_bars(per_hour: list[tuple[datetime, int]], zone: str) -> tuple[list[HourBar], int]:
    """The last 24 hours as bars (the template only places them), and the busiest hour's count."""
    peak = max((n for _, n in per_hour), default=0)
    plot = HEIGHT - BOTTOM
    slot = WIDTH / max(len(per_hour), 1)
    bars = []
    for i, (start, n) in enumerate(per_hour):
        height = plot * n / peak if peak else 0.0
        bars.append(
            HourBar(
                title=f"{local_text(start, zone, '%d %b %H:00 %Z')}: {n:,} event{'' if n == 1 else 's'}",
                x=round(i * slot + slot * 0.1, 1),
                y=round(plot - height, 1),
                width=round(slot * 0.8, 1),
                height=round(height, 1),
                label=local_text(start, zone, "%H:00") if i % 4 == 0 else "",
            )
        )
    return bars, peak


def _outcome(result: Retried) -> str:
    if result.went_through:
        made = f"{result.created:,} message{'' if result.created == 1 else 's'}"
        again = f" ({result.duplicates:,} of its events had been acted on already)" if result.duplicates else ""
        return f"Dead letter {result.letter_id} went through: it created {made}{again}, and it is gone from the list."
    return f"Dead letter {result.letter_id} was kept aside again: {result.reason}"


def _all_outcome(result: RetriedAll) -> str:
    if not result.tried:
        return "There were no dead letters to retry."
    made = f"{result.created:,} message{'' if result.created == 1 else 's'}"
    return (
        f"Retried {result.tried:,} dead letter{'' if result.tried == 1 else 's'}: {result.went_through:,} went through"
        f" and created {made}; {result.kept:,} kept aside again (their reasons are below)."
    )


def router(herald: Herald) -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)

    def events_page(request: Request, number: int = 1, *, outcome: str | None = None, failed: bool = False) -> Response:
        shown = dead_letters.page(dead_letters.PAGE, (number - 1) * dead_letters.PAGE, store=herald.store)
        broker = herald.settings.events_broker
        stream = dead_letters.status(store=herald.store, clock=herald.clock, broker=broker.shown() if broker else None)
        bars, peak = hour_bars(stream.per_hour, herald.settings.timezone)
        last = max(1, -(-shown.total // shown.limit))
        return render(
            request,
            "events.html",
            shown=shown,
            number=number,
            last=last,
            stream=stream,
            bars=bars,
            peak=peak,
            chart={"width": WIDTH, "height": HEIGHT, "bottom": BOTTOM},
            outcome=outcome,
            failed=failed,
        )

    @pages.get("/events")
    def events(request: Request, page: PageNumber = 1) -> Response:
        allowed(viewer(request), Role.ADMIN)
        return events_page(request, page)

    @pages.post("/events/dead-letters/{letter_id}/retry")
    def retry(request: Request, letter_id: LetterId, form: Form) -> Response:
        admin, _ = acting(request, Role.ADMIN, form)
        result = dead_letters.retry(
            letter_id, herald.event_consumer(), Actor.ui(admin.username), store=herald.store, clock=herald.clock
        )
        return events_page(request, outcome=_outcome(result), failed=not result.went_through)

    @pages.post("/events/dead-letters/retry")
    def retry_all(request: Request, form: Form) -> Response:
        admin, _ = acting(request, Role.ADMIN, form)
        result = dead_letters.retry_all(
            herald.event_consumer(), Actor.ui(admin.username), store=herald.store, clock=herald.clock
        )
        return events_page(request, outcome=_all_outcome(result), failed=bool(result.kept))

    @pages.get("/events/dead-letters/{letter_id}/discard")
    def discard_page(request: Request, letter_id: LetterId) -> Response:
        allowed(viewer(request), Role.ADMIN)
        return render(request, "event_discard.html", letter=dead_letters.get(letter_id, store=herald.store))

    @pages.post("/events/dead-letters/{letter_id}/discard")
    def discard(request: Request, letter_id: LetterId, form: Form) -> Response:
        admin, _ = acting(request, Role.ADMIN, form)
        dead_letters.discard(
            letter_id, text(form, "reason"), Actor.ui(admin.username), store=herald.store, clock=herald.clock
        )
        return see_other("/events?notice=letter-discarded")

    @pages.get("/events/dead-letters/{letter_id}/body")
    def download(request: Request, letter_id: LetterId) -> Response:
        allowed(viewer(request), Role.ADMIN)
        raw = dead_letters.body(letter_id, store=herald.store)
        return Response(
            raw,
            media_type="application/octet-stream",
            headers={
                "Content-Disposition": f'attachment; filename="dead-letter-{letter_id}.bin"',
                "Cache-Control": "no-store",  # it may hold clients' phone numbers
                "X-Content-Type-Options": "nosniff",
            },
        )

    return pages
