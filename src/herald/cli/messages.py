"""`herald messages search` and the table `herald messages list` prints: client names, times with their zone,
numbers masked; the search takes the Messages page's keys (number, client name or id, error code, campaign,
status, days).

Whoever runs `herald` holds its database, so the command line may search by number as an admin
does in the UI; what it prints is masked all the same, as every `herald` listing is.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from herald.cli.base import console, herald_from_env, messages_app
from herald.cli.times import when


def print_messages(herald: Any, found: Any, title: str) -> None:
    """A table of found messages (`services.message_search.FoundMessages`), times in herald's time zone."""
    from herald.domain.phones import mask

    table = Table(
        "id", "campaign", "client", "mobile", "status", "created", "seg", "detail", "message",
        title=f"{title} (times in {herald.settings.timezone})",
    )  # fmt: skip
    for r in found.rows:
        detail = r.reason or (f"{r.error_code} {r.error_text or ''}".strip() if r.error_code else "")
        name = found.client_names.get(r.id, "")
        client = f"{name} #{r.client_id}" if name else (f"#{r.client_id}" if r.client_id is not None else "")
        table.add_row(
            str(r.id),
            found.campaign_names.get(r.campaign_id, str(r.campaign_id)),
            client,
            mask(r.mobile_no),
            r.status.label,
            when(herald, r.created_at),  # as the Messages page writes it: 20 Nov 2026 08:00 EAT
            str(r.segments),
            detail,
            r.body,
        )
    console.print(table)
    if found.names_missing:
        console.print("Client names are not shown: the core-banking database could not be read.")


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a day; give it as YYYY-MM-DD.") from None


@messages_app.command("search")
def messages_search(
    number: Annotated[str, typer.Option(help="A phone number, as the client has it (0712 345678).")] = "",
    client: Annotated[str, typer.Option(help="A client id, or part of a client's name.")] = "",
    code: Annotated[str, typer.Option(help="A provider's error code, exactly (30003).")] = "",
    campaign: Annotated[str | None, typer.Option(help="A campaign's id or name.")] = None,
    status: Annotated[str, typer.Option(help="pending, waiting, sent, delivered, failed, invalid")] = "",
    from_: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (herald's time zone).")] = None,
    to: Annotated[str | None, typer.Option(help="Last day, included.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    csv: Annotated[bool, typer.Option("--csv", help="Every match as CSV on stdout (numbers masked).")] = False,
) -> None:
    """Messages across campaigns, newest first, as the UI's Messages page finds them."""
    from herald.services import campaigns
    from herald.services.message_search import SearchTerms, csv_of, query_of, window

    herald = herald_from_env()
    campaign_id = campaigns.get(campaign, store=herald.store).id if campaign else None
    terms = SearchTerms(number, code, client, campaign_id, status, _day(from_), _day(to))
    query = query_of(
        terms,
        reveal=True,
        corebanks=herald.corebanks,
        store=herald.store,
        timezone=herald.settings.timezone,
        default_region=herald.settings.default_region,
    )
    if csv:
        for text in csv_of(query, store=herald.store, corebanks=herald.corebanks, reveal_numbers=False):
            sys.stdout.write(text)
        return
    found = window(query, limit, offset, store=herald.store, corebanks=herald.corebanks)
    if not found.rows:
        console.print(f"No messages match ({found.total:,} in all)." if offset else "No messages match.")
        return
    print_messages(herald, found, "Messages, newest first")
    shown = f"{offset + 1:,}-{offset + len(found.rows):,}"
    more = f"; the next ones with --offset {offset + limit}" if offset + limit < found.total else ""
    console.print(f"{found.total:,} match; showing {shown}{more}.")
