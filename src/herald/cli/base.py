"""What every `herald` sub-command shares: the Typer apps, the console, building a Herald, progress bars."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.errors import MarkupError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from herald.errors import HeraldError


class _Console(Console):
    """rich's console, for text people typed and brokers brought: no emoji codes (ActiveMQ's ids hold
    ":-1:"), and a line whose markup does not parse (a campaign named "Promo [/x]") is printed as
    written rather than ending the command in a MarkupError traceback."""

    def __init__(self, **options: Any) -> None:
        super().__init__(emoji=False, **options)

    def render_str(self, text: str, **options: Any) -> Text:
        try:
            return super().render_str(text, **options)
        except MarkupError:
            return super().render_str(text, **(options | {"markup": False}))


console = _Console()
err_console = _Console(stderr=True)
app = typer.Typer(
    help="herald: SMS campaigns for Apache Fineract (Mifos X).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="herald's own database.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo core-banking database and the guided demo.", no_args_is_help=True)
rules_app = typer.Typer(help="Business rules (the audience queries).", no_args_is_help=True)
campaigns_app = typer.Typer(help="Create, preview and run campaigns.", no_args_is_help=True)
messages_app = typer.Typer(help="Campaign messages.", no_args_is_help=True)
jobs_app = typer.Typer(help="The three jobs.", no_args_is_help=True)
offices_app = typer.Typer(help="Offices and their phone region and time zone.", no_args_is_help=True)
providers_app = typer.Typer(help="SMS providers: what is configured, and whether it works.", no_args_is_help=True)
fineract_app = typer.Typer(help="Connecting herald to Fineract (hooks, external events).", no_args_is_help=True)
optouts_app = typer.Typer(help="The opt-out list: numbers never to be messaged.", no_args_is_help=True)
users_app = typer.Typer(help="Users of the UI and REST API, and their API tokens.", no_args_is_help=True)


def _print_version(wanted: bool) -> None:
    if wanted:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("herald")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "unknown (not installed; `pip install -e .` records it)"
        console.print(f"herald {number}", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print herald's version and exit."),
    ] = False,
) -> None:
    """herald: SMS campaigns for Apache Fineract (Mifos X)."""


for sub, name in [
    (db_app, "db"),
    (demo_app, "demo"),
    (rules_app, "rules"),
    (campaigns_app, "campaigns"),
    (messages_app, "messages"),
    (jobs_app, "jobs"),
    (offices_app, "offices"),
    (providers_app, "providers"),
    (optouts_app, "optouts"),
    (fineract_app, "fineract"),
    (users_app, "users"),
]:
    app.add_typer(sub, name=name)


def herald_from_env(*, say_database: bool = True) -> Any:
    """The Herald of a command, on an existing database only (a missing SQLite file is one line, not a new
    empty herald), named on stderr when it is not the obvious var/herald.sqlite of this folder."""
    from herald.app import Herald
    from herald.config import load_settings

    settings = load_settings()
    herald = Herald.build(settings, create_store=False)
    if say_database and settings.own_database_url != DEFAULT_DATABASE_URL:
        origin = "HERALD_DATABASE_URL" if settings.database_url else "HERALD_HOME"
        err_console.print(f"[dim]herald's database: {herald.database} ({origin}).[/]", highlight=False, soft_wrap=True)
    return herald


DEFAULT_DATABASE_URL = "sqlite:///var/herald.sqlite"
"""What herald uses with neither HERALD_DATABASE_URL nor HERALD_HOME set: the obvious one, not announced."""


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    with Progress(
        TextColumn("{task.description}", style="bold", markup=False),  # the label may name a campaign, as typed
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HeraldError(f"{option} must be a date like 2026-11-25, not {text!r}.") from None


def say_events(herald: Any) -> None:
    """Where Fineract's external events are read from, when HERALD_EVENTS_URL says (the password never shown)."""
    address = herald.settings.events_broker
    if address is not None:
        console.print(f"Fineract's external events are read from {address.shown()} as they arrive.", soft_wrap=True)
