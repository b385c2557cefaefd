"""What may be shown about the configured SMS providers (never their secrets) and their health, checked live.

Shared by the REST API (/api/v1/providers) and the UI's providers page, so both show the same
fields and the same scrubbed health text.
"""

from __future__ import annotations

import asyncio
import logging
import re

from pydantic import BaseModel, Field, SecretStr

from herald.app import Herald
from herald.errors import ProviderError
from herald.providers.config import ProviderSettings

log = logging.getLogger(__name__)

CHECK_GRACE = 5.0  # seconds on top of the provider's own timeout before a check counts as hung


class ProviderOut(BaseModel):
    name: str
    kind: str = Field(description="simulator, twilio, infobip or smpp.")
    endpoint: str = Field(description="Base URL or host:port; 'built in' for the simulator.")
    rateLimit: float | None = Field(description="Messages per second at most.")
    maxInFlight: int
    fallback: str | None = Field(description="Provider that takes over while this one fails.")
    webhookUrl: str | None = Field(description="Where the provider pushes reports (needs HERALD_PUBLIC_URL).")


class HealthOut(BaseModel):
    name: str
    ok: bool
    detail: str


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")


def without_userinfo(text: str) -> str:
    """A URL (or a sentence holding URLs) with every user:password@ part removed: endpoints shown, credentials never."""
    return _USERINFO.sub(r"\1", text)


def describe(herald: Herald, config: ProviderSettings) -> ProviderOut:
    """What may be shown about a provider: built field by field, so a secret can never slip into it."""
    host = getattr(config, "host", None)
    url = getattr(config, "api_url", None) or getattr(config, "base_url", None)  # AT's default URL is a property
    endpoint = url or (f"{host}:{getattr(config, 'port', '')}" if host else "built in")
    public = herald.settings.public_url
    return ProviderOut(
        name=config.name,
        kind=config.kind,
        endpoint=without_userinfo(str(endpoint)),
        rateLimit=config.rate_limit,
        maxInFlight=config.max_in_flight,
        fallback=config.fallback or herald.settings.fallback_provider,
        webhookUrl=f"{public.rstrip('/')}/webhooks/{config.name}" if public else None,
    )


def _scrub(text: str, config: ProviderSettings) -> str:
    # Adapters word their checks carefully; this is the belt to their braces.
    text = without_userinfo(text)
    for _, value in config:
        if isinstance(value, SecretStr) and value.get_secret_value():
            text = text.replace(value.get_secret_value(), "***")
    return text


async def check(herald: Herald, name: str) -> HealthOut:
    config = herald.providers.settings[name]
    try:
        result = await asyncio.wait_for(herald.providers.named(name).check(), config.timeout + CHECK_GRACE)
        ok, detail = result.ok, result.detail
    except TimeoutError:
        ok, detail = False, f"no answer within {config.timeout + CHECK_GRACE:g} s"
    except ProviderError as exc:
        ok, detail = False, exc.message
    except Exception:  # a broken adapter makes its own row red, not the whole health page a 500
        log.exception("health check of provider %s failed", name)
        ok, detail = False, "the check failed unexpectedly; the log has the details"
    return HealthOut(name=name, ok=ok, detail=_scrub(detail, config))
