"""herald's REST API, version 1: one router per resource, all under /api/v1, every route behind a role."""

from __future__ import annotations

from fastapi import APIRouter

from herald.api.v1 import audit, campaigns, events, jobs, messages, offices, optouts, providers, rules, stats, users
from herald.app import Herald
from herald.http.errors import ERROR_RESPONSES

PREFIX = "/api/v1"


def router(herald: Herald) -> APIRouter:
    api = APIRouter(prefix=PREFIX, responses=ERROR_RESPONSES)
    for module in (campaigns, messages, rules, providers, jobs, stats, users, audit, optouts, events, offices):
        api.include_router(module.router(herald))
    return api
