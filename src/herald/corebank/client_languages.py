"""Reading each client's language from Fineract in bulk: one query per batch of clients, never one per client.

The source is a tenant's setting (`ClientLanguageSource`): a code-value column of `m_client`
(`client_classification_cv_id` -> `m_code_value.code_value`), or a column of a data table the
institution made in Fineract (a real table whose rows carry `client_id`), holding a code value's id
(Fineract names such a column `<label>_cd_<code>`) or the text itself. Names come from settings
and are checked as identifiers, then quoted for the database (Fineract makes data tables with
quoted names on PostgreSQL, so `Language_cd_lang` keeps its capitals there).
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from herald.corebank.failures import connect_failure, first_line, source_of
from herald.domain.languages import ClientLanguageSource
from herald.errors import CoreBankError

BATCH = 5_000
"""Most client ids in one lookup (SQLite allows 32,766 binds; PostgreSQL and MySQL more)."""


def _query(conn: sa.Connection, source: ClientLanguageSource) -> sa.TextClause:
    quote = conn.dialect.identifier_preparer.quote
    table, column = quote(source.table), quote(source.column)
    key = "id" if source.table.lower() == "m_client" else "client_id"
    if source.code_value:
        sql = (
            f"SELECT t.{key} AS client_id, cv.code_value AS value FROM {table} t"
            f" JOIN m_code_value cv ON cv.id = t.{column} WHERE t.{key} IN :ids"
        )
    else:
        sql = f"SELECT t.{key} AS client_id, t.{column} AS value FROM {table} t WHERE t.{key} IN :ids"
    return sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))


def read_languages(
    conn: sa.Connection, source: ClientLanguageSource, client_ids: Collection[int]
) -> dict[int, str]:
    """Client id -> language code for these clients, where their stored value means one.

    Clients without a row, with an empty value or with a word the source maps to no code are left
    out (their office's default decides). A multi-row data table's last row read wins.
    """
    found: dict[int, str] = {}
    ids = sorted(set(client_ids))
    if not ids:
        return found
    query = _query(conn, source)
    try:
        for start in range(0, len(ids), BATCH):
            for client_id, value in conn.execute(query, {"ids": ids[start : start + BATCH]}):
                language = source.language_of(value)
                if language is not None:
                    found[int(client_id)] = language
    except sa_exc.SQLAlchemyError as e:
        raise _unreadable(e, conn, source) from None
    return found


def _unreadable(error: sa_exc.SQLAlchemyError, conn: sa.Connection, source: ClientLanguageSource) -> CoreBankError:
    where = source_of(conn.engine)
    if isinstance(error, sa_exc.InterfaceError) or (
        isinstance(error, sa_exc.OperationalError) and "no such" not in first_line(error).lower()
    ):
        return connect_failure(error, where)
    return CoreBankError(
        f"herald cannot read each client's language from {source.spec} in the core-banking database"
        f" {where.url}: {first_line(error)}.",
        hint="Check HERALD_CLIENT_LANGUAGE: the table and its column must exist (a data table also needs"
        " its client_id column), or unset it to use each office's default language.",
    )


def check_source(engine: sa.Engine, source: ClientLanguageSource) -> None:
    """Read nothing but prove the source's table and column are there (CoreBankError naming them if not)."""
    with engine.connect() as conn:
        read_languages(conn, source, [-1])
