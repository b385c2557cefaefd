"""Office profiles in herald's store: each office's phone region, time zone and default language, per tenant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from herald.store.tables import office_profiles


@dataclass(frozen=True)
class StoredProfile:
    office_id: int
    name: str
    region: str
    timezone: str
    language: str | None = None  # the office's default language for messages; None: the campaign's first


def profiles_of_tenant(conn: Connection, tenant: str) -> dict[int, StoredProfile]:
    rows = conn.execute(select(office_profiles).where(office_profiles.c.tenant == tenant))
    return {r.office_id: StoredProfile(r.office_id, r.name, r.region, r.timezone, r.language) for r in rows}


def all_profiles(conn: Connection) -> dict[str, dict[int, StoredProfile]]:
    """Every tenant's profiles: tenant -> office id -> profile."""
    found: dict[str, dict[int, StoredProfile]] = {}
    for r in conn.execute(select(office_profiles)):
        profile = StoredProfile(r.office_id, r.name, r.region, r.timezone, r.language)
        found.setdefault(r.tenant, {})[r.office_id] = profile
    return found


def replace_profiles(conn: Connection, tenant: str, profiles: Sequence[StoredProfile]) -> None:
    """Store these offices' profiles, replacing what the tenant had for the same offices."""
    for p in profiles:
        mine = office_profiles.c.tenant == tenant
        conn.execute(delete(office_profiles).where(mine, office_profiles.c.office_id == p.office_id))
    if profiles:
        conn.execute(
            insert(office_profiles),
            [
                {"tenant": tenant, "office_id": p.office_id, "name": p.name, "region": p.region, "timezone": p.timezone,
                 "language": p.language}
                for p in profiles
            ],
        )
