"""Offices: Fineract's branch tree joined with herald's phone region, time zone and default language per office."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from sqlalchemy import Engine

from herald.corebank import lookups
from herald.corebank.engines import CoreBanks
from herald.domain.languages import parse_language
from herald.errors import ValidationError
from herald.services import audit
from herald.services.audit import Actor
from herald.services.office_profiles import OfficeProfiles
from herald.store import offices as office_store


@dataclass(frozen=True)
class OfficeProfile:
    office_id: int
    name: str
    region: str
    timezone: str
    custom: bool = True  # False: no profile stored, the office uses the installation's defaults
    language: str | None = None  # default language of its clients' messages; None: each campaign's first


REGIONS: tuple[str, ...] = tuple(sorted(phonenumbers.SUPPORTED_REGIONS))
"""The phone regions (ISO country codes) a profile may name, alphabetically."""


def timezone_choices(first: Iterable[str] = ()) -> list[str]:
    """IANA time zones to choose from: `first` (those in use), then Africa's, then every other region's.

    Only Area/Location names: the old aliases (EST, US/Pacific, Etc/GMT+3) are left out, because
    people pick them by mistake and Etc/GMT+3 means three hours *behind* Greenwich.
    """
    named = sorted(z for z in available_timezones() if "/" in z and z.split("/", 1)[0] in _AREAS)
    leading = list(dict.fromkeys(z for z in first if z))
    rest = [z for z in named if z.startswith("Africa/")] + [z for z in named if not z.startswith("Africa/")]
    return leading + [z for z in [*rest, "UTC"] if z not in leading]


_AREAS = frozenset({"Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"})


def list_offices(
    *, store: Engine, corebanks: CoreBanks, default_region: str, default_timezone: str, tenant: str | None = None
) -> list[OfficeProfile]:
    """Every office of a tenant's core-banking database; offices without a profile show the defaults."""
    key = corebanks.tenant(tenant)
    with store.connect() as conn:
        profiles = office_store.profiles_of_tenant(conn, key)
    out = []
    for office_id, name in lookups.offices_by_hierarchy(corebanks.engine(key)):
        p = profiles.get(office_id)
        if p is None:
            out.append(OfficeProfile(office_id, name, default_region, default_timezone, custom=False))
        else:
            out.append(OfficeProfile(office_id, name, p.region, p.timezone, language=p.language))
    return out


def set_profile(
    office_id: int,
    region: str,
    timezone: str,
    name: str | None = None,
    *,
    store: Engine,
    corebanks: CoreBanks,
    offices: OfficeProfiles,
    tenant: str | None = None,
    by: Actor | None = None,
    now: datetime | None = None,
    language: str | None = None,
) -> None:
    """One office's profile; with `by` (and `now`) the change is audited, as the UI and the CLI make it.

    `language`: the office's default language (en, sw ...); None or "" names none."""
    profile = OfficeProfile(office_id, name or f"Office {office_id}", region, timezone, language=language)
    save_profiles([profile], store=store, corebanks=corebanks, offices=offices, tenant=tenant, by=by, now=now)


def save_profiles(
    profiles: Iterable[OfficeProfile],
    *,
    store: Engine,
    corebanks: CoreBanks,
    offices: OfficeProfiles,
    tenant: str | None = None,
    by: Actor | None = None,
    now: datetime | None = None,
) -> None:
    """Store (or replace) a tenant's office profiles after checking region and time zone.

    This process sees them at once; every other process (a running worker) within its
    OfficeProfiles' freshness. A change somebody makes (`by`) is audited in the same transaction;
    the demo's and the tests' set-up is not somebody's change.
    """
    key = corebanks.tenant(tenant)  # an unknown tenant is refused before anything is stored
    rows = []
    for p in profiles:
        region = p.region.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError(f"{p.region!r} is not a phone region; use an ISO code such as KE.", field="region")
        try:
            ZoneInfo(p.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
            raise ValidationError(
                f"{p.timezone!r} is not an IANA time zone such as Africa/Kampala.", field="timezone"
            ) from None
        language = parse_language(p.language) if p.language and p.language.strip() else None
        rows.append(office_store.StoredProfile(p.office_id, p.name, region, p.timezone, language))
    with store.begin() as conn:
        office_store.replace_profiles(conn, key, rows)
        if by is not None and now is not None:
            for r in rows:
                detail = {"region": r.region, "timezone": r.timezone}
                if r.language:  # only when named: an office without one audits as before languages
                    detail["language"] = r.language
                audit.record(conn, by, "office.set", now, target=f"office {r.office_id}", tenant=key, detail=detail)
    offices.forget()
