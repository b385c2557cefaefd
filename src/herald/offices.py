"""Offices: Fineract's branch tree joined with herald's phone region and time zone for each office."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import delete, insert, select

from herald.app import Herald
from herald.errors import ValidationError
from herald.store.tables import office_profiles


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
        profiles = {
            r.office_id: r for r in conn.execute(select(office_profiles).where(office_profiles.c.tenant == key))
        }
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
        rows.append({"tenant": key, "office_id": p.office_id, "name": p.name, "region": region, "timezone": p.timezone})
    with herald.store.begin() as conn:
        for row in rows:
            conn.execute(
                delete(office_profiles).where(
                    office_profiles.c.tenant == key, office_profiles.c.office_id == row["office_id"]
                )
            )
        if rows:
            conn.execute(insert(office_profiles), rows)
    herald.forget_office_profiles()
