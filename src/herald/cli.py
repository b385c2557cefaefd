"""The `herald` command: set up, create and watch campaigns, run the jobs and the worker."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from herald.errors import HeraldError

console = Console()
err_console = Console(stderr=True)
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
fineract_app = typer.Typer(help="Connecting herald to Fineract (hooks).", no_args_is_help=True)
optouts_app = typer.Typer(help="The opt-out list: numbers never to be messaged.", no_args_is_help=True)
users_app = typer.Typer(help="Users of the UI and REST API, and their API tokens.", no_args_is_help=True)
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

T = TypeVar("T")


def main() -> None:
    """Entry point: herald's own errors become one readable line and exit code 1, never a stack trace."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except HeraldError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False)
        sys.exit(1)


def _herald() -> Any:
    from herald.app import Herald
    from herald.config import load_settings

    return Herald.build(load_settings())


@contextmanager
def _progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


# ---- db -------------------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply herald's database migrations (needed once per release on PostgreSQL)."""
    from herald.config import load_settings
    from herald.store.database import make_engine, upgrade

    settings = load_settings()
    revision = upgrade(make_engine(settings.own_database_url))
    console.print(f"herald's database is at revision [bold]{revision}[/].")


# ---- demo -----------------------------------------------------------------------------------------------


@demo_app.command("init")
def demo_init(
    clients: Annotated[int, typer.Option(min=10, help="How many clients to generate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 1,
    today: Annotated[str | None, typer.Option(help="The demo's 'today' (YYYY-MM-DD); default: today.")] = None,
) -> None:
    """Create the demo Fineract database (Fineract's tables, synthetic clients, loans and savings)."""
    from herald import demo

    day = _parse_date(today, "--today") if today else None
    summary = demo.init(clients=clients, seed=seed, today=day, progress_factory=_progress)
    table = Table(title=f"Demo core-banking database ({summary.url})")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in summary.counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)


@demo_app.command("run")
def demo_run(
    clients: Annotated[int, typer.Option(min=10)] = 10_000,
    seed: Annotated[int, typer.Option()] = 1,
    timeout: Annotated[float, typer.Option(help="Stop watching after this many seconds.")] = 45.0,
    provider: Annotated[
        str, typer.Option(help="simulator, or twilio / infobip / smpp to send through a local fake of it.")
    ] = "simulator",
) -> None:
    """The main job: demo database, three campaigns, the worker with the simulator, live tab counts."""
    from herald import demo

    demo.run_main_job(
        console, clients=clients, seed=seed, timeout=timeout, progress_factory=_progress, provider=provider
    )


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HeraldError(f"{option} must be a date like 2026-11-25, not {text!r}.") from None


# ---- rules ----------------------------------------------------------------------------------------------


@rules_app.command("list")
def rules_list() -> None:
    """Every business rule with its parameters and template variables."""
    from herald.rules.catalog import all_rules

    table = Table(title="Business rules", show_lines=True)
    for column in ("id", "name", "parameters", "template variables", "one message per"):
        table.add_column(column, overflow="fold")
    for rule in all_rules():
        params = ", ".join(p.name + ("" if p.default is None else f"={p.default}") for p in rule.parameters)
        table.add_row(
            str(rule.id),
            rule.name,
            params,
            " ".join(rule.variables),
            f"{rule.fact} ({rule.dedup_scope.value.replace('_', ' ')})",
        )
    console.print(table)
    console.print("Triggered rules fire on Fineract hooks (`herald fineract hook` registers herald's hook).")


@rules_app.command("show")
def rules_show(rule: Annotated[str, typer.Argument(help="Rule id or name.")]) -> None:
    """One rule: description, parameters, variables."""
    from herald.rules.catalog import get_rule

    r = get_rule(rule)
    console.print(f"[bold]{r.id} {r.name}[/]\n{r.description}\n")
    table = Table("parameter", "label", "kind", "default")
    for p in r.parameters:
        table.add_row(p.name, p.label, p.kind.name.lower(), "" if p.default is None else str(p.default))
    console.print(table)
    console.print("Variables: " + " ".join("{{" + v + "}}" for v in r.variables))


# ---- offices --------------------------------------------------------------------------------------------


@offices_app.command("list")
def offices_list() -> None:
    """Offices of the core-banking database with herald's phone region and time zone for each."""
    from herald import offices

    herald = _herald()
    table = Table("id", "office", "region", "time zone", title="Offices")
    for o in offices.list_offices(herald):
        table.add_row(str(o.office_id), o.name, o.region, o.timezone)
    console.print(table)


@offices_app.command("set")
def offices_set(
    office_id: int,
    region: Annotated[str, typer.Option(help="ISO country code for local numbers, e.g. UG.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Africa/Kampala.")],
) -> None:
    """Set an office's phone region and time zone."""
    from herald import offices

    offices.set_profile(_herald(), office_id, region, timezone)
    console.print(f"Office {office_id}: region {region.upper()}, time zone {timezone}.")


# ---- providers and opt-outs ----------------------------------------------------------------------------


@providers_app.command("list")
def providers_list() -> None:
    """Configured providers with their limits and fallbacks (secrets never shown)."""
    herald = _herald()
    table = Table("name", "kind", "endpoint", "rate limit", "in flight", "fallback", title="Providers")
    for name, config in herald.provider_settings.items():
        endpoint = getattr(config, "base_url", None) or (
            f"{config.host}:{config.port}" if hasattr(config, "host") else "built in"
        )
        table.add_row(
            name,
            config.kind,
            str(endpoint),
            f"{config.rate_limit:g}/s" if config.rate_limit else "-",
            str(config.max_in_flight),
            config.fallback or herald.settings.fallback_provider or "-",
        )
    console.print(table)


@providers_app.command("check")
def providers_check(name: Annotated[str | None, typer.Argument(help="One provider; all when omitted.")] = None) -> None:
    """Reachability and credentials of each provider, without sending a message."""
    import asyncio

    herald = _herald()
    names = [name] if name else list(herald.providers)

    async def check_all() -> list[Any]:
        try:
            return [await herald.provider(n).check() for n in names]
        finally:
            await herald.close_providers()

    results = asyncio.run(check_all())
    table = Table("provider", "ok", "detail", title="Provider check")
    for n, result in zip(names, results, strict=True):
        table.add_row(n, "[green]yes[/]" if result.ok else "[red]no[/]", result.detail)
    console.print(table)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@optouts_app.command("list")
def optouts_list(limit: Annotated[int, typer.Option(min=1)] = 50) -> None:
    """Opted-out numbers (masked), newest first."""
    from sqlalchemy import select

    from herald.domain.phones import mask
    from herald.store.tables import opt_outs

    herald = _herald()
    with herald.store.connect() as conn:
        rows = conn.execute(select(opt_outs).order_by(opt_outs.c.created_at.desc()).limit(limit)).all()
    table = Table("number", "source", "detail", "since (UTC)", title="Opt-out list")
    for r in rows:
        table.add_row(mask(r.number), r.source, r.detail or "", f"{r.created_at:%Y-%m-%d %H:%M}")
    console.print(table)


@optouts_app.command("add")
def optouts_add(number: str, reason: Annotated[str, typer.Option()] = "added by hand") -> None:
    """Put a number on the opt-out list."""
    from herald.domain.phones import PhoneRejection, mask, normalize
    from herald.store import optouts

    herald = _herald()
    phone = normalize(number, herald.settings.default_region)
    if isinstance(phone, PhoneRejection):
        raise HeraldError(f"{number!r} is {phone.problem.value}; give the number as +<country><number>.")
    with herald.store.begin() as conn:
        optouts.add(conn, [phone.e164], source="cli", detail=reason, now=herald.clock.now())
    console.print(f"{mask(phone.e164)} is on the opt-out list.")


@optouts_app.command("remove")
def optouts_remove(number: str) -> None:
    """Take a number off the opt-out list (the client asked to be messaged again)."""
    from sqlalchemy import delete

    from herald.domain.phones import PhoneRejection, mask, normalize
    from herald.store.tables import opt_outs

    herald = _herald()
    phone = normalize(number, herald.settings.default_region)
    if isinstance(phone, PhoneRejection):
        raise HeraldError(f"{number!r} is {phone.problem.value}.")
    with herald.store.begin() as conn:
        gone = conn.execute(delete(opt_outs).where(opt_outs.c.number == phone.e164)).rowcount
    console.print(f"{mask(phone.e164)} {'removed from' if gone else 'was not on'} the opt-out list.")


@fineract_app.command("hook")
def fineract_hook(
    register_at: Annotated[
        str | None,
        typer.Option("--register", help="Fineract API base, e.g. https://host:8443/fineract-provider/api/v1"),
    ] = None,
    tenant: Annotated[str, typer.Option()] = "default",
    username: Annotated[str, typer.Option()] = "mifos",
    password: Annotated[str | None, typer.Option(envvar="HERALD_FINERACT_PASSWORD", hide_input=True)] = None,
    insecure: Annotated[bool, typer.Option(help="Accept Fineract's self-signed certificate.")] = False,
) -> None:
    """Print the JSON that registers herald's hook in Fineract, or register it with --register."""
    import json

    from herald.config import load_settings
    from herald.events.registration import hook_request, payload_url, register

    settings = load_settings()
    secret = settings.fineract_hook_secret.get_secret_value() if settings.fineract_hook_secret else None
    body = hook_request(payload_url(settings.public_url, secret))
    if register_at is None:
        print(json.dumps(body, indent=2))
        err_console.print("POST this to Fineract's /hooks (or run again with --register <api base>).")
        return
    if not password:
        raise HeraldError("Give the Fineract password with HERALD_FINERACT_PASSWORD (never on the command line).")
    result = register(register_at, tenant, username, password, body, verify_tls=not insecure)
    console.print(f"Hook registered in Fineract (resource {result.get('resourceId', '?')}).")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
) -> None:
    """Serve herald's HTTP endpoints (provider webhooks; set HERALD_PUBLIC_URL behind a proxy)."""
    import uvicorn

    from herald.api.app import create_app

    uvicorn.run(create_app(_herald()), host=host, port=port, log_level="warning")


# ---- campaigns ------------------------------------------------------------------------------------------


def _params(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        if "=" not in item:
            raise HeraldError(f"--param takes name=value (e.g. officeId=1), not {item!r}.")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


ParamOpt = Annotated[list[str] | None, typer.Option("--param", "-p", help="Rule parameter name=value; repeat.")]


@campaigns_app.command("create")
def campaigns_create(
    name: Annotated[str, typer.Option(help="Campaign name.")],
    rule: Annotated[str, typer.Option(help="Business rule id or name (`herald rules list`).")],
    message: Annotated[str, typer.Option(help="Mustache template, e.g. 'Dear {{firstName}}, ...'.")],
    trigger: Annotated[str, typer.Option(help="direct or schedule.")] = "direct",
    param: ParamOpt = None,
    provider: Annotated[str, typer.Option()] = "simulator",
    fallback: Annotated[str | None, typer.Option(help="Provider that takes over while the main one fails.")] = None,
    recurrence: Annotated[str | None, typer.Option(help="RRULE for schedule, e.g. FREQ=DAILY;BYHOUR=8.")] = None,
    start: Annotated[str | None, typer.Option(help="Recurrence start, local time: 2026-12-01T08:00.")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA time zone of the schedule.")] = None,
) -> None:
    """Create a campaign (Pending until activated)."""
    from herald import campaigns

    request = campaigns.CampaignRequest.model_validate(
        {
            "campaignName": name,
            "triggerType": trigger,
            "runReportId": rule,
            "paramValue": _params(param),
            "message": message,
            "providerId": provider,
            "fallbackProviderId": fallback,
            "recurrence": recurrence,
            "recurrenceStartDate": start,
            "timezone": timezone,
        }
    )
    c = campaigns.create(_herald(), request)
    console.print(
        f'Created campaign [bold]{c.id}[/] "{c.name}" ({c.trigger_type.name.lower()}, '
        f"rule {c.rule.name}), status Pending. Preview it with `herald campaigns preview {c.id}`."
    )


@campaigns_app.command("edit")
def campaigns_edit(
    campaign: str,
    name: Annotated[str | None, typer.Option()] = None,
    rule: Annotated[str | None, typer.Option()] = None,
    message: Annotated[str | None, typer.Option()] = None,
    trigger: Annotated[str | None, typer.Option()] = None,
    param: ParamOpt = None,
    provider: Annotated[str | None, typer.Option()] = None,
    fallback: Annotated[str | None, typer.Option()] = None,
    recurrence: Annotated[str | None, typer.Option()] = None,
    start: Annotated[str | None, typer.Option()] = None,
    timezone: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Change a campaign that is not active; options not given keep their value."""
    from herald import campaigns

    herald = _herald()
    c = campaigns.get(herald, campaign)
    params: dict[str, Any] = {k: str(v) for k, v in c.params.items()}
    params.update(_params(param))
    request = campaigns.CampaignRequest.model_validate(
        {
            "campaignName": name or c.name,
            "triggerType": trigger or c.trigger_type.value,
            "runReportId": rule or c.rule.id,
            "paramValue": params,
            "message": message or c.template,
            "providerId": provider or c.provider,
            "fallbackProviderId": fallback or c.fallback_provider,
            "recurrence": recurrence or (c.recurrence.rule if c.recurrence else None),
            "recurrenceStartDate": start or (c.recurrence.start if c.recurrence else None),
            "timezone": timezone or (c.recurrence.timezone if c.recurrence else None),
        }
    )
    c = campaigns.edit(herald, c.id, request)
    console.print(f'Campaign {c.id} "{c.name}" updated.')


@campaigns_app.command("list")
def campaigns_list() -> None:
    """Campaigns with their status and message counts per tab."""
    from herald import campaigns
    from herald.domain.message import MessageStatus
    from herald.store.messages import status_counts

    herald = _herald()
    with herald.store.connect() as conn:
        counts = status_counts(conn)
    table = Table(title="Campaigns")
    for column in ("id", "name", "trigger", "rule", "status", "next run"):
        table.add_column(column)
    for s in MessageStatus:
        table.add_column(s.label, justify="right")
    for c in campaigns.list_all(herald):
        per = counts.get(c.id, {})
        nxt = c.next_trigger_at.strftime("%Y-%m-%d %H:%M UTC") if c.next_trigger_at else "-"
        table.add_row(
            str(c.id),
            c.name,
            c.trigger_type.name.lower(),
            c.rule.name,
            c.status.name.capitalize(),
            nxt,
            *[f"{per.get(s, 0):,}" for s in MessageStatus],
        )
    console.print(table)


@campaigns_app.command("show")
def campaigns_show(campaign: str) -> None:
    """One campaign in full."""
    from herald import campaigns

    c = campaigns.get(_herald(), campaign)
    table = Table(show_header=False, title=f"Campaign {c.id}")
    rows = [
        ("name", c.name),
        ("trigger type", c.trigger_type.name.lower()),
        ("rule", f"{c.rule.id} {c.rule.name}"),
        ("parameters", ", ".join(f"{k}={v}" for k, v in c.params.items())),
        ("message", c.template),
        ("provider", c.provider + (f" (fallback {c.fallback_provider})" if c.fallback_provider else "")),
        ("status", c.status.name.capitalize()),
        ("schedule", c.recurrence.describe() if c.recurrence else "-"),
        ("next run", str(c.next_trigger_at or "-")),
        ("last run", str(c.last_trigger_at or "-")),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)


@campaigns_app.command("preview")
def campaigns_preview(campaign: str, samples: Annotated[int, typer.Option(min=0, max=50)] = 5) -> None:
    """Audience size, sample messages with encoding and segments, and the cost estimate."""
    from herald import campaigns
    from herald.preview import preview

    herald = _herald()
    p = preview(herald, campaigns.get(herald, campaign), samples)
    table = Table("client", "mobile", "encoding", "segments", "message", title="Sample messages")
    for s in p.samples:
        table.add_row(
            str(s.client_id),
            s.mobile_no,
            s.encoding,
            str(s.segments),
            s.body if s.reason is None else f"[red]INVALID: {s.reason}[/]\n{s.body}",
        )
    console.print(table)
    approx = "" if p.exact else "about "
    console.print(
        f"Audience: {approx}{p.audience:,} clients; {p.sendable:,} sendable, {p.invalid:,} invalid "
        f"({', '.join(f'{v:,} {k}' for k, v in p.invalid_reasons.items()) or 'none'})."
    )
    console.print(
        f"Cost: {approx}{p.segments:,} segments x {p.price_per_segment} = [bold]{p.cost:,.2f} {p.currency}[/]."
    )


def _lifecycle(action: Callable[[Any, int], Any], campaign: str, verb: str) -> Any:
    from herald import campaigns

    herald = _herald()
    c = action(herald, campaigns.get(herald, campaign).id)
    console.print(f'Campaign {c.id} "{c.name}" {verb}; status {c.status.name.capitalize()}.')
    return herald, c


@campaigns_app.command("activate")
def campaigns_activate(
    campaign: str,
    now: Annotated[bool, typer.Option(help="Materialize a Direct campaign right here, with progress.")] = True,
) -> None:
    """Activate a Pending campaign (a Direct one gets its messages at once)."""
    from herald import campaigns
    from herald.domain.campaign import TriggerType
    from herald.jobs import outbound

    herald, c = _lifecycle(campaigns.activate, campaign, "activated")
    if now and c.trigger_type is TriggerType.DIRECT:
        with _progress(f"Materializing {c.name}", None) as advance:
            result = outbound.run_campaign(herald, c, advance)
        if result is not None:
            console.print(
                f"{result.created:,} messages created ({result.invalid:,} invalid). "
                "The worker (`herald worker`) sends them."
            )
    elif c.next_trigger_at:
        console.print(f"Next run: {c.next_trigger_at:%Y-%m-%d %H:%M} UTC.")


@campaigns_app.command("close")
def campaigns_close(campaign: str) -> None:
    """Close an Active campaign (its pending messages are held)."""
    from herald import campaigns

    _lifecycle(campaigns.close, campaign, "closed")


@campaigns_app.command("reactivate")
def campaigns_reactivate(campaign: str) -> None:
    """Reactivate a Closed campaign; nobody already messaged is messaged again."""
    from herald import campaigns

    _lifecycle(campaigns.reactivate, campaign, "reactivated")


@campaigns_app.command("delete")
def campaigns_delete(campaign: str) -> None:
    """Delete a campaign that is not active, with its messages."""
    from herald import campaigns

    herald = _herald()
    c = campaigns.get(herald, campaign)
    campaigns.remove(herald, c.id)
    console.print(f'Campaign {c.id} "{c.name}" deleted.')


# ---- messages -------------------------------------------------------------------------------------------


@messages_app.command("list")
def messages_list(
    campaign: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option(help="pending, waiting, sent, delivered, failed, invalid")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """Messages, newest last, with masked numbers."""
    from herald import campaigns
    from herald.domain.message import MessageStatus
    from herald.domain.phones import mask
    from herald.store.messages import list_messages

    herald = _herald()
    cid = campaigns.get(herald, campaign).id if campaign else None
    wanted = _status(status) if status else None
    with herald.store.connect() as conn:
        rows = list_messages(conn, campaign_id=cid, status=wanted, limit=limit, offset=offset)
    table = Table("id", "campaign", "client", "mobile", "status", "seg", "detail", "message", title="Messages")
    for r in rows:
        detail = r.reason or (f"{r.error_code} {r.error_text}" if r.error_code else "")
        table.add_row(
            str(r.id),
            str(r.campaign_id),
            str(r.client_id),
            mask(r.mobile_no),
            MessageStatus(r.status).label,
            str(r.segments),
            detail,
            r.body,
        )
    console.print(table)


def _status(text: str) -> Any:
    from herald.domain.message import MessageStatus

    word = text.strip().upper().replace(" ", "_")
    if word == "WAITING":
        word = "WAITING_FOR_DELIVERY_REPORT"
    if word in MessageStatus.__members__:
        return MessageStatus[word]
    raise HeraldError(f"Unknown status {text!r}; use pending, waiting, sent, delivered, failed or invalid.")


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
    import os

    from herald import auth

    wanted = auth.Role.parse(role)
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise HeraldError(f"The environment variable {password_env} is not set or empty.")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = auth.create_user(_herald(), username, wanted, password)
    console.print(f"User [bold]{user.username}[/] created with role {user.role.value}.")


@users_app.command("list")
def users_list() -> None:
    """Users with their role and whether they are active."""
    from herald import auth

    table = Table("username", "role", "active", "created (UTC)", title="Users")
    for u in auth.list_users(_herald()):
        table.add_row(u.username, u.role.value, "yes" if u.active else "[red]no[/]", f"{u.created_at:%Y-%m-%d %H:%M}")
    console.print(table)


@users_app.command("token")
def users_token(
    username: str, name: Annotated[str, typer.Option(help="What will use it, e.g. 'nightly export'.")]
) -> None:
    """Create an API token for a user and print it once; herald keeps only its hash."""
    from herald import auth

    issued = auth.issue_token(_herald(), username, name)
    err_console.print(f"Token {issued.info.id} ({issued.info.name}) for {username}; it is shown only now:")
    print(issued.token)  # plain stdout, alone on its line, so a script can capture it


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable a user: its sessions end and its API tokens stop working."""
    from herald import auth

    auth.update_user(_herald(), username, active=False)
    console.print(f"User [bold]{username}[/] disabled.")


# ---- jobs and worker ------------------------------------------------------------------------------------


@jobs_app.command("run")
def jobs_run(job: Annotated[str, typer.Argument(help="update-outbound, send or delivery-reports")]) -> None:
    """Run one job once, now."""
    from herald.jobs import outbound, reports, send
    from herald.jobs.runs import Job

    which = Job.from_slug(job)
    herald = _herald()
    if which is Job.UPDATE_OUTBOUND:
        with _progress(which.value, None) as advance:
            counts = outbound.run(herald, advance)
    elif which is Job.SEND:
        counts = send.run(herald)
    else:
        counts = reports.run(herald)
    console.print(f"[bold]{which.value}[/]: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@jobs_app.command("runs")
def jobs_runs(limit: Annotated[int, typer.Option(min=1)] = 20) -> None:
    """Recent job runs with their counts and durations."""
    from herald.jobs.runs import Job, recent_runs

    table = Table("job", "started (UTC)", "seconds", "counts", "error", title="Recent job runs")
    for r in recent_runs(_herald(), limit):
        seconds = (r.finished_at - r.started_at).total_seconds() if r.finished_at else None
        table.add_row(
            Job.from_slug(r.job).value,
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            "-" if seconds is None else f"{seconds:.2f}",
            ", ".join(f"{k} {v}" for k, v in (r.counts or {}).items()),
            r.error or "",
        )
    console.print(table)


@app.command("worker")
def worker(
    until_idle: Annotated[bool, typer.Option(help="Stop when nothing is left to do.")] = False,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
) -> None:
    """Run the three jobs continuously (Ctrl-C stops)."""
    import time

    from herald.jobs.worker import Worker

    herald = _herald()
    w = Worker(herald)
    started = time.monotonic()

    def stop() -> bool:
        if duration is not None and time.monotonic() - started >= duration:
            return True
        return until_idle and w.idle()

    console.print("Worker running: " + ", ".join(f"{j.value} every {s:g}s" for j, s in w.intervals.items()))
    try:
        w.run(stop)
    except KeyboardInterrupt:
        console.print("Stopped.")
