"""Asking before what costs money on the command line, and `herald messages resend`.

Activate, Reactivate and Re-send say what they would cost and ask; `--yes` answers for a script.
With no terminal to ask on and no `--yes`, they refuse in one line rather than guess.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from herald.cli.base import console, err_console, herald_from_env, messages_app
from herald.errors import HeraldError
from herald.services.audit import Actor


def refuse_without_terminal(command: str, yes: bool) -> None:
    """Refuse, in one line, a costly command that cannot ask and was not told --yes."""
    if not yes and not sys.stdin.isatty():
        raise HeraldError(f"Nothing was done: `herald {command}` asks before it costs money; pass --yes to go ahead.")


def say(estimate: Any) -> None:
    """The estimate, one line each; its warnings on stderr so a script's log keeps them."""
    from herald.services.confirmation import in_words

    for line in in_words(estimate):
        if line.startswith("Warning: "):
            err_console.print(f"[bold yellow]Warning:[/] {line.removeprefix('Warning: ')}", highlight=False)
        else:
            console.print(line, highlight=False)


def ask(question: str, yes: bool) -> None:
    """Go on if told --yes or answered yes; otherwise stop, saying nothing was done."""
    if yes:
        return
    if not typer.confirm(question, default=False):
        raise HeraldError("Nothing was done.")


def confirm_activation(herald: Any, campaign_id: int, action: str, yes: bool) -> None:
    """Before Activate or Reactivate: the audience and cost (the schedule's warning only, with --yes), then ask."""
    from herald.services import campaigns
    from herald.services.confirmation import activation_estimate, schedule_warnings

    if yes:  # a script: no rule run for an estimate nobody reads (the audit log keeps one)
        for warning in schedule_warnings(campaigns.get(campaign_id, store=herald.store), herald.clock):
            err_console.print(f"[bold yellow]Warning:[/] {warning}", highlight=False)
        return
    parts = herald.activation_parts()
    estimate = activation_estimate(
        campaign_id,
        action,
        store=parts["store"],
        corebanks=parts["corebanks"],
        calendar=parts["calendar"],
        offices=parts["offices"],
        clock=parts["clock"],
        preview_settings=parts["preview_settings"],
    )
    say(estimate)
    cost = (
        f" ({'' if estimate.exact else 'about '}{estimate.cost:,.2f} {estimate.currency})" if estimate.audience else ""
    )
    ask(f'{action.capitalize()} "{estimate.campaign.name}"{cost}?', yes)


CodeOpt = Annotated[
    list[str] | None,
    typer.Option("--code", "-c", help="Only failures with this error code ('none': without one); repeat."),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (scripts).")]


@messages_app.command("resend")
def messages_resend(campaign: str, code: CodeOpt = None, yes: YesOpt = False) -> None:
    """Re-send a campaign's failed messages (all, or those with --code) as new Pending messages, after asking."""
    from herald.services import campaigns
    from herald.services.confirmation import resend_estimate
    from herald.services.preview import PreviewSettings
    from herald.services.resend import resend_failed

    herald = herald_from_env()
    campaign_id = campaigns.get(campaign, store=herald.store).id
    settings = PreviewSettings.of(herald.settings, herald.providers.alphabets)
    estimate = resend_estimate(campaign_id, code, store=herald.store, clock=herald.clock, preview_settings=settings)
    if estimate.nothing_to_do:  # said, not asked: there is nothing to confirm
        say(estimate)
        return
    refuse_without_terminal("messages resend", yes)
    say(estimate)
    plural = "" if estimate.audience == 1 else "s"
    ask(f"Re-send {estimate.audience:,} failed message{plural} ({estimate.cost:,.2f} {estimate.currency})?", yes)
    result = resend_failed(
        campaign_id, store=herald.store, clock=herald.clock, actor=Actor.cli(), codes=estimate.chosen
    )
    if not result.failed:
        console.print("0 failed messages to re-send: they were re-sent meanwhile; nothing was queued.")
        return
    per_code = ", ".join(f"{c} {n:,}" for c, n in sorted(result.by_code.items()))
    line = f"Re-sent {result.resent:,} failed message{'' if result.resent == 1 else 's'} ({per_code}) as new Pending"
    if result.skipped:
        line += f"; {result.skipped:,} not, as they were re-sent meanwhile"
    console.print(line + ". The worker (`herald serve` or `herald worker`) sends them.", highlight=False)
