"""Finding stored messages: one query record (filters and a search term), counted, paged, or read in keyset chunks.

Rows come back as `StoredMessage` records. The store applies what it is given; who may search
for what (numbers are for admins only) is decided by `herald.services.search` before it gets here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Row, String, and_, false, func, or_, select

from herald.domain.message import MessageStatus
from herald.store.tables import campaigns, messages


def _length(column: Column[Any]) -> int:
    assert isinstance(column.type, String) and column.type.length is not None
    return column.type.length


EXTERNAL_ID_LENGTH, ERROR_CODE_LENGTH, ERROR_TEXT_LENGTH = (
    _length(c) for c in (messages.c.external_id, messages.c.error_code, messages.c.error_text)
)
"""The longest provider id, error code and error text a message holds (what a webhook may bring is checked)."""


@dataclass(frozen=True)
class StoredMessage:
    """One campaign message as stored, the columns people see (pages, API, CSV)."""

    id: int
    campaign_id: int
    client_id: int | None
    office_id: int | None
    mobile_no: str | None
    body: str
    status: MessageStatus
    reason: str | None
    error_code: str | None
    error_text: str | None
    provider: str
    external_id: str | None
    encoding: str
    segments: int
    attempts: int
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, r: Row[Any]) -> StoredMessage:
        return cls(
            r.id,
            r.campaign_id,
            r.client_id,
            r.office_id,
            r.mobile_no,
            r.body,
            MessageStatus(r.status),
            r.reason,
            r.error_code,
            r.error_text,
            r.provider,
            r.external_id,
            r.encoding,
            r.segments,
            r.attempts,
            r.created_at,
            r.updated_at,
            r.sent_at,
            r.delivered_at,
        )


@dataclass(frozen=True)
class TextTerm:
    """A search box term: a client id, or words of the body (and then, if given, messages sent to `number`)."""

    client_id: int | None = None
    words: str | None = None
    number: str | None = None  # E.164; only ever set for an admin's search

    def condition(self) -> ColumnElement[bool]:
        if self.client_id is not None:
            return messages.c.client_id == self.client_id
        found = messages.c.body.contains(self.words or "", autoescape=True)
        if self.number is not None:
            found = found | (messages.c.mobile_no == self.number)
        return found


@dataclass(frozen=True)
class MessageQuery:
    """Which messages: every given field must match; `since` included, `until` excluded."""

    status: MessageStatus | None = None
    campaign_id: int | None = None
    client_id: int | None = None
    office_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: TextTerm | None = None
    error_code: str | None = None
    number: str | None = None  # E.164, exactly; only ever set for an admin's search
    # Clients found by name in each tenant's core bank: (tenant, their ids); () matches nothing.
    clients: tuple[tuple[str, tuple[int, ...]], ...] | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        for column, value in (
            (messages.c.status, self.status),
            (messages.c.campaign_id, self.campaign_id),
            (messages.c.client_id, self.client_id),
            (messages.c.office_id, self.office_id),
            (messages.c.error_code, self.error_code),
            (messages.c.mobile_no, self.number),
        ):
            if value is not None:
                found.append(column == value)
        if self.since is not None:
            found.append(messages.c.created_at >= self.since)
        if self.until is not None:
            found.append(messages.c.created_at < self.until)
        if self.text is not None:
            found.append(self.text.condition())
        if self.clients is not None:
            found.append(or_(false(), *(_of_tenant(tenant, ids) for tenant, ids in self.clients if ids)))
        return found


def _of_tenant(tenant: str, ids: tuple[int, ...]) -> ColumnElement[bool]:
    """Messages to these clients of this tenant (a client id means a person only within its own core bank)."""
    of_tenant = select(campaigns.c.id).where(campaigns.c.tenant == tenant)
    return and_(messages.c.client_id.in_(ids), messages.c.campaign_id.in_(of_tenant))


def count(conn: Connection, wanted: MessageQuery) -> int:
    """How many messages match."""
    return int(conn.execute(select(func.count()).select_from(messages).where(*wanted.conditions())).scalar_one())


def page(
    conn: Connection, wanted: MessageQuery, limit: int, offset: int, *, newest_first: bool = False
) -> list[StoredMessage]:
    """One page of the matching messages in id order (or newest first)."""
    order = messages.c.id.desc() if newest_first else messages.c.id
    query = select(messages).where(*wanted.conditions()).order_by(order).limit(limit).offset(offset)
    return [StoredMessage.from_row(r) for r in conn.execute(query)]


def after(conn: Connection, wanted: MessageQuery, after_id: int, limit: int) -> list[StoredMessage]:
    """The next `limit` matching messages with an id above `after_id` (keyset paging: exports of any size)."""
    query = select(messages).where(*wanted.conditions(), messages.c.id > after_id).order_by(messages.c.id).limit(limit)
    return [StoredMessage.from_row(r) for r in conn.execute(query)]


def message(conn: Connection, message_id: int) -> StoredMessage | None:
    row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
    return StoredMessage.from_row(row) if row is not None else None
