"""Finding campaign messages: filters (status, campaign, client, office, dates), pages with a total, CSV export.

Phone numbers are personal data: the CSV, the API's lists and the UI's tabs show them masked unless
the caller is an admin, who may need the full number to follow a failure up with the provider. The
same goes for numbers inside text (bodies, provider error texts, reasons): `shown_text` masks them.
Searching message text for digits is for admins only (`text_search`), or a viewer could confirm,
digit by digit, that a number was messaged. Every CSV cell goes through `safe_cell`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, select

from herald.app import Herald
from herald.domain.message import MessageStatus
from herald.domain.phones import PhoneNumber, mask, normalize
from herald.domain.redact import looks_like_phone, redact_phones
from herald.domain.spreadsheet import safe_cell
from herald.errors import NotFoundError, PermissionDeniedError, ValidationError
from herald.store.tables import messages

CSV_PAGE = 2_000
CSV_COLUMNS = (
    "id",
    "campaignId",
    "clientId",
    "officeId",
    "mobileNo",
    "status",
    "statusCode",
    "reason",
    "errorCode",
    "errorText",
    "provider",
    "externalId",
    "segments",
    "encoding",
    "attempts",
    "createdAt",
    "sentAt",
    "deliveredAt",
    "body",
)
_STATUS_WORDS = {"WAITING": MessageStatus.WAITING_FOR_DELIVERY_REPORT}


def parse_status(text: str) -> MessageStatus:
    """A status from its Fineract code (300), its name (delivered) or "waiting"."""
    word = text.strip().upper().replace(" ", "_")
    if word.isdigit() and int(word) in {s.value for s in MessageStatus}:
        return MessageStatus(int(word))
    if word in MessageStatus.__members__:
        return MessageStatus[word]
    if word in _STATUS_WORDS:
        return _STATUS_WORDS[word]
    choices = ", ".join(f"{s.name.lower()} ({s.value})" for s in MessageStatus)
    raise ValidationError(f"Unknown message status {text!r}; choose one of {choices}.", field="status")


@dataclass(frozen=True)
class MessageFilter:
    """What to look for; dates are whole days in herald's time zone, both ends included."""

    status: MessageStatus | None = None
    campaign_id: int | None = None
    client_id: int | None = None
    office_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def conditions(self, timezone: str) -> list[ColumnElement[bool]]:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValidationError(f"from ({self.date_from}) is after to ({self.date_to}).", field="from")
        found: list[ColumnElement[bool]] = []
        for column, value in (
            (messages.c.status, self.status),
            (messages.c.campaign_id, self.campaign_id),
            (messages.c.client_id, self.client_id),
            (messages.c.office_id, self.office_id),
        ):
            if value is not None:
                found.append(column == value)
        zone = ZoneInfo(timezone)
        if self.date_from is not None:
            found.append(messages.c.created_at >= _start_of(self.date_from, zone))
        if self.date_to is not None:
            found.append(messages.c.created_at < _start_of(self.date_to + timedelta(days=1), zone))
        return found


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _filtered(herald: Herald, query: Select[Any], wanted: MessageFilter) -> Select[Any]:
    conditions = wanted.conditions(herald.settings.timezone)
    return query.where(and_(*conditions)) if conditions else query


def search(herald: Herald, wanted: MessageFilter, limit: int, offset: int) -> tuple[int, list[Any]]:
    """(how many messages match, one page of them in id order)."""
    with herald.store.connect() as conn:
        total = conn.execute(_filtered(herald, select(func.count()).select_from(messages), wanted)).scalar_one()
        rows = conn.execute(
            _filtered(herald, select(messages), wanted).order_by(messages.c.id).limit(limit).offset(offset)
        ).all()
    return int(total), list(rows)


def get_message(herald: Herald, message_id: int) -> Any:
    with herald.store.connect() as conn:
        row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
    if row is None:
        raise NotFoundError(f"No message {message_id}.")
    return row


def shown_number(number: str | None, reveal: bool) -> str | None:
    if number is None:
        return None
    return number if reveal else mask(number)


def shown_text(text: str | None, reveal: bool) -> str | None:
    """Free text (a body, an error text, a reason) as this caller may see it: numbers masked unless admin."""
    return text if reveal else redact_phones(text)


def text_search(q: str, *, reveal: bool, default_region: str) -> ColumnElement[bool]:
    """The condition for a search box term: a client id (digits alone), or words of the message.

    A term with a digit in it that is not a plain client id searches for a number, which only admins
    may do: anyone else could confirm, even a few digits at a time, that a number was messaged, so
    they get PermissionDeniedError (403) rather than an answer. An admin's phone-like term also
    finds messages sent to that number.
    """
    # A client id: ASCII digits ("²" is a digit to isdigit(), not to int()) that fit BIGINT.
    if q.isascii() and q.isdigit() and len(q) <= 18 and not looks_like_phone(q):
        return messages.c.client_id == int(q)
    if not reveal and any(ch.isdigit() for ch in q):
        raise PermissionDeniedError(
            "Only admins can search message text for numbers (a number in a message may be a client's phone).",
            hint="Search by client id (digits alone, e.g. 1042) or by words of the message.",
        )
    found = messages.c.body.contains(q, autoescape=True)
    if reveal and looks_like_phone(q):
        phone = normalize(q, default_region)
        number = phone.e164 if isinstance(phone, PhoneNumber) else q.strip()
        found = found | (messages.c.mobile_no == number)
    return found


def csv_lines(herald: Herald, wanted: MessageFilter, *, reveal_numbers: bool) -> Iterator[str]:
    """The matching messages as CSV text, page by page (keyset on id), so any size streams in bounded memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    after = 0
    while True:
        query = _filtered(herald, select(messages), wanted).where(messages.c.id > after)
        with herald.store.connect() as conn:
            rows = conn.execute(query.order_by(messages.c.id).limit(CSV_PAGE)).all()
        if not rows:
            return
        for r in rows:
            writer.writerow(_csv_row(r, reveal_numbers))
        after = rows[-1].id
        yield _drain(buffer)


def _csv_row(r: Any, reveal: bool) -> list[Any]:
    status = MessageStatus(r.status)
    cells = [
        r.id,
        r.campaign_id,
        r.client_id,
        r.office_id,
        shown_number(r.mobile_no, reveal),
        status.label,
        int(status),
        shown_text(r.reason, reveal),
        r.error_code,
        shown_text(r.error_text, reveal),
        r.provider,
        r.external_id,
        r.segments,
        r.encoding,
        r.attempts,
        _iso(r.created_at),
        _iso(r.sent_at),
        _iso(r.delivered_at),
        shown_text(r.body, reveal),
    ]
    # Any text cell can start with "=" (a malformed number stored raw from Fineract, a provider's
    # error text, a body), so every one is defused, not only those thought to be free text.
    return ["" if cell is None else safe_cell(cell) for cell in cells]


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
