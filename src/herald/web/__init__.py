"""The server-rendered UI for operations officers (Jinja2 pages, one stylesheet, no JS build), served beside the API.

Pages: /login, /campaigns (list), /campaigns/new and /campaigns/{id}/edit (the form with its live
preview), /campaigns/{id} (tabs, chart, actions), /messages (a search across campaigns) and
/messages/{id} (one message's history), /jobs, /providers, /optouts, /offices and, for admins,
/users, /audit and /events.
Every page needs a login; viewers see, campaign managers and admins act; every form post carries the session's
CSRF token. An unknown address gets the styled "Not found" page (unknown_paths).
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Response

from herald.app import Herald
from herald.web import (
    audit_pages,
    campaign_form,
    campaign_pages,
    confirm_pages,
    event_pages,
    live_pages,
    login,
    message_pages,
    offices_page,
    ops_pages,
    optouts_page,
    static_files,
    users_page,
)
from herald.web.unknown_paths import install as install

_CSS = files("herald.web").joinpath("static/herald.css")
_ICON = files("herald.web").joinpath("static/favicon.svg")
_A_YEAR = "public, max-age=31536000, immutable"  # the icon never changes under its name; a new one gets a new name


def router(herald: Herald) -> APIRouter:
    ui = APIRouter(include_in_schema=False)
    # The form's routes come first: /campaigns/new and /campaigns/{id}/edit must win over the generic ones.
    for module in (
        login,
        campaign_form,
        live_pages,
        campaign_pages,
        message_pages,
        ops_pages,
        users_page,
        audit_pages,
        optouts_page,
        offices_page,
        event_pages,
    ):
        ui.include_router(module.router(herald))
    ui.include_router(confirm_pages.router(herald))  # issue 12 item 6: Activate, Reactivate, Re-send confirm first
    stylesheet = _CSS.read_bytes()

    @ui.get("/static/herald.css")
    async def css() -> Response:  # async on purpose: bytes read once at start, no I/O here
        return Response(stylesheet, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})

    icon = _ICON.read_bytes()

    @ui.get("/static/favicon.svg")
    @ui.get("/favicon.ico")  # where browsers look when a page names no icon (the API's docs, an error in a tab)
    async def favicon() -> Response:  # async on purpose: bytes read once at start
        return Response(icon, media_type="image/svg+xml", headers={"Cache-Control": _A_YEAR})

    ui.include_router(static_files.router(herald))  # issue 12 item 11: the pages' scripts (after herald.css's route)
    return ui
