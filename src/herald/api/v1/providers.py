"""REST: the configured SMS providers (never their secrets) and their health, checked live."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path

from herald.app import Herald
from herald.errors import NotFoundError
from herald.http.auth import Viewer
from herald.http.providers import HealthOut, ProviderOut, check, describe


def router(herald: Herald) -> APIRouter:
    api = APIRouter(prefix="/providers", tags=["providers"])

    def known(name: str) -> str:
        if name not in herald.providers.settings:
            raise NotFoundError(f"No provider {name!r}; configured: {', '.join(sorted(herald.providers.settings))}.")
        return name

    @api.get("", summary="Configured providers (secrets never shown)")
    def list_providers(user: Viewer) -> list[ProviderOut]:
        return [describe(herald, c) for c in herald.providers.settings.values()]

    @api.get("/health", summary="Every provider's reachability and credentials, checked now (no message sent)")
    async def health(user: Viewer) -> list[HealthOut]:
        return list(await asyncio.gather(*(check(herald, n) for n in herald.providers.settings)))

    @api.get("/{name}", summary="One provider")
    def get(user: Viewer, name: Annotated[str, Path(max_length=50)]) -> ProviderOut:
        return describe(herald, herald.providers.settings[known(name)])

    @api.get("/{name}/health", summary="One provider's health, checked now")
    async def health_of(user: Viewer, name: Annotated[str, Path(max_length=50)]) -> HealthOut:
        return await check(herald, known(name))

    return api
