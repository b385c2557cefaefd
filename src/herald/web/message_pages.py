"""The Messages pages: a search across campaigns, one message's history, and CSV downloads of a search or a tab.

Every export streams (a tab of 100,000 messages is never held in memory) and is masked as the
API masks it for the same user: full numbers only for admins, cells defused against formulas.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from herald.app import Herald
from herald.domain.message import TAB_ORDER
from herald.errors import PermissionDeniedError, ValidationError
from herald.services import campaigns as campaign_service
from herald.services.auth import Role
from herald.services.message_history import history
from herald.services.message_search import FoundMessages, MessageQuery, SearchTerms, csv_of, find, query_of
from herald.services.search import MessageFilter, shown_number, shown_text, tab_query
from herald.web.pages import TABS, PageRoute, render, viewer

PAGE_SIZE = 25
Id = Annotated[int, Path(ge=1, le=2**53)]
Text = Annotated[str, Query(max_length=100)]


def _day(text: str, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{text[:20]!r} is not a day; pick one as YYYY-MM-DD.", field=field) from None


def _campaign(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 15):
        raise ValidationError(f"{text[:20]!r} is not a campaign; pick one from the list.", field="campaign")
    return int(text)


def _csv(lines: Iterator[str], name: str) -> StreamingResponse:
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def router(herald: Herald) -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)
    settings = herald.settings

    def terms_of(number: str, code: str, client: str, campaign: str, status: str, from_: str, to: str) -> SearchTerms:
        return SearchTerms(number, code, client, _campaign(campaign), status, _day(from_, "from"), _day(to, "to"))

    def query(terms: SearchTerms, reveal: bool) -> MessageQuery:
        return query_of(
            terms,
            reveal=reveal,
            corebanks=herald.corebanks,
            store=herald.store,
            timezone=settings.timezone,
            default_region=settings.default_region,
        )

    @pages.get("/messages")
    def messages_page(
        request: Request,
        number: Text = "",
        code: Text = "",
        client: Text = "",
        campaign: Text = "",
        status: Text = "",
        from_: Annotated[str, Query(alias="from", max_length=20)] = "",
        to: Annotated[str, Query(max_length=20)] = "",
        page: Annotated[int, Query(ge=1, le=10**9)] = 1,
    ) -> Response:
        user = viewer(request)
        reveal = user.role is Role.ADMIN
        chosen = {"number": number, "code": code, "client": client, "campaign": campaign, "status": status}
        chosen |= {"from": from_, "to": to}
        given = {k: v.strip() for k, v in chosen.items() if v.strip()}
        refused = None
        try:
            wanted = query(terms_of(number, code, client, campaign, status, from_, to), reveal)
            found = find(wanted, page, PAGE_SIZE, store=herald.store, corebanks=herald.corebanks)
        except PermissionDeniedError as exc:  # the form still shows; the line says why nothing was searched
            found, refused = FoundMessages(0, [], 1, 1, {}, {}, False), str(exc)
        return render(
            request,
            "messages.html",
            status=403 if refused else 200,
            found=found,
            chosen=chosen,
            searched=bool(given),
            refused=refused,
            campaigns=campaign_service.list_all(store=herald.store),
            statuses=[(s.word, s.label) for s in TAB_ORDER],
            link=lambda n: "/messages?" + urlencode(given | {"page": n}),
            export="/messages/export.csv" + ("?" + urlencode(given) if given else ""),
            number=lambda n: shown_number(n, reveal=reveal),
            shown=lambda t: shown_text(t, reveal=reveal),
        )

    @pages.get("/messages/export.csv")
    def messages_csv(
        request: Request,
        number: Text = "",
        code: Text = "",
        client: Text = "",
        campaign: Text = "",
        status: Text = "",
        from_: Annotated[str, Query(alias="from", max_length=20)] = "",
        to: Annotated[str, Query(max_length=20)] = "",
    ) -> Response:
        reveal = viewer(request).role is Role.ADMIN
        wanted = query(terms_of(number, code, client, campaign, status, from_, to), reveal)
        lines = csv_of(wanted, store=herald.store, corebanks=herald.corebanks, reveal_numbers=reveal)
        return _csv(lines, f"herald-messages-{herald.clock.now().strftime('%Y%m%d-%H%M')}.csv")

    @pages.get("/messages/{message_id}")
    def message_page(request: Request, message_id: Id) -> Response:
        reveal = viewer(request).role is Role.ADMIN
        return render(
            request,
            "message.html",
            h=history(message_id, store=herald.store, corebanks=herald.corebanks),
            number=lambda n: shown_number(n, reveal=reveal),
            shown=lambda t: shown_text(t, reveal=reveal),
        )

    @pages.get("/campaigns/{campaign_id}/export.csv")
    def tab_csv(
        request: Request, campaign_id: Id, tab: Annotated[str, Query(max_length=20)] = "pending", q: Text = ""
    ) -> Response:
        reveal = viewer(request).role is Role.ADMIN
        status = dict(TABS).get(tab)
        if status is None:
            raise ValidationError(f"No tab {tab!r}; the tabs are {', '.join(t for t, _ in TABS)}.")
        campaign = campaign_service.get(campaign_id, store=herald.store)
        wanted = tab_query(
            MessageFilter(status=status, campaign_id=campaign.id),
            q,
            timezone=settings.timezone,
            default_region=settings.default_region,
            reveal=reveal,
        )
        lines = csv_of(wanted, store=herald.store, corebanks=herald.corebanks, reveal_numbers=reveal)
        stamp = herald.clock.now().strftime("%Y%m%d-%H%M")
        return _csv(lines, f"herald-campaign-{campaign.id}-{tab}-{stamp}.csv")

    return pages
