"""`herald audit list`: the audit log in the terminal, filtered by action, actor and days, times in herald's zone.

The command line reads the log directly (whoever can run `herald` can read its database); it
offers no way to change or delete an entry, because herald has none.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from herald.cli.base import app, console, herald_from_env

audit_app = typer.Typer(help="The audit log: who did what and when (read-only).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a day; give it as YYYY-MM-DD.") from None


@audit_app.command("list")
def audit_list(
    action: Annotated[str | None, typer.Option(help='An action (campaign.activate) or a kind ending in "." .')] = None,
    actor: Annotated[str | None, typer.Option(help="Exactly this actor (a username, cli:<OS user>).")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (herald's time zone).")] = None,
    to: Annotated[str | None, typer.Option(help="Last day, included.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """The newest entries first."""
    from zoneinfo import ZoneInfo

    from herald.services import audit

    herald = herald_from_env()
    wanted = audit.filter_of(
        timezone=herald.settings.timezone, action=action, actor=actor, date_from=_day(from_), date_to=_day(to)
    )
    total, entries = audit.find(wanted, limit, offset, store=herald.store)
    zone = ZoneInfo(herald.settings.timezone)
    table = Table("when", "actor", "via", "action", "target", "detail", title=f"Audit log ({herald.settings.timezone})")
    for e in entries:
        table.add_row(
            e.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z"),
            e.actor or "(unknown)",
            e.via,
            e.action,
            e.target or "",
            ", ".join(f"{k}: {v}" for k, v in e.detail.items()) + (f" from {e.address}" if e.address else ""),
        )
    console.print(table)
    console.print(f"{len(entries)} of {total:,} entr{'y' if total == 1 else 'ies'}.")
