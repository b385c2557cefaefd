"""The server-rendered UI for operations officers (Jinja2 pages, one stylesheet, no JS build), served beside the API.

Pages: /login, /campaigns (list), /campaigns/new and /campaigns/{id}/edit (the form with its live
preview), /campaigns/{id} (tabs, chart, actions), /jobs, /providers and, for admins, /users. Every page needs a login;
viewers see, campaign managers and admins act; every form post carries the session's CSRF token.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Response

from herald.app import Herald
from herald.web import audit_pages, campaign_form, campaign_pages, live_pages, login, ops_pages, users_page

_CSS = files("herald.web").joinpath("static/herald.css")


def router(herald: Herald) -> APIRouter:
    ui = APIRouter(include_in_schema=False)
    # The form's routes come first: /campaigns/new and /campaigns/{id}/edit must win over the generic ones.
    for module in (login, campaign_form, live_pages, campaign_pages, ops_pages, users_page, audit_pages):
        ui.include_router(module.router(herald))
    stylesheet = _CSS.read_bytes()

    @ui.get("/static/herald.css")
    async def css() -> Response:  # async on purpose: bytes read once at start, no I/O here
        return Response(stylesheet, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})

    return ui
