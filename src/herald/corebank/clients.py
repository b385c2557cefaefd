"""Clients in a tenant's core-banking database by name: the ids whose name matches a search, the names of ids.

herald keeps only a message's client id; the name a person searches for or reads lives in Fineract's
`m_client.display_name`, so it is looked up here, read-only, when a page or an export needs it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from herald.corebank.schema import m_client
from herald.errors import CoreBankError

NAMES_PER_QUERY = 500  # ids per IN (...): well under every database's bind-parameter limit


def _unreadable(exc: SQLAlchemyError) -> CoreBankError:
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[:1]
    return CoreBankError(
        f"Cannot read client names from the core-banking database: {first[0] if first else type(exc).__name__}.",
        hint="Check HERALD_COREBANK_URL (or HERALD_TENANTS) and that the database server is running.",
    )


def ids_named(engine: Engine, words: str, limit: int) -> list[int]:
    """The ids of up to `limit` clients whose display name contains `words` (case-insensitive), lowest first."""
    wanted = m_client.c.display_name.icontains(words.strip(), autoescape=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(m_client.c.id).where(wanted).order_by(m_client.c.id).limit(limit))
            return [int(r.id) for r in rows]
    except SQLAlchemyError as exc:
        raise _unreadable(exc) from None


def names_of(engine: Engine, ids: Iterable[int]) -> dict[int, str]:
    """The display name of each of these clients the core bank knows."""
    wanted = sorted(set(ids))
    found: dict[int, str] = {}
    try:
        with engine.connect() as conn:
            for start in range(0, len(wanted), NAMES_PER_QUERY):
                chunk = wanted[start : start + NAMES_PER_QUERY]
                query = select(m_client.c.id, m_client.c.display_name).where(m_client.c.id.in_(chunk))
                found.update({int(r.id): str(r.display_name) for r in conn.execute(query)})
    except SQLAlchemyError as exc:
        raise _unreadable(exc) from None
    return found
