"""`herald campaigns` and `herald messages`: create, preview, move and inspect campaigns and their messages."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Column, Table

from herald.cli import confirming
from herald.cli.base import (
    campaigns_app,
    console,
    err_console,
    herald_from_env,
    messages_app,
    progress_bar,
)
from herald.cli.times import when, zone_of
from herald.domain.campaign import TriggerType
from herald.domain.languages import language_name
from herald.domain.lateness import limit_text
from herald.domain.times import last_run_text, schedule_text
from herald.errors import HeraldError
from herald.services.audit import Actor

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
LanguageOpt = Annotated[
    str | None, typer.Option(help="Language of --message, the first template (ISO 639: en, sw, lg, rw).")
]
TranslationOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--translation",
        "-t",
        help="The message in another language, LANG=TEXT (e.g. sw='Mpendwa {{firstName}}, ...'); repeat.",
    ),
]


def _translations(values: list[str] | None) -> list[dict[str, str]]:
    out: dict[str, str] = {}
    for item in values or []:
        if "=" not in item:
            raise HeraldError(f"--translation takes LANG=TEXT (e.g. sw='Mpendwa {{{{firstName}}}}'), not {item!r}.")
        language, text = item.split("=", 1)
        out[language.strip()] = text
    return [{"language": k, "message": v} for k, v in out.items()]


@campaigns_app.command("create")
def campaigns_create(
    name: Annotated[str, typer.Option(help="Campaign name.")],
    rule: Annotated[str, typer.Option(help="Business rule id or name (`herald rules list`).")],
    message: Annotated[str, typer.Option(help="Mustache template, e.g. 'Dear {{firstName}}, ...'.")],
    trigger: Annotated[
        str,
        typer.Option(
            help="direct (1: the audience once, at activation), schedule (2: again at every --recurrence) "
            "or triggered (3: one message per Fineract event, e.g. a loan repayment; needs a triggered rule)."
        ),
    ] = "direct",
    param: ParamOpt = None,
    provider: Annotated[str, typer.Option()] = "simulator",
    fallback: Annotated[str | None, typer.Option(help="Provider that takes over while the main one fails.")] = None,
    sender_id: Annotated[str | None, typer.Option(help="Sender id messages come from, e.g. MFIBank.")] = None,
    recurrence: Annotated[str | None, typer.Option(help="RRULE for schedule, e.g. FREQ=DAILY;BYHOUR=8.")] = None,
    start: Annotated[str | None, typer.Option(help="Recurrence start, local time: 2026-12-01T08:00.")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA time zone of the schedule.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Fineract tenant; default HERALD_TENANT.")] = None,
    too_late_after: Annotated[
        str | None,
        typer.Option(
            help="Triggered: an event older than this when herald first sees it is never messaged (stored "
            "Invalid), e.g. 24h (the default), 90m, 3d."
        ),
    ] = None,
    language: LanguageOpt = None,
    translation: TranslationOpt = None,
) -> None:
    """Create a campaign (Pending until activated); --translation adds the message in other languages."""
    from herald.services import campaigns

    request = campaigns.CampaignRequest.model_validate(
        {
            "campaignName": name,
            "triggerType": trigger,
            "runReportId": rule,
            "paramValue": _params(param),
            "message": message,
            "language": language,
            "translations": _translations(translation),
            "providerId": provider,
            "fallbackProviderId": fallback,
            "senderId": sender_id,
            "recurrence": recurrence,
            "recurrenceStartDate": start,
            "timezone": timezone,
            "tenantId": tenant,
            "tooLateAfter": too_late_after,
        }
    )
    herald = herald_from_env()
    c = campaigns.create(
        request,
        store=herald.store,
        corebanks=herald.corebanks,
        providers=herald.providers,
        clock=herald.clock,
        calendar=herald.calendar,
        actor=Actor.cli(),
    )
    console.print(
        f'Created campaign [bold]{c.id}[/] "{escape(c.name)}" ({c.trigger_type.name.lower()}, '
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
    sender_id: Annotated[str | None, typer.Option(help="Sender id; '' for the provider's own.")] = None,
    recurrence: Annotated[str | None, typer.Option()] = None,
    start: Annotated[str | None, typer.Option()] = None,
    timezone: Annotated[str | None, typer.Option()] = None,
    too_late_after: Annotated[str | None, typer.Option(help="Triggered: e.g. 24h, 90m, 3d.")] = None,
    gsm7: Annotated[
        bool, typer.Option("--gsm7", help="Write the message's curly quotes, dashes ... in GSM-7 (as preview offers).")
    ] = False,
    language: LanguageOpt = None,
    translation: Annotated[
        list[str] | None,
        typer.Option("--translation", "-t", help="Add or replace the message in a language, LANG=TEXT; repeat."),
    ] = None,
    drop_translation: Annotated[
        list[str] | None, typer.Option("--drop-translation", help="Remove the message in this language; repeat.")
    ] = None,
) -> None:
    """Change a campaign that is not active; options not given keep their value."""
    from herald.domain.preview_warnings import to_gsm7
    from herald.services import campaigns

    herald = herald_from_env()
    c = campaigns.get(campaign, store=herald.store)
    # What is stored, in the request's words, with the options given on top: the tenant stays the campaign's.
    stored = campaigns.CampaignRequest.of(c).model_dump(by_alias=True)
    given = {
        "campaignName": name,
        "triggerType": trigger,
        "runReportId": rule,
        "message": message,
        "providerId": provider,
        "fallbackProviderId": fallback,
        "senderId": sender_id,
        "recurrence": recurrence,
        "recurrenceStartDate": start,
        "timezone": timezone,
        "tooLateAfter": too_late_after,
    }
    changes = {k: v for k, v in given.items() if v} | {"paramValue": stored["paramValue"] | _params(param)}
    if gsm7:
        changes["message"] = to_gsm7(str(changes.get("message") or stored["message"]))
    if language:
        changes["language"] = language
    if translation or drop_translation:
        dropped = {code.strip().lower() for code in drop_translation or ()}
        given_translations = _translations(translation)
        replaced = {t["language"].strip().lower() for t in given_translations}
        kept = [t for t in stored["translations"] if t["language"] not in dropped | replaced]
        changes["translations"] = kept + given_translations
    if sender_id == "":  # --sender-id '' goes back to the provider's own sender
        changes["senderId"] = None
    if trigger and "trig" not in trigger.lower() and trigger != "3":  # no longer Triggered: no lateness to keep
        changes["tooLateAfter"] = None
    request = campaigns.CampaignRequest.model_validate(stored | changes)
    c = campaigns.edit(
        c.id,
        request,
        store=herald.store,
        corebanks=herald.corebanks,
        providers=herald.providers,
        clock=herald.clock,
        calendar=herald.calendar,
        actor=Actor.cli(),
    )
    console.print(f'Campaign {c.id} "{c.name}" updated.')


@campaigns_app.command("list")
def campaigns_list() -> None:
    """Campaigns with their status and message counts per tab."""
    from herald.domain.message import MessageStatus
    from herald.services import campaigns
    from herald.services.resend import resend_counts

    herald = herald_from_env()
    counts = campaigns.message_counts(store=herald.store)
    resends = resend_counts(store=herald.store)
    table = Table(title="Campaigns", caption="Re-sends: counted in the tabs too; by hand or of failures that pass.")
    for column in ("id", "name", "trigger", "rule", "status", "next run"):
        table.add_column(column)
    for s in MessageStatus:
        table.add_column(s.label, justify="right")
    table.add_column("Re-sends", justify="right")
    for c in campaigns.list_all(store=herald.store):
        per = counts.get(c.id, {})
        nxt = when(herald, c.next_trigger_at, zone=zone_of(herald, c))
        table.add_row(
            str(c.id),
            c.name,
            c.trigger_type.name.lower(),
            c.rule.name,
            c.status.name.capitalize(),
            nxt,
            *[f"{per.get(s, 0):,}" for s in MessageStatus],
            f"{sum(resends.get(c.id, {}).values()):,}",
        )
    console.print(table)


@campaigns_app.command("show")
def campaigns_show(campaign: str) -> None:
    """One campaign in full."""
    from herald.services import campaigns

    herald = herald_from_env()
    c = campaigns.get(campaign, store=herald.store)
    zone = zone_of(herald, c)
    table = Table(show_header=False, title=f"Campaign {c.id}")
    rows = [
        ("name", c.name),
        ("trigger type", c.trigger_type.name.lower()),
        ("rule", f"{c.rule.id} {c.rule.name}"),
        ("parameters", ", ".join(f"{k}={v}" for k, v in c.params.items())),
        ("message" + (f" ({language_name(c.template_language)})" if c.template_language else ""), c.template),
        *((f"message ({language_name(code)})", text) for code, text in c.translations),
        ("provider", c.provider + (f" (fallback {c.fallback_provider})" if c.fallback_provider else "")),
        ("sender id", c.sender_id or "the provider's own"),
        *([("too late after", limit_text(c.late_limit))] if c.trigger_type is TriggerType.TRIGGERED else []),
        ("status", c.status.name.capitalize()),
        ("schedule", schedule_text(c) or "-"),
        ("next run", when(herald, c.next_trigger_at, zone=zone)),
        ("last run", last_run_text(c, zone) or "-"),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)


@campaigns_app.command("preview")
def campaigns_preview(campaign: str, samples: Annotated[int, typer.Option(min=0, max=50)] = 5) -> None:
    """Audience size, sample messages with encoding and segments, and the cost estimate."""
    from herald.services import campaigns
    from herald.services.preview import PreviewSettings, preview

    herald = herald_from_env()
    c = campaigns.get(campaign, store=herald.store)
    p = preview(
        c,
        store=herald.store,
        corebanks=herald.corebanks,
        calendar=herald.calendar,
        offices=herald.offices,
        clock=herald.clock,
        settings=PreviewSettings.of(herald.settings, herald.providers.alphabets),
        sample_size=samples,
    )
    several = len(p.by_language) > 1
    table = Table("client", "mobile", *(("language",) if several else ()), "encoding", "segments", "message",
                  title="Sample messages")  # fmt: skip
    for s in p.samples:
        table.add_row(
            str(s.client_id),
            s.mobile_no,
            *((s.language or "-",) if several else ()),
            s.encoding,
            str(s.segments),
            escape(s.body) if s.reason is None else f"[red]INVALID: {escape(s.reason)}[/]\n{escape(s.body)}",
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
    if several or any(lang.forcing_ucs2 for lang in p.by_language):
        # Made to fit 80 columns: no outer edge, the currency and "about" said once in the title, and the
        # characters forcing UCS-2 left to the warnings below, which name each language's with its GSM-7 form.
        title = f"Per language (cost in {p.currency}{'; estimates' if approx else ''})"
        figures = (Column(name, justify="right") for name in ("clients", "sendable", "segments", "cost"))
        split = Table("language", *figures, "template", title=title, show_edge=False, pad_edge=False)
        for lang in p.by_language:
            split.add_row(
                language_name(lang.language),
                f"{lang.recipients:,}",
                f"{lang.sendable:,}",
                f"{lang.segments:,}",
                f"{lang.cost:,.2f}",
                f"{lang.template_encoding}, {_segments(lang.template_segments)}",
            )
        console.print(split)
        for lang in p.by_language:  # each language's own text, for the same (first sendable) recipient
            if lang.example is not None:
                console.print(
                    f"  {lang.language or '-'}: {escape(lang.example.body)} ({lang.example.encoding},"
                    f" {_segments(lang.example.segments)})",
                    soft_wrap=True,
                )
    for code, n in p.fallbacks.items():
        console.print(
            f"{approx}{n:,} recipient(s) asked for {language_name(code)}, which this campaign has no template in:"
            " they get their office's default language, else the first template."
        )
    for w in p.warnings:  # what clients would see, as the UI's preview says it
        console.print(f"[bold yellow]Warning:[/] {escape(w.text)}", soft_wrap=True)
        if p.gsm7_template and p.offers_gsm7(w):
            console.print(
                f"Use GSM-7 characters: `herald campaigns edit {c.id} --gsm7` makes the message:\n"
                f"  {escape(p.gsm7_template)}",
                soft_wrap=True,
            )


def _segments(n: int) -> str:
    return f"{n:,} segment" + ("" if n == 1 else "s")


def _lifecycle(action: str, campaign: str, verb: str, yes: bool = False) -> Any:
    from herald.services import campaigns

    herald = herald_from_env()
    campaign_id = campaigns.get(campaign, store=herald.store).id
    if action != "close":
        confirming.refuse_without_terminal(f"campaigns {action}", yes)
    if action in ("activate", "reactivate"):
        confirming.confirm_activation(herald, campaign_id, action, yes)
        move = campaigns.activate if action == "activate" else campaigns.reactivate
        c = move(
            campaign_id,
            **herald.activation_parts(),
            actor=Actor.cli(),
        )
    else:
        c = campaigns.close(campaign_id, store=herald.store, clock=herald.clock, actor=Actor.cli())
    console.print(f'Campaign {c.id} "{c.name}" {verb}; status {c.status.name.capitalize()}.')
    if action != "close" and not herald.presence.job_runners():
        err_console.print(
            "[bold yellow]No worker is running on this database[/]: nothing is sent until `herald serve` "
            "or `herald worker` runs."
        )
    return herald, c


@campaigns_app.command("activate")
def campaigns_activate(
    campaign: str,
    now: Annotated[bool, typer.Option(help="Materialize a Direct campaign right here, with progress.")] = True,
    yes: confirming.YesOpt = False,
) -> None:
    """Activate a Pending campaign after showing its audience and cost (a Direct one gets its messages at once)."""
    from herald.domain.campaign import TriggerType
    from herald.worker import outbound_for

    herald, c = _lifecycle("activate", campaign, "activated", yes)
    if now and c.trigger_type is TriggerType.DIRECT:
        with progress_bar(f"Materializing {c.name}", None) as advance:
            result = outbound_for(herald).run_campaign(c, advance)
        if result is not None:
            console.print(
                f"{result.created:,} messages created ({result.invalid:,} invalid). "
                "The worker (`herald serve` or `herald worker`) sends them."
            )
    elif c.next_trigger_at:
        console.print(f"Next run: {when(herald, c.next_trigger_at, zone=zone_of(herald, c))}.")


@campaigns_app.command("close")
def campaigns_close(campaign: str) -> None:
    """Close an Active campaign (its pending messages are held)."""
    _lifecycle("close", campaign, "closed")


@campaigns_app.command("reactivate")
def campaigns_reactivate(campaign: str, yes: confirming.YesOpt = False) -> None:
    """Reactivate a Closed campaign after showing its audience and cost; nobody already messaged is messaged again."""
    _lifecycle("reactivate", campaign, "reactivated", yes)


@campaigns_app.command("delete")
def campaigns_delete(campaign: str) -> None:
    """Delete a campaign that is not active, with its messages."""
    from herald.services import campaigns

    herald = herald_from_env()
    c = campaigns.get(campaign, store=herald.store)
    campaigns.remove(c.id, store=herald.store, clock=herald.clock, actor=Actor.cli())
    console.print(f'Campaign {c.id} "{c.name}" deleted.')


# ---- messages -------------------------------------------------------------------------------------------


@messages_app.command("list")
def messages_list(
    campaign: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option(help="pending, waiting, sent, delivered, failed, invalid")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """Messages, newest last, with client names, times in herald's zone and masked numbers."""
    from herald.cli.messages import print_messages
    from herald.services import campaigns
    from herald.services.message_search import window
    from herald.services.search import MessageFilter

    herald = herald_from_env()
    cid = campaigns.get(campaign, store=herald.store).id if campaign else None
    wanted = MessageFilter(status=_status(status) if status else None, campaign_id=cid)
    query = wanted.query(herald.settings.timezone)
    found = window(query, limit, offset, store=herald.store, corebanks=herald.corebanks, newest_first=False)
    print_messages(herald, found, "Messages")


def _status(text: str) -> Any:
    from herald.domain.message import TAB_ORDER, status_named

    named = status_named(text)
    if named is not None:
        return named
    *words, last = (s.word for s in TAB_ORDER)
    raise HeraldError(f"Unknown status {text!r}; use {', '.join(words)} or {last}.")
