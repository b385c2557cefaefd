"""`herald events`: the external events herald kept aside (dead letters): list, retry, discard."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from herald.cli.base import app, console, herald_from_env
from herald.cli.times import when
from herald.errors import HeraldError
from herald.services.audit import Actor

_MOST = 2**53  # as the API: a larger id or offset overflowed SQLite's integer into a traceback

events_app = typer.Typer(help="Fineract's external events: the ones herald kept aside.", no_args_is_help=True)
app.add_typer(events_app, name="events")


@events_app.command("dead-letters")
def dead_letters_list(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 100,
    offset: Annotated[int, typer.Option(min=0, max=_MOST, help="Skip this many of the newest.")] = 0,
) -> None:
    """The external events herald could not read or act on, newest first, with the reason."""
    from herald.services import dead_letters

    herald = herald_from_env()
    shown = dead_letters.page(limit, offset, store=herald.store)
    table = Table(
        "id", "received", "tenant", "event", "reason", "bytes", "broker message id",
        title=f"Dead letters: {shown.total:,} ({herald.settings.timezone})",
    )  # fmt: skip
    for d in shown.letters:
        # Text, not str: a tenant, type or reason is what the broker brought, and rich would read "[/x]" as
        # markup (a traceback) and ActiveMQ's ids ("ID:host-1:6:-1:1:1") as emoji codes
        cells = (str(d.id), when(herald, d.received_at), d.tenant or "", d.type or "", d.reason, f"{d.size:,}",
                 d.broker_message_id)  # fmt: skip
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table)
    if shown.total > offset + len(shown.letters):
        console.print(f"{shown.total - offset - len(shown.letters):,} more: --offset {offset + len(shown.letters)}.")


@events_app.command("retry")
def retry(
    letter_id: Annotated[
        int | None, typer.Argument(metavar="ID", help="The dead letter's id.", min=1, max=_MOST)
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Retry every dead letter.")] = False,
) -> None:
    """Run a dead letter (or --all) through the consumer again, once its cause is fixed."""
    from herald.services import dead_letters

    if (letter_id is None) == (not every):
        raise HeraldError("Name one dead letter's ID or pass --all (not both): `herald events retry 12`.")
    herald = herald_from_env()
    consumer = herald.event_consumer()
    if every:
        done = dead_letters.retry_all(consumer, Actor.cli(), store=herald.store, clock=herald.clock)
        console.print(
            f"Retried {done.tried:,}: {done.went_through:,} went through and created {done.created:,} message(s);"
            f" {done.kept:,} kept aside again (`herald events dead-letters` says why).",
            highlight=False,
        )
        return
    assert letter_id is not None
    result = dead_letters.retry(letter_id, consumer, Actor.cli(), store=herald.store, clock=herald.clock)
    if result.went_through:
        console.print(
            f"Dead letter {letter_id} went through: {result.created:,} message(s) created; it is gone.", highlight=False
        )
        return
    raise HeraldError(f"Dead letter {letter_id} was kept aside again: {result.reason}")


@events_app.command("discard")
def discard(
    letter_id: Annotated[int, typer.Argument(metavar="ID", help="The dead letter's id.", min=1, max=_MOST)],
    reason: Annotated[str, typer.Option("--reason", help="Why (the audit log keeps it).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (scripts).")] = False,
) -> None:
    """Discard a dead letter for good: its events are never acted on. Audited with the reason."""
    from herald.services import dead_letters

    herald = herald_from_env()
    letter = dead_letters.get(letter_id, store=herald.store)
    if not yes:
        if not sys.stdin.isatty():
            raise HeraldError(
                "Nothing was done: `herald events discard` asks before it deletes; pass --yes to go ahead."
            )
        console.print(f"Dead letter {letter.id} ({letter.type or 'unread'}): {letter.reason}", highlight=False)
        if not typer.confirm(f"Discard dead letter {letter.id} for good?", default=False):
            raise HeraldError("Nothing was done.")
    dead_letters.discard(letter_id, reason, Actor.cli(), store=herald.store, clock=herald.clock)
    console.print(f"Dead letter {letter_id} discarded; the audit log keeps why.", highlight=False)


@events_app.command("consume")
def consume(
    for_worker: Annotated[bool, typer.Option("--for-worker", hidden=True)] = False,
) -> None:
    """Read Fineract's external events from HERALD_EVENTS_URL and store their messages, until Ctrl-C.

    `herald worker` and `herald serve` run this themselves, as a process of their own, and send what it
    stores at once; run it alone and the send job of any worker sends them.
    """
    import os
    import signal
    import threading

    from herald.services.event_stream import consume_for_worker
    from herald.worker import event_stream_for

    if for_worker:
        # The worker reads this process's stdout as its reports: anything else printed goes to stderr.
        report = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    herald = herald_from_env(say_database=not for_worker)
    stream = event_stream_for(herald)
    if stream is None:
        raise HeraldError(
            "HERALD_EVENTS_URL is not set: set it to the broker Fineract publishes to "
            "(`herald fineract events` prints what to set on both sides)."
        )
    if for_worker:
        consume_for_worker(stream, sys.stdin.buffer, report)
        return
    address = herald.settings.events_broker
    console.print(
        f"Reading Fineract's external events from {address.shown() if address else '?'} (Ctrl-C stops); "
        "a worker's send job sends what they create.",
        soft_wrap=True,
        highlight=False,
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stream.stop())
    shown = [0]

    def progress() -> None:
        while not stream.state.stopped.wait(10):
            state = stream.state
            if state.events != shown[0]:
                shown[0] = state.events
                console.print(
                    f"{state.events:,} events, {state.created:,} messages created, {state.parked:,} kept aside"
                )

    threading.Thread(target=progress, daemon=True).start()
    stream.run_here()
    state = stream.state
    console.print(
        f"Stopped: {state.events:,} events read, {state.created:,} messages created, {state.parked:,} kept aside.",
        highlight=False,
    )
