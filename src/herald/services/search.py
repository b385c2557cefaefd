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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from herald.domain import wire
from herald.domain.message import MessageStatus, status_named
from herald.domain.phones import PhoneNumber, mask, normalize
from herald.domain.redact import looks_like_phone, redact_phones
from herald.domain.spreadsheet import safe_cell
from herald.domain.times import day_bounds, utc_text
from herald.errors import NotFoundError, PermissionDeniedError, ValidationError
from herald.store import search as message_store
from herald.store.search import MessageQuery, TextTerm
from herald.store.search import StoredMessage as StoredMessage  # what search returns, for the entry points

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


def parse_status(text: str) -> MessageStatus:
    """A status from its Fineract code (300), its name (delivered) or its word ("waiting")."""
    code = text.strip()
    if code.isdigit() and int(code) in {s.value for s in MessageStatus}:
        return MessageStatus(int(code))
    named = status_named(text)
    if named is not None:
        return named
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

    def query(self, timezone: str, text: TextTerm | None = None) -> MessageQuery:
        """The store's query for this filter, days read in `timezone`."""
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValidationError(f"from ({self.date_from}) is after to ({self.date_to}).", field="from")
        since, until = day_bounds(self.date_from, self.date_to, timezone)
        return MessageQuery(
            status=self.status,
            campaign_id=self.campaign_id,
            client_id=self.client_id,
            office_id=self.office_id,
            since=since,
            until=until,
            text=text,
        )


def search(
    wanted: MessageFilter, limit: int, offset: int, *, store: Engine, timezone: str
) -> tuple[int, list[StoredMessage]]:
    """(how many messages match, one page of them in id order); days are whole days in `timezone`."""
    query = wanted.query(timezone)
    with store.connect() as conn:
        return message_store.count(conn, query), message_store.page(conn, query, limit, offset)


@dataclass(frozen=True)
class MessagePage:
    """One page of a campaign tab, newest first, with how many match and how many pages there are."""

    total: int
    rows: list[StoredMessage]
    page: int
    pages: int


def tab_page(
    wanted: MessageFilter,
    q: str,
    page: int,
    page_size: int,
    *,
    store: Engine,
    timezone: str,
    default_region: str,
    reveal: bool = False,
) -> MessagePage:
    """One page of a tab, newest first; `q` is a client id or words of the message text (see `text_search`).

    A page past the last one shows the last one.
    """
    query = tab_query(wanted, q, timezone=timezone, default_region=default_region, reveal=reveal)
    with store.connect() as conn:
        total = message_store.count(conn, query)
        pages = max((total + page_size - 1) // page_size, 1)
        page = min(max(page, 1), pages)
        rows = message_store.page(conn, query, page_size, (page - 1) * page_size, newest_first=True)
    return MessagePage(total, rows, page, pages)


def tab_query(wanted: MessageFilter, q: str, *, timezone: str, default_region: str, reveal: bool) -> MessageQuery:
    """The store's query for a tab and its search box term (see `text_search`); what its page and CSV read."""
    q = wire.cleaned(q.strip(), 100)  # a NUL would fail PostgreSQL's query; replaced, it simply matches nothing
    return wanted.query(timezone, text_search(q, reveal=reveal, default_region=default_region) if q else None)


def get_message(message_id: int, *, store: Engine) -> StoredMessage:
    with store.connect() as conn:
        found = message_store.message(conn, message_id)
    if found is None:
        raise NotFoundError(f"No message {message_id}.")
    return found


def shown_number(number: str | None, reveal: bool) -> str | None:
    if number is None:
        return None
    return number if reveal else mask(number)


def shown_text(text: str | None, reveal: bool) -> str | None:
    """Free text (a body, an error text, a reason) as this caller may see it: numbers masked unless admin."""
    return text if reveal else redact_phones(text)


def text_search(q: str, *, reveal: bool, default_region: str) -> TextTerm:
    """What a search box term looks for: a client id (digits alone), or words of the message.

    A term with a digit in it that is not a plain client id searches for a number, which only admins
    may do: anyone else could confirm, even a few digits at a time, that a number was messaged, so
    they get PermissionDeniedError (403) rather than an answer. An admin's phone-like term also
    finds messages sent to that number.
    """
    # A client id: ASCII digits ("²" is a digit to isdigit(), not to int()) that fit BIGINT.
    if q.isascii() and q.isdigit() and len(q) <= 18 and not looks_like_phone(q):
        return TextTerm(client_id=int(q))
    if not reveal and any(ch.isdigit() for ch in q):
        raise PermissionDeniedError(
            "Only admins can search message text for numbers (a number in a message may be a client's phone).",
            hint="Search by client id (digits alone, e.g. 1042) or by words of the message.",
        )
    if reveal and looks_like_phone(q):
        phone = normalize(q, default_region)
        return TextTerm(words=q, number=phone.e164 if isinstance(phone, PhoneNumber) else q.strip())
    return TextTerm(words=q)


def csv_lines(wanted: MessageFilter, *, store: Engine, timezone: str, reveal_numbers: bool) -> Iterator[str]:
    """The matching messages as CSV text, page by page (keyset on id), so any size streams in bounded memory."""
    return query_csv(wanted.query(timezone), store=store, reveal_numbers=reveal_numbers)


NAME_AT = CSV_COLUMNS.index("clientId") + 1
Names = Callable[[list[StoredMessage]], dict[int, str]]
"""The client names of a chunk of messages, by message id (what the UI's export adds as `clientName`)."""


def query_csv(query: MessageQuery, *, store: Engine, reveal_numbers: bool, names: Names | None = None) -> Iterator[str]:
    """The messages `query` matches as CSV, CSV_PAGE rows at a time (keyset on id), with a `clientName`
    column after `clientId` when `names` is given; only one chunk is ever held in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = list(CSV_COLUMNS)
    if names is not None:
        header.insert(NAME_AT, "clientName")
    writer.writerow(header)
    yield _drain(buffer)
    last = 0
    while True:
        with store.connect() as conn:
            rows = message_store.after(conn, query, last, CSV_PAGE)
        if not rows:
            return
        named = names(rows) if names is not None else None
        for r in rows:
            cells = _csv_row(r, reveal_numbers)
            if named is not None:
                cells.insert(NAME_AT, safe_cell(shown_text(named.get(r.id, ""), reveal_numbers) or ""))
            writer.writerow(cells)
        last = rows[-1].id
        yield _drain(buffer)


def _csv_row(r: StoredMessage, reveal: bool) -> list[Any]:
    status = r.status
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
    """CSV times as the API's JSON says them: ISO-8601 UTC with a Z (domain/times.py)."""
    return utc_text(value)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
