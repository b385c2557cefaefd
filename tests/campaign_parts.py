"""The parts of a Herald each campaign service takes, by keyword, so a test names the service it calls and no more.

`campaigns.create(request, **validating(herald))` reads as the call an entry point makes, without
spelling out the store, the core banks, the providers, the clock and the calendar in every test.
"""

from __future__ import annotations

from typing import Any

from herald.app import Herald
from herald.services.gateway import GatewaySettings
from herald.services.preview import PreviewSettings


def validating(herald: Herald) -> dict[str, Any]:
    """What create, edit and draft check a request against."""
    return {
        "store": herald.store,
        "corebanks": herald.corebanks,
        "providers": herald.providers,
        "clock": herald.clock,
        "calendar": herald.calendar,
    }


def drafting(herald: Herald) -> dict[str, Any]:
    """What draft checks a request against (it stores nothing)."""
    return {k: v for k, v in validating(herald).items() if k != "store"}


def reading(herald: Herald) -> dict[str, Any]:
    """What a preview reads: the audience, the opt-outs, the office profiles, today's date."""
    return {
        "store": herald.store,
        "corebanks": herald.corebanks,
        "calendar": herald.calendar,
        "offices": herald.offices,
        "clock": herald.clock,
    }


def previewing(herald: Herald) -> dict[str, Any]:
    return reading(herald) | {"settings": PreviewSettings.of(herald.settings, herald.providers.alphabets)}


def activating(herald: Herald) -> dict[str, Any]:
    """Activate and reactivate: the move, and the audience and cost the audit log keeps."""
    return dict(herald.activation_parts())


def hearing(herald: Herald) -> dict[str, Any]:
    """What materializing a Fineract event needs."""
    settings = herald.settings
    return reading(herald) | {"date_format": settings.date_format, "default_region": settings.default_region}


def gateway_parts(herald: Herald) -> dict[str, Any]:
    """What the drop-in gateway's accept and report need."""
    return {
        "store": herald.store,
        "clock": herald.clock,
        "settings": GatewaySettings.of(herald.settings, herald.providers.alphabets),
    }
