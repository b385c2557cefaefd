"""This installation's identity: the id made once in herald's database, and when it was made.

A provider account may be shared by several herald databases (two institutions' installations, a
test and a production one, a database rebuilt from scratch). Row ids repeat across them, so every
reference herald hands a provider carries this id too. The row is made by migration 0008, for new
and upgraded databases alike; references sent before it existed (the old `herald-<id>-<attempt>`
form) are still matched by the external id each message stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select

from herald.errors import ConfigurationError
from herald.store.tables import installation


@dataclass(frozen=True)
class Installation:
    """The id carried in every reference, and since when (attempts begun earlier used the old form)."""

    id: str
    since: datetime


def identity(conn: Connection) -> Installation:
    row = conn.execute(select(installation.c.id, installation.c.created_at)).first()
    if row is None:
        # Only a database whose row was deleted by hand gets here: making a new id would orphan the
        # references already sent under the old one, so refuse and say how to mend it.
        raise ConfigurationError(
            "herald's database has no installation id (table `installation` is empty).",
            hint="Restore the row from a backup of herald's database; a new id would cut off the reports of "
            "messages sent under the old one.",
        )
    return Installation(row.id, row.created_at)


def load(engine: Engine) -> Installation:
    """The identity, read once per process by the composition root."""
    with engine.connect() as conn:
        return identity(conn)
