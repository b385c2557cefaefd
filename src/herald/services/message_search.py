"""Finding messages across campaigns: by phone number (admins only), error code, client name or id, campaign,
status and dates; one page at a time with client and campaign names, or every match as CSV.

A client's name is Fineract's, not herald's: a name search asks each tenant's core bank for the
ids of clients so named, then finds their messages in that tenant's campaigns. Searching by number
is for admins only, as everywhere in herald (`services/search.py`): anyone else could confirm that
a number was messaged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Engine

from herald.corebank import clients
from herald.corebank.engines import CoreBanks
from herald.domain import wire
from herald.domain.phones import PhoneNumber, normalize
from herald.errors import CoreBankError, PermissionDeniedError, ValidationError
from herald.services.search import MessageFilter, StoredMessage, parse_status, query_csv
from herald.store import message_history
from herald.store import search as message_store
from herald.store.search import MessageQuery as MessageQuery  # what a search is, for the entry points

NAMED_CLIENTS = 1_000
"""At most this many clients per tenant match a name: a name search is for finding a person, not a crowd."""


@dataclass(frozen=True)
class SearchTerms:
    """What the Messages page's form asks for; empty fields ask for nothing."""

    number: str = ""
    error_code: str = ""
    client: str = ""  # a client id (digits alone) or part of a client's name
    campaign_id: int | None = None
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def given(self) -> bool:
        return any((self.number, self.error_code, self.client, self.campaign_id, self.status)) or bool(
            self.date_from or self.date_to
        )


@dataclass(frozen=True)
class FoundMessages:
    """One page of matches, newest first, with each message's client name and campaign name (by message id)."""

    total: int
    rows: list[StoredMessage]
    page: int
    pages: int
    client_names: dict[int, str]
    campaign_names: dict[int, str]
    names_missing: bool  # a core bank could not be read: the page shows client ids alone


def query_of(
    terms: SearchTerms,
    *,
    reveal: bool,
    corebanks: CoreBanks,
    store: Engine,
    timezone: str,
    default_region: str,
    most: int = NAMED_CLIENTS,
) -> MessageQuery:
    """The store's query for these terms; a number from a non-admin is refused (PermissionDeniedError), a
    name that more than `most` clients of one tenant share is refused (ValidationError)."""
    client_id, named = None, None
    client = wire.cleaned(terms.client.strip(), 100)
    if client.isascii() and client.isdigit():
        if len(client) > 18:
            raise ValidationError(f"{client} is not a client id (too long).", field="client")
        client_id = int(client)
    elif client:
        if not reveal and any(ch.isdigit() for ch in client):  # names shown masked must not answer digit by digit
            raise PermissionDeniedError(
                "Only admins can search client names for digits: a name may hold a phone number, shown to you masked.",
                hint="Search by the client id (digits alone) or by letters of the name.",
            )
        named = tuple((t, tuple(clients.ids_named(corebanks.engine(t), client, most + 1))) for t in corebanks.tenants)
        if any(len(ids) > most for _, ids in named):
            raise ValidationError(
                f"More than {most:,} clients have {client!r} in their name; type more of it, or the client id.",
                field="client",
            )
    wanted = MessageFilter(
        status=parse_status(terms.status) if terms.status.strip() else None,
        campaign_id=terms.campaign_id,
        client_id=client_id,
        date_from=terms.date_from,
        date_to=terms.date_to,
    )
    error_code = wire.cleaned(terms.error_code.strip(), message_store.ERROR_CODE_LENGTH) or None
    number = _number(terms.number, reveal=reveal, default_region=default_region)
    return replace(wanted.query(timezone), error_code=error_code, number=number, clients=named)


def _number(text: str, *, reveal: bool, default_region: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if not reveal:
        raise PermissionDeniedError(
            "Only admins can search by phone number (anyone else could confirm that a number was messaged).",
            hint="Search by client name or id, error code or campaign instead.",
        )
    phone = normalize(text, default_region)
    if not isinstance(phone, PhoneNumber):
        raise ValidationError(
            f"{text!r} is {phone.problem.value}; type it as the client has it, e.g. 0712 345678 or +254712345678.",
            field="number",
        )
    return phone.e164


def find(query: MessageQuery, page: int, page_size: int, *, store: Engine, corebanks: CoreBanks) -> FoundMessages:
    """One page of the matches, newest first (a page past the last shows the last), with names."""
    with store.connect() as conn:
        total = message_store.count(conn, query)
    page = min(max(page, 1), max((total + page_size - 1) // page_size, 1))
    return window(query, page_size, (page - 1) * page_size, store=store, corebanks=corebanks, total=total)


def window(
    query: MessageQuery,
    limit: int,
    offset: int,
    *,
    store: Engine,
    corebanks: CoreBanks,
    newest_first: bool = True,
    total: int | None = None,
) -> FoundMessages:
    """`limit` matches from `offset` (newest first, or in id order) with their names, counted unless `total`."""
    with store.connect() as conn:
        if total is None:
            total = message_store.count(conn, query)
        rows = message_store.page(conn, query, limit, offset, newest_first=newest_first)
        campaigns = message_history.campaign_tenants(conn, {r.campaign_id for r in rows})
    try:
        names, missing = client_names(rows, campaigns, corebanks), False
    except CoreBankError:
        names, missing = {}, True
    campaign_names = {cid: name for cid, (name, _) in campaigns.items()}
    pages = max((total + limit - 1) // limit, 1)
    return FoundMessages(total, rows, offset // limit + 1, pages, names, campaign_names, missing)


def client_names(
    rows: list[StoredMessage], campaigns: dict[int, tuple[str, str]], corebanks: CoreBanks
) -> dict[int, str]:
    """Each message's client name from its campaign's tenant's core bank, by message id."""
    wanted: dict[str, set[int]] = {}
    for r in rows:
        if r.client_id is not None and r.campaign_id in campaigns:
            wanted.setdefault(campaigns[r.campaign_id][1], set()).add(r.client_id)
    by_tenant = {t: clients.names_of(corebanks.engine(t), ids) for t, ids in wanted.items()}
    found: dict[int, str] = {}
    for r in rows:
        tenant = campaigns.get(r.campaign_id, ("", ""))[1]
        name = by_tenant.get(tenant, {}).get(r.client_id or 0)
        if name is not None:
            found[r.id] = name
    return found


def csv_of(query: MessageQuery, *, store: Engine, corebanks: CoreBanks, reveal_numbers: bool) -> Iterator[str]:
    """Every match as CSV with a clientName column, streamed in chunks (see `services.search.query_csv`)."""

    def names(rows: list[StoredMessage]) -> dict[int, str]:
        with store.connect() as conn:
            campaigns = message_history.campaign_tenants(conn, {r.campaign_id for r in rows})
        try:
            return client_names(rows, campaigns, corebanks)
        except CoreBankError:
            return {}  # a core bank down mid-export: the rows still come, without names

    return query_csv(query, store=store, reveal_numbers=reveal_numbers, names=names)
