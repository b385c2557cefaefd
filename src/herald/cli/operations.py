"""`herald users`, `herald jobs` and `herald worker`: who may do what, and running the three jobs."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from herald.cli.base import (
    app,
    console,
    err_console,
    herald_from_env,
    jobs_app,
    progress_bar,
    say_events,
    users_app,
)
from herald.cli.times import when
from herald.errors import HeraldError

# ---- users ----------------------------------------------------------------------------------------------


@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[str, typer.Option(help="admin, campaign_manager or viewer.")],
    password_env: Annotated[
        str | None, typer.Option(help="Read the password from this environment variable (scripts); else prompt.")
    ] = None,
) -> None:
    """Create a user; the password is prompted twice (or read from --password-env), never taken as an option."""
    from herald.services import auth

    wanted = auth.Role.parse(role)
    password = _password(password_env)
    herald = herald_from_env()
    user = auth.create_user(username, wanted, password, by=_by(), store=herald.store, clock=herald.clock)
    console.print(f"User [bold]{escape(user.username)}[/] created with role {user.role.value}.")


def _password(env_var: str | None) -> str:
    import os

    if env_var:
        password = os.environ.get(env_var)
        if not password:
            raise HeraldError(f"The environment variable {env_var} is not set or empty.")
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _by() -> Any:
    """The audit log's actor for a command: the operating-system user who ran it, via the CLI."""
    import getpass

    from herald.services import auth

    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container with an unnamed uid)
        who = None
    return auth.Actor(who, "cli")


@users_app.command("password")
def users_password(
    username: str,
    password_env: Annotated[
        str | None, typer.Option(help="Read the new password from this environment variable (scripts); else prompt.")
    ] = None,
) -> None:
    """Set a new password for a user (change or reset); every session of that user ends, its API tokens stay."""
    from herald.services import auth

    herald = herald_from_env()
    auth.get_user(username, store=herald.store)  # an unknown name is said before the password is typed twice
    ended = auth.set_password(username, _password(password_env), by=_by(), store=herald.store, clock=herald.clock)
    console.print(f"Password of [bold]{escape(username)}[/] changed; {ended} session{'s' if ended != 1 else ''} ended.")


@users_app.command("list")
def users_list() -> None:
    """Users with their role and whether they are active."""
    from herald.services import auth

    herald = herald_from_env()
    table = Table("username", "role", "active", "created", title="Users")
    for u in auth.list_users(store=herald.store):
        table.add_row(u.username, u.role.value, "yes" if u.active else "[red]no[/]", when(herald, u.created_at))
    console.print(table)


@users_app.command("token")
def users_token(
    username: str, name: Annotated[str, typer.Option(help="What will use it, e.g. 'nightly export'.")]
) -> None:
    """Create an API token for a user and print it once; herald keeps only its hash."""
    from herald.services import auth

    herald = herald_from_env()
    issued = auth.issue_token(username, name, by=_by(), store=herald.store, clock=herald.clock)
    err_console.print(f"Token {issued.info.id} ({issued.info.name}) for {username}; it is shown only now:")
    print(issued.token)  # plain stdout, alone on its line, so a script can capture it


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable a user: its sessions end and its API tokens are revoked (enabling it again restores neither)."""
    from herald.services import auth

    herald = herald_from_env()
    auth.update_user(username, active=False, by=_by(), store=herald.store, clock=herald.clock)
    console.print(f"User [bold]{escape(username)}[/] disabled; its sessions ended and its API tokens are revoked.")


@users_app.command("enable")
def users_enable(username: str) -> None:
    """Enable a disabled user again: it logs in with its password; its old API tokens stay revoked."""
    from herald.services import auth

    herald = herald_from_env()
    auth.update_user(username, active=True, by=_by(), store=herald.store, clock=herald.clock)
    console.print(f"User [bold]{escape(username)}[/] enabled.")


# ---- jobs and worker ------------------------------------------------------------------------------------


@jobs_app.command("run")
def jobs_run(job: Annotated[str, typer.Argument(help="update-outbound, send, delivery-reports or catch-up")]) -> None:
    """Run one job once, now."""
    from herald.domain.jobs import Job
    from herald.services import reports, send
    from herald.services.audit import Actor
    from herald.services.on_demand import record_run
    from herald.worker import catchup_for, outbound_for, puller_for, sender_for

    which = Job.from_slug(job)
    herald = herald_from_env()
    try:
        if which is Job.UPDATE_OUTBOUND:
            with progress_bar(which.value, None) as advance:
                counts = outbound_for(herald).run(advance)
        elif which is Job.SEND:
            counts = send.run(sender_for(herald))
        elif which is Job.CATCH_UP:
            counts = catchup_for(herald).run()
        else:
            counts = reports.run(puller_for(herald))
    finally:
        record_run(herald.store, herald.clock, which, Actor.cli())
    console.print(f"[bold]{which.value}[/]: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@jobs_app.command("runs")
def jobs_runs(limit: Annotated[int, typer.Option(min=1)] = 20) -> None:
    """Recent job runs with their counts and durations."""
    from herald.services.runs import recent

    herald = herald_from_env()
    table = Table("job", "started", "seconds", "counts", "error", title="Recent job runs")
    for r in recent(herald.store, None, limit):
        seconds = r.seconds
        table.add_row(
            r.job.value,
            when(herald, r.started_at, "%d %b %Y %H:%M:%S"),
            "-" if seconds is None else f"{seconds:.2f}",
            ", ".join(f"{k} {v}" for k, v in r.counts.items()),
            r.error or "",
        )
    console.print(table)


@app.command("worker")
def worker(
    until_idle: Annotated[bool, typer.Option(help="Stop when nothing is left to do.")] = False,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Serve this worker's /metrics on 127.0.0.1 at this port."),
    ] = None,
) -> None:
    """Run the three jobs continuously (Ctrl-C stops)."""
    import time

    from herald.worker import Worker

    herald = herald_from_env()
    w = Worker(herald)
    if metrics_port is not None:
        from herald.http.operations import serve_worker_metrics

        console.print(f"This worker's metrics: {serve_worker_metrics(herald, metrics_port)} (this machine only)")
    started = time.monotonic()

    def stop() -> bool:
        if duration is not None and time.monotonic() - started >= duration:
            return True
        return until_idle and w.idle()

    console.print("Worker running: " + ", ".join(f"{j.value} every {s:g}s" for j, s in w.intervals.items()))
    say_events(herald)
    w.on_stop = console.print
    w.run(stop, signals=True)  # SIGTERM / Ctrl-C: stop claiming, finish what is in flight, exit 0
