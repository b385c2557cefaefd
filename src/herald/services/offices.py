"""Offices: Fineract's branch tree joined with herald's phone region and time zone for each office."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import select

from herald.app import Herald
from herald.errors import ValidationError
from herald.store import offices as office_store


@dataclass(frozen=True)
class OfficeProfile:
    office_id: int
    name: str
    region: str
    timezone: str


def list_offices(herald: Herald, tenant: str | None = None) -> list[OfficeProfile]:
    """Every office of a tenant's core-banking database; offices without a profile show the defaults."""
    from herald.corebank.schema import m_office

    key = tenant or herald.settings.tenant
    with herald.store.connect() as conn:
        profiles = office_store.profiles_of_tenant(conn, key)
    with herald.corebank_for(key).connect() as conn:
        offices = conn.execute(select(m_office.c.id, m_office.c.name).order_by(m_office.c.hierarchy)).all()
    out = []
    for office_id, name in offices:
        p = profiles.get(office_id)
        out.append(
            OfficeProfile(
                office_id,
                name,
                p.region if p else herald.settings.default_region,
                p.timezone if p else herald.settings.timezone,
            )
        )
    return out


def set_profile(
    herald: Herald, office_id: int, region: str, timezone: str, name: str | None = None, tenant: str | None = None
) -> None:
    save_profiles(herald, [OfficeProfile(office_id, name or f"Office {office_id}", region, timezone)], tenant)


def save_profiles(herald: Herald, profiles: Iterable[OfficeProfile], tenant: str | None = None) -> None:
    """Store (or replace) a tenant's office profiles after checking region and time zone."""
    key = tenant or herald.settings.tenant
    herald.corebank_for(key)  # an unknown tenant is refused before anything is stored
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
    with herald.store.begin() as conn:
        office_store.replace_profiles(conn, key, rows)
    herald.offices.forget()
