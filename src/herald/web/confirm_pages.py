"""The confirmation step before Activate, Reactivate and Re-send: what it would cost, then the post that does it.

GET /campaigns/{id}/activate (reactivate, resend) is the confirmation: audience, segments, the
estimated cost and any warning, and a form whose post carries a confirmation code bound to what
was shown. The campaign page opens the same page in a dialog when script runs; without script
the button is a plain link to it. A post without a valid code (a forged one, an old page, or a
campaign changed since) does nothing and shows the confirmation again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.datastructures import FormData

from herald.app import Herald
from herald.domain.confirmation import confirmation_code, confirmed, fingerprint
from herald.http.auth import current_session
from herald.services import campaigns as service
from herald.services.audit import Actor
from herald.services.auth import AuthenticationError, Role, User, csrf_token
from herald.services.confirmation import COSTLY, Estimate, activation_estimate, nothing_sentence, resend_estimate
from herald.services.preview import PreviewSettings
from herald.services.resend import ResendResult, resend_failed
from herald.web.pages import PageRoute, allowed, render, see_other, viewer

CONFIRM_FIELD = "confirmation"
CampaignId = Annotated[int, Path(ge=1, le=2**53)]
CodeQuery = Annotated[list[str] | None, Query(alias="code", max_length=40)]
DONE = {"activate": "activated", "reactivate": "reactivated"}


def _secret(request: Request) -> str:
    session = current_session(request)
    if session is None:
        raise AuthenticationError("Please log in.")
    return csrf_token(session)


def _estimate(herald: Herald, campaign_id: int, action: str, codes: list[str] | None) -> Estimate:
    if action == "resend":
        settings = PreviewSettings.of(herald.settings, herald.providers.alphabets)
        return resend_estimate(campaign_id, codes, store=herald.store, clock=herald.clock, preview_settings=settings)
    parts = herald.activation_parts()
    return activation_estimate(
        campaign_id,
        action,
        store=parts["store"],
        corebanks=parts["corebanks"],
        calendar=parts["calendar"],
        offices=parts["offices"],
        clock=parts["clock"],
        preview_settings=parts["preview_settings"],
    )


def confirmation_page(
    request: Request, estimate: Estimate, *, status: int = 200, refused: str | None = None
) -> Response:
    code = confirmation_code(_secret(request), estimate.fingerprint)
    return render(
        request,
        "confirm.html",
        status=status,
        estimate=estimate,
        campaign=estimate.campaign,
        confirmation_field=CONFIRM_FIELD,
        confirmation=code,
        refused=refused,
        nothing=nothing_sentence(estimate) if estimate.nothing_to_do else None,
    )


def _codes(form: FormData) -> list[str] | None:
    """The failure codes a re-send post names; None (all of them) when it names none."""
    chosen = [c for c in form.getlist("code") if isinstance(c, str)]
    return chosen or None


def act(herald: Herald, request: Request, campaign_id: int, action: str, form: FormData, user: User) -> Response:
    """A confirmed Activate, Reactivate or Re-send; anything else gets the confirmation (409) and changes nothing."""
    presented = form.get(CONFIRM_FIELD)
    presented = presented if isinstance(presented, str) else None
    secret = _secret(request)
    actor = Actor.ui(user.username)
    if action == "resend":
        estimate = _estimate(herald, campaign_id, action, _codes(form))
        if not confirmed(secret, estimate.fingerprint, presented):
            return confirmation_page(request, estimate, status=409, refused=_why(presented))
        result = resend_failed(campaign_id, store=herald.store, clock=herald.clock, actor=actor, codes=estimate.chosen)
        return _resent_page(request, estimate, result)
    campaign = service.get(campaign_id, store=herald.store)
    if not confirmed(secret, fingerprint(action, campaign), presented):
        estimate = _estimate(herald, campaign_id, action, None)
        return confirmation_page(request, estimate, status=409, refused=_why(presented))
    move = service.activate if action == "activate" else service.reactivate
    move(campaign_id, **herald.activation_parts(), actor=actor)
    done = DONE[action] + ("" if herald.presence.job_runners() else "-idle")
    return see_other(f"/campaigns/{campaign_id}?notice={done}")


def _why(presented: str | None) -> str:
    if presented is None:
        return "Nothing was done yet: check what it would cost below, then confirm."
    return (
        "Nothing was done: the campaign or its failed messages changed since this was confirmed. "
        "Check the numbers below again, then confirm."
    )


def _resent_page(request: Request, estimate: Estimate, result: ResendResult) -> Response:
    return render(
        request,
        "confirm.html",
        estimate=estimate,
        campaign=estimate.campaign,
        result=result,
        confirmation_field=CONFIRM_FIELD,
        confirmation="",
        refused=None,
    )


def router(herald: Herald) -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)

    def confirm_route(action: str) -> None:
        # One route per action, not /{action}: a catch-all would shadow other pages under /campaigns/{id}/.
        @pages.get(f"/campaigns/{{campaign_id}}/{action}")
        def confirm(
            request: Request,
            campaign_id: CampaignId,
            code: CodeQuery = None,
            choose: Annotated[bool, Query()] = False,
        ) -> Response:
            allowed(viewer(request), Role.CAMPAIGN_MANAGER)
            # `choose`: the code form was sent, so no code ticked means none, not all.
            codes = (code or []) if choose else code
            return confirmation_page(request, _estimate(herald, campaign_id, action, codes))

    for action in COSTLY:
        confirm_route(action)
    return pages
