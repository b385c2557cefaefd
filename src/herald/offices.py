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


def list_offices(herald: Herald) -> list[OfficeProfile]:
    """Every office of the core-banking database; offices without a profile show the defaults."""
    from herald.corebank.schema import m_office

    with herald.store.connect() as conn:
        profiles = {r.office_id: r for r in conn.execute(select(office_profiles))}
    with herald.corebank.connect() as conn:
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


def set_profile(herald: Herald, office_id: int, region: str, timezone: str, name: str | None = None) -> None:
    save_profiles(herald, [OfficeProfile(office_id, name or f"Office {office_id}", region, timezone)])


def save_profiles(herald: Herald, profiles: Iterable[OfficeProfile]) -> None:
    """Store (or replace) office profiles after checking region and time zone."""
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
        rows.append({"office_id": p.office_id, "name": p.name, "region": region, "timezone": p.timezone})
    with herald.store.begin() as conn:
        for row in rows:
            conn.execute(delete(office_profiles).where(office_profiles.c.office_id == row["office_id"]))
        if rows:
            conn.execute(insert(office_profiles), rows)
    herald._regions = None
    herald._timezones = None
