"""The opt-out list page: search it, put a number on it, take one off; numbers masked for everyone but admins.

Who may do what is the REST API's rule: everyone logged in reads the list, campaign managers and
admins change it; searching by number follows what each role may learn (optouts.NumberSearch).
Each change goes through the same service as the CLI and the API, so it is audited the same way
(the number masked, the reason kept). Numbers travel only in posted forms,
never in a URL, so none reaches the access log, the browser's history or a Referer header.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from herald.app import Herald
from herald.domain.phones import mask
from herald.domain.redact import redact_phones
from herald.errors import NotFoundError, ValidationError
from herald.services import optouts
from herald.services.audit import Actor
from herald.services.auth import Role, User
from herald.web.pages import NOTICES, Form, PageRoute, acting, render, see_other, text, viewer

SHOWN = 100  # the newest entries a page lists; a search narrows the rest down

NOTICES.update(
    {
        "optout-added": "Number put on the opt-out list: herald never messages it again until it is taken off.",
        "optout-already": "That number was already on the opt-out list; nothing changed.",
        "optout-removed": "Number taken off the opt-out list: campaigns may message it again.",
    }
)


CHECK = "Search the list for the whole number to see whether it is there."


def _reason(form: FormData, doing: str) -> str:
    """The reason a change is made: kept in the audit log, so the page asks for one."""
    reason = text(form, "reason")
    if not reason:
        raise ValidationError(
            f"Say why you {doing} (the client's request, a complaint ...): the audit log keeps it.", field="reason"
        )
    return reason


def _search_of(user: User) -> optouts.NumberSearch:
    if user.role is Role.ADMIN:
        return optouts.NumberSearch.PART
    return optouts.NumberSearch.WHOLE if user.role.allows(Role.CAMPAIGN_MANAGER) else optouts.NumberSearch.NONE


def _page(request: Request, user: User, found: optouts.Found, query: str = "") -> Response:
    reveal = user.role is Role.ADMIN
    rows = [(r.number if reveal else mask(r.number), r) for r in found.rows]
    return render(
        request,
        "optouts.html",
        rows=rows,
        found=found,
        query=query,
        may_change=user.role.allows(Role.CAMPAIGN_MANAGER),
        numbers=_search_of(user).value,
        reveal=reveal,
        redacted=lambda t: t if reveal else redact_phones(t),  # a reason may quote the number it is about
    )


def router(herald: Herald) -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)
    region = herald.settings.default_region

    def lookup(query: str, user: User) -> optouts.Found:
        return optouts.find(query, numbers=_search_of(user), limit=SHOWN, store=herald.store, default_region=region)

    @pages.get("/optouts")
    def optouts_page(request: Request) -> Response:
        user = viewer(request)
        return _page(request, user, lookup("", user))

    @pages.post("/optouts/search")
    def search(request: Request, form: Form) -> Response:
        # A post, not a GET with ?q=: the number someone looks up stays out of URLs and logs.
        user, _ = acting(request, Role.VIEWER, form)
        query = text(form, "q")
        return _page(request, user, lookup(query, user), query)

    @pages.post("/optouts")
    def add(request: Request, form: Form) -> Response:
        user, _ = acting(request, Role.CAMPAIGN_MANAGER, form)
        _, added = optouts.add_number(
            text(form, "number"),
            _reason(form, "put it on the list"),
            Actor.ui(user.username),
            store=herald.store,
            clock=herald.clock,
            default_region=region,
        )
        return see_other(f"/optouts?notice={'optout-added' if added else 'optout-already'}")

    @pages.post("/optouts/remove")
    def remove(request: Request, form: Form) -> Response:
        user, _ = acting(request, Role.CAMPAIGN_MANAGER, form)
        e164, gone = optouts.remove_number(
            text(form, "number"),
            Actor.ui(user.username),
            store=herald.store,
            clock=herald.clock,
            default_region=region,
            reason=_reason(form, "take it off the list"),
        )
        if not gone:
            shown = e164 if user.role is Role.ADMIN else mask(e164)
            raise NotFoundError(f"{shown} is not on the opt-out list; nothing changed.", hint=CHECK)
        return see_other("/optouts?notice=optout-removed")

    return pages
