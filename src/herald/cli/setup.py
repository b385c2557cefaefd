"""`herald` commands that set herald up: database, demo, rules, offices, providers, opt-outs, Fineract, serve."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from herald.cli.base import (
    app,
    console,
    db_app,
    demo_app,
    err_console,
    fineract_app,
    herald_from_env,
    offices_app,
    optouts_app,
    parse_date,
    progress_bar,
    providers_app,
    rules_app,
    say_events,
)
from herald.cli.times import when
from herald.domain.languages import language_name
from herald.errors import HeraldError
from herald.services.loop import run_loop

# ---- db -------------------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply herald's database migrations (needed once per release on PostgreSQL)."""
    from herald.config import load_settings
    from herald.store.database import make_engine, shown_url, sqlite_file, upgrade

    settings = load_settings()
    url = settings.own_database_url
    revision = upgrade(make_engine(url))
    where = sqlite_file(url) or shown_url(url)
    console.print(f"herald's database {where} is at revision [bold]{revision}[/].", soft_wrap=True, highlight=False)


# ---- demo -----------------------------------------------------------------------------------------------


@demo_app.command("init")
def demo_init(
    clients: Annotated[int, typer.Option(min=10, help="How many clients to generate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 1,
    today: Annotated[str | None, typer.Option(help="The demo's 'today' (YYYY-MM-DD); default: today.")] = None,
) -> None:
    """Create the demo Fineract database (Fineract's tables, synthetic clients, loans and savings)."""
    from herald.demo import scenario as demo

    day = parse_date(today, "--today") if today else None
    summary = demo.init(clients=clients, seed=seed, today=day, progress_factory=progress_bar)
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
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Replace the demo's databases from an earlier run without asking.")
    ] = False,
) -> None:
    """The main job: demo database, four campaigns, the worker with the simulator, live tab counts."""
    import sys

    from herald.demo import scenario as demo

    def ask(question: str) -> bool:
        return bool(typer.confirm(question, default=False))

    demo.run_main_job(
        console,
        clients=clients,
        seed=seed,
        timeout=timeout,
        progress_factory=progress_bar,
        provider=provider,
        replace=yes,
        confirm=ask if sys.stdin.isatty() else None,
    )


# ---- rules ----------------------------------------------------------------------------------------------


@rules_app.command("list")
def rules_list() -> None:
    """Every business rule with the trigger types that take it, its parameters and template variables."""
    from herald.rules.catalog import all_rules

    table = Table(title="Business rules", show_lines=True)
    for column in ("id", "name", "trigger type", "parameters", "template variables", "one message per"):
        table.add_column(column, overflow="fold")
    for rule in all_rules():
        params = ", ".join(p.name + ("" if p.default is None else f"={p.default}") for p in rule.parameters)
        table.add_row(
            str(rule.id),
            rule.name,
            f"Triggered ({', '.join(f'{e}/{a}' for e, a in rule.events)})" if rule.triggered else "Direct or Scheduled",
            params,
            " ".join(rule.variables),
            f"{rule.fact} ({rule.dedup_scope.value.replace('_', ' ')})",
        )
    console.print(table)
    console.print("Triggered rules fire on Fineract hooks (`herald fineract hook` registers herald's hook).")


@rules_app.command("show")
def rules_show(rule: Annotated[str, typer.Argument(help="Rule id or name.")]) -> None:
    """One rule: trigger types, parameters, variables, what its SQL selects, and how it differs from Fineract's."""
    from rich.padding import Padding
    from rich.text import Text

    from herald.rules.catalog import get_rule
    from herald.rules.differences import PAGE, differences_for
    from herald.rules.sql_notes import sql_summary

    def indented(text: str, by: int) -> None:
        console.print(Padding(Text(text), (0, 0, 0, by), expand=False))

    r = get_rule(rule)
    console.print(f"[bold]{r.id} {r.name}[/]\n{r.description}\n", highlight=False)
    if r.triggered:
        hooks = ", ".join(f"{entity}/{action}" for entity, action in r.events)
        key = " and ".join(r.event_key)
        console.print(f"Trigger type: Triggered, by the Fineract events {hooks} (for the event's {key}).")
    else:
        console.print("Trigger types: Direct or Scheduled (an audience, computed when the campaign runs).")
    scope = r.dedup_scope.value.replace("_", " ")
    console.print(f"One message per {r.fact.replace('_', ' ')} ({scope}).\n", highlight=False)
    table = Table("parameter", "label", "kind", "default", "meaning", title="Parameters")
    for p in r.parameters:
        default = "required" if p.default is None else str(p.default)
        table.add_row(p.name, p.label, p.kind.name.lower(), default, p.description)
    console.print(table)
    console.print("Variables: " + " ".join("{{" + v + "}}" for v in r.variables) + "\n", highlight=False)
    console.print(f"[bold]SQL[/] (rules/sql/{r.sql_file})", highlight=False)
    for name, text in sql_summary(r).items():
        indented(f"{name}: {text}", 2)
    differences = differences_for(r.id)
    console.print(f"\n[bold]Differences from Fineract's shipped rule[/] ({len(differences)}; {PAGE})", highlight=False)
    for d in differences:
        console.print(f"\n  [bold]{d.id}[/] {d.title} [dim]({d.stance.value})[/]", highlight=False)
        for label, text in (("Fineract", d.fineract), ("herald", d.herald), ("Why", d.why)):
            indented(f"{label}: {text}", 4)


# ---- offices --------------------------------------------------------------------------------------------


@offices_app.command("list")
def offices_list(
    tenant: Annotated[str | None, typer.Option(help="Fineract tenant; default HERALD_TENANT.")] = None,
) -> None:
    """Offices of the core-banking database with herald's phone region and time zone for each."""
    from herald.services import offices

    herald = herald_from_env()
    table = Table("id", "office", "region", "time zone", "language", title="Offices")
    found = offices.list_offices(
        store=herald.store,
        corebanks=herald.corebanks,
        default_region=herald.settings.default_region,
        default_timezone=herald.settings.timezone,
        tenant=tenant,
    )
    for o in found:
        table.add_row(str(o.office_id), o.name, o.region, o.timezone, language_name(o.language) if o.language else "-")
    console.print(table)


@offices_app.command("set")
def offices_set(
    office_id: int,
    region: Annotated[str, typer.Option(help="ISO country code for local numbers, e.g. UG.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Africa/Kampala.")],
    tenant: Annotated[str | None, typer.Option(help="Fineract tenant; default HERALD_TENANT.")] = None,
    language: Annotated[
        str | None,
        typer.Option(
            help="Default language of its clients' messages (ISO 639: en, sw, lg, rw); '' for none. Not given:"
            " kept as it is."
        ),
    ] = None,
) -> None:
    """Set an office's phone region, time zone and default language (recorded in the audit log)."""
    from herald.services import offices
    from herald.services.audit import Actor

    herald = herald_from_env()
    parts = {"store": herald.store, "corebanks": herald.corebanks, "offices": herald.offices}
    now = herald.clock.now()
    if language is None:  # keep what the office has
        language = herald.offices.languages(tenant).get(office_id)
    offices.set_profile(
        office_id, region, timezone, **parts, tenant=tenant, by=Actor.cli(), now=now, language=language
    )
    said = f", default language {language_name(language.strip().lower())}" if language else ""
    console.print(f"Office {office_id}: region {region.upper()}, time zone {timezone}{said}.")


# ---- providers and opt-outs ----------------------------------------------------------------------------


@providers_app.command("list")
def providers_list() -> None:
    """Configured providers with their limits and fallbacks (secrets never shown)."""
    herald = herald_from_env()
    table = Table("name", "kind", "endpoint", "rate limit", "in flight", "fallback", title="Providers")
    for name, config in herald.providers.settings.items():
        endpoint = getattr(config, "api_url", None) or getattr(config, "base_url", None) or (
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

    herald = herald_from_env()
    names = [name] if name else list(herald.providers)

    async def check_all() -> list[Any]:
        try:
            return [await herald.providers.named(n).check() for n in names]
        finally:
            await herald.close_providers()

    results = run_loop(check_all())
    table = Table("provider", "ok", "detail", title="Provider check")
    for n, result in zip(names, results, strict=True):
        table.add_row(n, "[green]yes[/]" if result.ok else "[red]no[/]", result.detail)
    console.print(table)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@optouts_app.command("list")
def optouts_list(limit: Annotated[int, typer.Option(min=1)] = 50) -> None:
    """Opted-out numbers (masked), newest first."""
    from herald.domain.phones import mask
    from herald.services.optouts import recent

    herald = herald_from_env()
    table = Table("number", "source", "detail", "since", title="Opt-out list")
    for r in recent(limit, store=herald.store):
        table.add_row(mask(r.number), r.source, r.detail or "", when(herald, r.created_at))
    console.print(table)


@optouts_app.command("add")
def optouts_add(number: str, reason: Annotated[str, typer.Option()] = "added by hand") -> None:
    """Put a number on the opt-out list."""
    from herald.domain.phones import mask
    from herald.services.audit import Actor
    from herald.services.optouts import add_number

    herald = herald_from_env()
    e164, added = add_number(
        number,
        reason,
        Actor.cli(),
        store=herald.store,
        clock=herald.clock,
        default_region=herald.settings.default_region,
    )
    console.print(f"{mask(e164)} {'is now' if added else 'was already'} on the opt-out list.")


@optouts_app.command("remove")
def optouts_remove(
    number: str, reason: Annotated[str | None, typer.Option(help="Why, for the audit log.")] = None
) -> None:
    """Take a number off the opt-out list (the client asked to be messaged again)."""
    from herald.domain.phones import mask
    from herald.services.audit import Actor
    from herald.services.optouts import remove_number

    herald = herald_from_env()
    parts = {"store": herald.store, "clock": herald.clock, "default_region": herald.settings.default_region}
    e164, gone = remove_number(number, Actor.cli(), **parts, reason=reason)
    console.print(f"{mask(e164)} {'removed from' if gone else 'was not on'} the opt-out list.")


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
    from herald.services.hook_registration import hook_request, payload_url, register

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


@fineract_app.command("events")
def fineract_events(
    apply: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="Enable the missing types through Fineract's API (HERALD_FINERACT_API_URL, _USERNAME, _PASSWORD).",
        ),
    ] = False,
    tenant: Annotated[str | None, typer.Option(help="Fineract tenant; default HERALD_TENANT.")] = None,
) -> None:
    """The external event types herald listens to, the JSON that enables them and Fineract's settings; --apply."""
    import json

    from rich.text import Text

    from herald.config import load_settings
    from herald.services import event_setup

    settings = load_settings()
    tenant = tenant or settings.tenant
    try:
        herald = herald_from_env()
        active = event_setup.listening_campaigns(store=herald.store, tenant=tenant)
        unknown_why = None
    except HeraldError as exc:  # no herald database yet: the types are the same, the listeners unknown
        active, unknown_why = None, str(exc)
    kinds = event_setup.events_to_enable(active)

    table = Table("event type", "rule it feeds", "active campaigns listening", title="Event types to enable")
    table.columns[0].no_wrap = True
    for k in kinds:
        listening = "?" if k.campaigns is None else (", ".join(k.campaigns) or "-")
        # Text: a campaign's name is whatever its manager typed, which rich would read as markup or emoji
        table.add_row(Text(k.type), Text(", ".join(k.rules) or "(none yet)"), Text(listening))
    console.print(table)
    if unknown_why:
        console.print(f"[dim]Active campaigns not known: {escape(unknown_why)}[/]", highlight=False, soft_wrap=True)

    console.print("\n[bold]PUT /externalevents/configuration[/] (enables these, disables nothing):", highlight=False)
    print(json.dumps(event_setup.configuration_body(k.type for k in kinds), indent=2), flush=True)

    broker = settings.events_broker
    console.print("\n[bold]Set in Fineract[/] (environment, or the properties in application.properties):")
    for s in event_setup.fineract_settings(broker):
        note = f"  [dim]# {s.property}{'; ' + s.note if s.note else ''}[/]"
        console.print(f"  {s.variable}={s.value}{note}", highlight=False, soft_wrap=True)
    if broker is None:
        console.print(
            "[yellow]HERALD_EVENTS_URL is not set[/]: the <placeholders> are the broker's. Set it to where herald "
            "reads the events, e.g. stomp://user:password@broker:61613/queue/fineract-events.",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print(f"herald reads them from {broker.shown()} (HERALD_EVENTS_URL).", highlight=False, soft_wrap=True)

    if not apply:
        console.print("\nRun again with --apply to enable the missing types through Fineract's API.")
        return
    api = event_setup.FineractApi.from_settings(settings, tenant)
    applied = event_setup.enable_events(api, [k.type for k in kinds])
    n, m = len(applied.enabled), len(applied.already)
    console.print(
        f"\nFineract ({api.url}, tenant {tenant}) now says (GET /externalevents/configuration): "
        f"{n} type{'' if n == 1 else 's'} enabled by herald just now, {m} enabled already.",
        highlight=False,
        soft_wrap=True,
    )
    for t, on in applied.now.items():
        state = ("enabled just now" if t in applied.enabled else "enabled already") if on else "DISABLED"
        console.print(f"  {t:<50} {state}", highlight=False)
    off = [t for t, on in applied.now.items() if not on]
    if applied.unknown or off:
        problems = []
        if applied.unknown:
            problems.append(f"this Fineract has no type {', '.join(applied.unknown)} (it is older than herald expects)")
        if off:
            problems.append(f"Fineract still lists {', '.join(off)} as disabled")
        raise HeraldError("; ".join(problems) + ".", hint="Those events will not reach herald; use its hooks for them.")
    console.print(f"All {len(applied.now)} event types herald listens to are enabled in Fineract.")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run the three jobs in this process (the default). --no-worker: an API and UI node only, "
            "for when `herald worker` runs elsewhere.",
        ),
    ] = True,
    access_log: Annotated[
        bool, typer.Option(help="Log one line per request (secrets in URLs are replaced by ***).")
    ] = True,
) -> None:
    """Serve the web UI, the REST API, webhooks and Fineract's endpoints, and run the jobs (see --no-worker)."""
    import logging

    import uvicorn

    from herald.http import access_log as access
    from herald.server import create_app
    from herald.store.database import shown_url

    listening = _listen(host, port)  # first: a port in use is one clear line, before anything starts
    herald = herald_from_env(say_database=False)  # said below, with the URL
    database = shown_url(herald.settings.own_database_url)
    shown_host = f"[{host}]" if ":" in host else host
    console.print(f"herald is serving http://{shown_host}:{port}/ (database {database}).", soft_wrap=True)
    if worker:
        console.print("The three jobs run in this process: activated campaigns are sent from here.")
        say_events(herald)
    else:
        console.print(
            "[bold yellow]No jobs run in this process[/] (--no-worker): nothing is sent unless "
            "`herald worker` or `herald serve` runs elsewhere on this database."
        )
    # One Herald, one event loop: the jobs, the hook sender and "Run now" share every provider's
    # rate limit and breaker, and uvicorn's shutdown (SIGTERM, Ctrl-C) stops the jobs gracefully.
    # uvicorn reads FORWARDED_ALLOW_IPS (default 127.0.0.1): the proxies whose X-Forwarded-For it believes,
    # which is what makes the login throttle see the officer's address rather than the proxy's.
    config = uvicorn.Config(create_app(herald, run_jobs=worker), host=host, port=port, log_level="warning")
    if access_log:
        access.enable()  # after Config, which sets uvicorn's loggers up
    else:
        logging.getLogger("uvicorn.access").disabled = True
    uvicorn.Server(config).run(sockets=[listening])


def _listen(host: str, port: int) -> Any:
    """The listening socket, bound here so that a port in use or a wrong address is one sentence."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise HeraldError(f"--host {host} is not an address of this machine; use e.g. 127.0.0.1 or 0.0.0.0.") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise HeraldError(
                f"Port {port} on {host} is already in use (another herald serve?). "
                f"Stop that process or choose another port with --port."
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise HeraldError(f"Port {port} needs more privileges than herald has; use a port above 1024.") from None
        raise HeraldError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
