"""Offices: Fineract's branch tree joined with herald's phone region and time zone for each office."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import Engine

from herald.corebank import lookups
from herald.corebank.engines import CoreBanks
from herald.errors import ValidationError
from herald.services.office_profiles import OfficeProfiles
from herald.store import offices as office_store


@dataclass(frozen=True)
class OfficeProfile:
    office_id: int
    name: str
    region: str
    timezone: str


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
        out.append(
            OfficeProfile(office_id, name, p.region if p else default_region, p.timezone if p else default_timezone)
        )
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
) -> None:
    profile = OfficeProfile(office_id, name or f"Office {office_id}", region, timezone)
    save_profiles([profile], store=store, corebanks=corebanks, offices=offices, tenant=tenant)


def save_profiles(
    profiles: Iterable[OfficeProfile],
    *,
    store: Engine,
    corebanks: CoreBanks,
    offices: OfficeProfiles,
    tenant: str | None = None,
) -> None:
    """Store (or replace) a tenant's office profiles after checking region and time zone.

    This process sees them at once; every other process (a running worker) within its
    OfficeProfiles' freshness.
    """
    key = corebanks.tenant(tenant)  # an unknown tenant is refused before anything is stored
    rows = []
    for p in profiles:
        region = p.region.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError(f"{p.region!r} is not a phone region; use an ISO code such as KE.", field="region")
        try:
            ZoneInfo(p.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                f"{p.timezone!r} is not an IANA time zone such as Africa/Kampala.", field="timezone"
            ) from None
        rows.append(office_store.StoredProfile(p.office_id, p.name, region, p.timezone))
    with store.begin() as conn:
        office_store.replace_profiles(conn, key, rows)
    offices.forget()
