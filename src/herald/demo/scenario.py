"""The guided demo: a synthetic Fineract database, four campaigns, and the worker watched live."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import SecretStr
from rich.console import Console
from rich.live import Live
from rich.table import Table
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from herald.app import Herald
from herald.config import Settings, load_settings
from herald.corebank.failures import Source, statement_failure
from herald.demo import files as demo_files
from herald.demo.servers import (
    DEMO_HOOK_RATE,
    DEMO_HOOKS,
    FAKE_PROVIDERS,
    fake_provider,
    fineract_tellers,
    hook_server,
)
from herald.domain.campaign import TriggerType
from herald.domain.times import local_text
from herald.errors import ConfigurationError

ProgressFactory = Callable[[str, int | None], AbstractContextManager[Callable[[int], None]]]

DEMO_TIMEZONE = "Africa/Nairobi"


@dataclass(frozen=True)
class DemoInit:
    url: str
    counts: dict[str, int]


def _refuse_real_fineract(url: str) -> None:
    """Never overwrite a database that looks like a real Fineract (m_client but no demo marker), nor herald's own."""
    from sqlalchemy import create_engine

    path = demo_files.sqlite_path(url)
    if path is not None and not path.exists():
        return
    engine = create_engine(url)
    try:
        names = set(inspect(engine).get_table_names())
    except sa.exc.SQLAlchemyError as exc:  # a server that does not answer or refuses the login: one sentence
        raise statement_failure(exc, Source.of(url)) from None
    finally:
        engine.dispose()
    if "alembic_version" in names and "herald_demo" not in names:
        raise ConfigurationError(
            "HERALD_COREBANK_URL points at herald's own database; the demo will not overwrite it.",
            hint="Point HERALD_COREBANK_URL at a new SQLite file (or unset it) to build the demo.",
        )
    if "m_client" in names and "herald_demo" not in names:
        raise ConfigurationError(
            "HERALD_COREBANK_URL points at a database with Fineract tables that herald did not generate; "
            "the demo will not overwrite it.",
            hint="Point HERALD_COREBANK_URL at a new SQLite file (or unset it) to build the demo.",
        )


_marker = sa.Table(
    "herald_demo",
    sa.MetaData(),
    sa.Column("seed", sa.Integer),
    sa.Column("clients", sa.Integer),
    sa.Column("today", sa.Date),
)


def _mark_as_demo(url: str, *, seed: int, clients: int, today: date) -> None:
    """Tag the generated database so a later demo may replace it (and never a real Fineract)."""
    from sqlalchemy import create_engine, insert

    engine = create_engine(url)
    try:
        _marker.create(engine, checkfirst=True)
        with engine.begin() as conn:
            conn.execute(insert(_marker).values(seed=seed, clients=clients, today=today))
    finally:
        engine.dispose()


def init(
    *, clients: int, seed: int, today: date | None, progress_factory: ProgressFactory, settings: Settings | None = None
) -> DemoInit:
    """Build the demo core-banking database and register its offices' regions and time zones."""
    from herald.corebank.demo import create_demo_database
    from herald.services.offices import OfficeProfile, save_profiles

    settings = settings or load_settings()
    url = settings.corebank_database_url
    _refuse_real_fineract(url)
    path = demo_files.sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    day = today or settings.business_date or datetime.now(ZoneInfo(settings.timezone)).date()
    with progress_factory(f"Generating {clients:,} clients", clients) as advance:
        done = [0]

        def report(n: int, _total: int) -> None:
            advance(n - done[0])
            done[0] = n

        try:
            summary = create_demo_database(url, clients=clients, seed=seed, today=day, progress=report)
        except sa.exc.SQLAlchemyError as exc:  # e.g. an account that may not create tables
            raise statement_failure(exc, Source.of(url)) from None
    _mark_as_demo(url, seed=seed, clients=clients, today=day)
    herald = Herald.build(settings)
    try:
        save_profiles(
            [OfficeProfile(p.office_id, p.name, p.region, p.timezone) for p in summary.office_profiles],
            store=herald.store,
            corebanks=herald.corebanks,
            offices=herald.offices,
        )
    finally:
        herald.close()
    counts = {
        f.name.replace("_", " "): getattr(summary, f.name) for f in fields(summary) if f.name != "office_profiles"
    }
    return DemoInit(make_url(url).render_as_string(hide_password=True), counts)


DEMO_CAMPAIGNS: tuple[dict[str, object], ...] = (
    {
        "campaignName": "Active Clients",
        "triggerType": "direct",
        "runReportId": 166,
        "paramValue": {"officeId": "1", "loanOfficerId": "-1"},
        "message": "Dear {{fullName}}, thank you for saving and borrowing with us. Our branches are open "
        "Saturday 9-1 this month.",
    },
    {
        "campaignName": "Loan payments due",
        "triggerType": "schedule",
        "runReportId": 170,
        "paramValue": {"officeId": "1", "loanOfficerId": "-1", "fromX": "-3", "toY": "-1"},
        "message": "Dear {{fullName}}, your instalment of {{totalDue}} on loan {{loanAccountId}} is due on "
        "{{paymentDueDate}}.",
        "recurrence": "FREQ=DAILY",
    },
    {
        "campaignName": "Loan payments received (Active Loans)",
        "triggerType": "schedule",
        "runReportId": 174,
        "paramValue": {"officeId": "1", "loanOfficerId": "-1", "fromX": "0", "toY": "7"},
        "message": "Dear {{fullName}}, we received {{repaymentAmount}} for loan {{loanAccountNumber}}. Thank you!",
        "recurrence": "FREQ=DAILY",
    },
    {
        "campaignName": "Loan Repayment",
        "triggerType": "triggered",
        "runReportId": 179,
        "paramValue": {"officeId": "-1", "loanOfficerId": "-1", "loanType": "-1"},
        "message": "Asante {{firstname}}! We received {{repaymentAmount}} for loan {{LoanAccountId}}. "
        "Balance: {{LoanOutstanding}}.",
    },
)


def run_main_job(
    console: Console,
    *,
    clients: int,
    seed: int,
    timeout: float,
    progress_factory: ProgressFactory,
    provider: str = "simulator",
    replace: bool = False,
    confirm: Callable[[str], bool] | None = None,
) -> None:
    """The demo; `provider` = twilio, infobip or smpp sends through a local fake of it instead of the simulator."""
    if provider == "simulator":
        _run_main_job(
            console,
            clients=clients,
            seed=seed,
            timeout=timeout,
            progress_factory=progress_factory,
            replace=replace,
            confirm=confirm,
        )
        return
    if provider not in FAKE_PROVIDERS:
        raise ConfigurationError(f"Unknown demo provider {provider!r}; choose simulator, {', '.join(FAKE_PROVIDERS)}.")
    with fake_provider(provider) as config:
        console.print(f"Sending through a local fake {provider} (its real wire format, on 127.0.0.1).")
        webhook_port = config.pop("webhook_port", None)
        if webhook_port is not None and timeout < PUSHED_REPORTS_WATCH:
            # AT posts one delivery report per request, each one herald commit on SQLite (about 100 a
            # second on a busy machine): ten thousand of them take longer than the usual watch.
            console.print(f"Its delivery reports come one per request: watching up to {PUSHED_REPORTS_WATCH:g} s.")
            timeout = PUSHED_REPORTS_WATCH
        _run_main_job(
            console,
            clients=clients,
            seed=seed,
            timeout=timeout,
            progress_factory=progress_factory,
            provider_config=config,
            replace=replace,
            confirm=confirm,
            webhook_port=webhook_port if isinstance(webhook_port, int) else None,
        )


PUSHED_REPORTS_WATCH = 240.0
"""How long the demo watches at least when every report comes on a request of its own (it stops once idle)."""


def _run_main_job(
    console: Console,
    *,
    clients: int,
    seed: int,
    timeout: float,
    progress_factory: ProgressFactory,
    provider_config: dict[str, object] | None = None,
    replace: bool = False,
    confirm: Callable[[str], bool] | None = None,
    webhook_port: int | None = None,
) -> None:
    """Demo database, four campaigns, the worker with the simulator, live tab counts, a summary.

    `webhook_port`: herald's webhooks are served there for the whole run (a provider that pushes its
    reports to an account-wide callback URL, Africa's Talking)."""
    from herald.services import campaigns
    from herald.worker import Worker

    base = load_settings()
    settings = base.model_copy(
        update={
            "materialize_interval": 0.5,
            "send_interval": 0.2,
            "reports_interval": 0.4,
            "simulator_sent_after": 0.5,
            "simulator_delivered_after": 1.5,
            "timezone": DEMO_TIMEZONE,
            "fineract_hook_secret": SecretStr(secrets.token_urlsafe(12)),
        }
        | ({"providers": json.dumps([provider_config])} if provider_config else {})
    )
    _refuse_real_fineract(settings.corebank_database_url)
    files = demo_files.claim(settings, replace=replace, confirm=confirm)
    started = time.monotonic()
    init(clients=clients, seed=seed, today=None, progress_factory=progress_factory, settings=settings)
    herald = Herald.build(settings)
    webhooks = contextlib.ExitStack()
    try:
        if webhook_port is not None:
            webhooks.enter_context(hook_server(settings, port=webhook_port))
        local_start = datetime.now(ZoneInfo(DEMO_TIMEZONE)).replace(tzinfo=None, microsecond=0)
        local_start += timedelta(seconds=3)
        ids = []
        for spec in DEMO_CAMPAIGNS:
            request = campaigns.CampaignRequest.model_validate(
                {
                    **spec,
                    "providerId": provider_config["name"] if provider_config else "simulator",
                    "recurrenceStartDate": local_start.isoformat() if "recurrence" in spec else None,
                    "timezone": DEMO_TIMEZONE if "recurrence" in spec else None,
                }
            )
            c = campaigns.create(
                request,
                store=herald.store,
                corebanks=herald.corebanks,
                providers=herald.providers,
                clock=herald.clock,
                calendar=herald.calendar,
            )
            campaigns.activate(
                c.id,
                **herald.activation_parts(),
            )
            ids.append(c.id)
        first_run = local_start.replace(tzinfo=ZoneInfo(DEMO_TIMEZONE))  # the instant: local_text takes one
        console.print(  # as the campaigns' pages say it: 02 Dec 2026 02:49 EAT
            f"Created and activated {len(ids)} campaigns; the scheduled ones run first at "
            f"{local_text(first_run, DEMO_TIMEZONE)}, then daily."
        )
        worker = Worker(herald)
        deadline = time.monotonic() + timeout
        with Live(tab_table(herald, "Campaign messages, live"), console=console, refresh_per_second=4) as live:

            def tick() -> None:
                live.update(tab_table(herald, "Campaign messages, live"))

            # The scheduled campaigns first: "Loan payments received" counts today's repayments too, so
            # the teller's repayments must come after it ran, or the same seed gives other totals. And
            # until their reports are in: a run ends with its provider links closed, and an SMSC pushes a
            # receipt on the bind its message went on (the fake drops one that finds no bind open).
            first = local_start.replace(tzinfo=ZoneInfo(DEMO_TIMEZONE)).astimezone(UTC)
            worker.run(
                lambda: time.monotonic() >= deadline or (all_fired(herald, first) and worker.idle()), on_tick=tick
            )
            with hook_server(settings) as hook_url, fineract_tellers(settings, hook_url) as tellers:
                console.print(
                    f"A simulated Fineract posts {DEMO_HOOKS} loan-repayment hooks to herald ({DEMO_HOOK_RATE:g}/s)."
                )

                def stop() -> bool:
                    return time.monotonic() >= deadline or (not tellers.is_alive() and worker.idle())

                worker.run(stop, on_tick=tick)
            live.update(tab_table(herald, "Summary"))
        console.print()
        console.print(f"Done in {time.monotonic() - started:.1f}s. The databases stay in {settings.home}/:")
        for line in _next_steps():
            console.print(f"  {line}")
        password = create_demo_login(herald, files.password)
        demo_files.keep_password(settings, files, password)
        console.print()
        console.print("See the campaigns in a browser:")
        console.print(f"  herald serve                                  # then open {DEMO_URL} (it sends, too)")
        console.print(
            f"  log in as [bold]{DEMO_USER}[/] with the password [bold]{password}[/] (admin; kept across demo runs)"
        )
    finally:
        webhooks.close()
        herald.close()


DEMO_USER = "demo"
DEMO_URL = "http://127.0.0.1:8080/"  # `herald serve`'s default address


def create_demo_login(herald: Herald, password: str | None = None) -> str:
    """An admin `demo` in the demo's fresh database, with the last run's password or a new random one
    (never a fixed one)."""
    from herald.services.auth import Role, create_user

    password = password or secrets.token_urlsafe(9)  # 12 characters
    create_user(DEMO_USER, Role.ADMIN, password, store=herald.store, clock=herald.clock)
    return password


def all_fired(herald: Herald, first_occurrence: datetime) -> bool:
    """Every Direct campaign has been materialized and every Scheduled one has run its occurrence at
    `first_occurrence` (aware; activation alone sets a Scheduled campaign's last run to its activation)."""
    from herald.services import campaigns

    for c in campaigns.list_all(store=herald.store):
        if c.trigger_type is TriggerType.DIRECT and c.next_trigger_at is not None:
            return False
        if c.trigger_type is TriggerType.SCHEDULE:
            last = c.last_trigger_at
            if last is None or (last if last.tzinfo else last.replace(tzinfo=UTC)) < first_occurrence:
                return False
    return True


def tab_table(herald: Herald, title: str) -> Table:
    from herald.domain.message import TAB_ORDER
    from herald.services import campaigns

    counts = campaigns.message_counts(store=herald.store)
    table = Table(title=title)
    table.add_column("campaign")
    for s in TAB_ORDER:
        table.add_column(s.label, justify="right")
    table.add_column("total", justify="right")
    for c in campaigns.list_all(store=herald.store):
        per = counts.get(c.id, {})
        table.add_row(c.name, *[f"{per.get(s, 0):,}" for s in TAB_ORDER], f"{sum(per.values()):,}")
    return table


def _next_steps() -> Iterator[str]:
    yield "(run `. .venv/bin/activate` first, or prefix the commands with .venv/bin/)"
    yield "herald campaigns list                         # the campaigns and their tabs"
    yield "herald campaigns preview 'Loan payments due'  # audience, samples, segments, cost"
    yield "herald messages list --status failed          # failures with the provider's code"
    yield "herald jobs runs                              # what the three jobs did"
