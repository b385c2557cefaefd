"""Preview before activation: who gets what, in which encoding, how many segments, at what cost."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

from sqlalchemy import Engine

from herald.clock import Clock
from herald.config import Settings
from herald.corebank.engines import CoreBanks
from herald.corebank.runner import count, run_rule
from herald.domain.calendar import BusinessCalendar
from herald.domain.campaign import Campaign, TriggerType
from herald.domain.compose import compose
from herald.domain.message import MessageStatus
from herald.domain.phones import mask
from herald.domain.preview_warnings import Findings, PreviewWarning, warnings_of
from herald.domain.redact import redact_phones
from herald.domain.segments import Alphabet, count_segments, forcing_ucs2
from herald.domain.templates import Template
from herald.errors import HeraldError, ValidationError
from herald.services.languages import LanguagePlan
from herald.services.office_profiles import OfficeProfiles
from herald.store import optouts

EXACT_UP_TO = 200_000
"""Audiences up to this size are rendered in full for the preview; larger ones are extrapolated."""
LANGUAGE_BATCH = 5_000
"""Rows whose clients' languages are read in one query."""


@dataclass(frozen=True)
class PreviewSettings:
    """What a preview takes from the settings: how rules render dates, the phone region, the price."""

    date_format: str
    default_region: str
    price_per_segment: float
    price_currency: str
    alphabets: Mapping[str, Alphabet] = field(default_factory=dict)  # per provider, where not GSM-7 (Providers)

    @classmethod
    def of(cls, settings: Settings, alphabets: Mapping[str, Alphabet] | None = None) -> PreviewSettings:
        return cls(
            date_format=settings.date_format,
            default_region=settings.default_region,
            price_per_segment=settings.price_per_segment,
            price_currency=settings.price_currency,
            alphabets=dict(alphabets or {}),
        )


@dataclass(frozen=True)
class PreviewSample:
    client_id: int
    mobile_no: str
    body: str
    encoding: str
    segments: int
    status: MessageStatus
    reason: str | None
    language: str | None = None  # the template's language it was rendered from


@dataclass(frozen=True)
class LanguageSplit:
    """One language of a campaign's preview: who gets its template, what they cost, what forces UCS-2."""

    language: str | None  # None: the one template of a campaign whose language is not named
    recipients: int  # the audience given this language (Invalid ones included)
    sendable: int
    segments: int
    cost: float
    template_encoding: str  # the template's own text: GSM-7, or UCS-2 because of `forcing_ucs2`
    template_segments: int
    forcing_ucs2: tuple[str, ...]  # the template's characters that make it UCS-2 (each once)
    # The template rendered with the first sendable recipient's values, whoever that client's language is:
    # every language's own text to read, with its encoding and segments. None: nobody to render it for.
    example: LanguageExample | None = None


@dataclass(frozen=True)
class LanguageExample:
    body: str
    encoding: str
    segments: int


def _example(template: Template, values: dict[str, str], alphabet: Alphabet) -> LanguageExample:
    body = template.render(values)
    info = count_segments(body, alphabet)
    return LanguageExample(body, info.encoding.value, info.segments)


@dataclass(frozen=True)
class Preview:
    audience: int
    sendable: int
    invalid: int
    segments: int
    cost: float
    currency: str
    price_per_segment: float
    exact: bool
    samples: tuple[PreviewSample, ...]
    invalid_reasons: dict[str, int]
    warnings: tuple[PreviewWarning, ...] = ()
    gsm7_template: str | None = None  # the template in GSM-7 characters, when its look-alikes force UCS-2
    by_language: tuple[LanguageSplit, ...] = ()  # one per template, in the campaign's order
    fallbacks: dict[str, int] = field(default_factory=dict)  # language asked for, without a template -> recipients

    def offers_gsm7(self, warning: PreviewWarning) -> bool:
        """Whether "Use GSM-7 characters" goes with `warning`: the rewrite is of the first template only."""
        first = self.by_language[0].language if self.by_language else warning.language
        return warning.kind == "ucs2_template" and self.gsm7_template is not None and warning.language == first


def as_seen_by(result: Preview, reveal: bool) -> Preview:
    """The preview as this person may see it: for anyone but an admin, numbers inside the sample
    bodies and reasons are masked too (a client's name or a Fineract field can carry one)."""
    if reveal:
        return result
    samples = tuple(
        replace(s, body=redact_phones(s.body) or "", reason=redact_phones(s.reason)) for s in result.samples
    )
    warnings = tuple(replace(w, text=redact_phones(w.text) or "") for w in result.warnings)  # they quote a message
    by_language = tuple(
        replace(s, example=replace(s.example, body=redact_phones(s.example.body) or "")) if s.example else s
        for s in result.by_language
    )
    return replace(result, samples=samples, warnings=warnings, by_language=by_language)


def preview(
    campaign: Campaign,
    *,
    store: Engine,
    corebanks: CoreBanks,
    calendar: BusinessCalendar,
    offices: OfficeProfiles,
    clock: Clock,
    settings: PreviewSettings,
    sample_size: int = 5,
) -> Preview:
    """Render the campaign's current audience (without storing anything) and price it."""
    if campaign.trigger_type in (TriggerType.TRIGGERED, TriggerType.GATEWAY):
        raise ValidationError(
            f'"{campaign.name}" has no audience to preview: it messages whoever the next Fineract '
            + (
                "event is about, the moment it happens."
                if campaign.trigger_type is TriggerType.TRIGGERED
                else "message handed to herald is for."
            ),
            field="triggerType",
        )
    plan = LanguagePlan.of(campaign, corebanks, offices)
    template = plan.first
    today = calendar.today(clock.now(), campaign.timezone)
    with store.connect() as conn:
        opted_out = frozenset(optouts.all_numbers(conn))
    seen = sendable = segments = 0
    reasons: dict[str, int] = {}
    samples: list[PreviewSample] = []
    alphabet = settings.alphabets.get(campaign.provider, Alphabet.GSM7)
    # One Findings per template, fed its own recipients: every language's text is checked, not only the first's.
    findings = {code: Findings(plan.templates[code], alphabet) for code, _ in plan.translations.items}
    fixed = {code: f.gsm7_template for code, f in findings.items()}
    per_language: dict[str | None, list[int]] = {code: [0, 0] for code, _ in plan.translations.items}  # sendable, segs
    regions = offices.regions(campaign.tenant)
    engine = corebanks.engine(campaign.tenant)
    with engine.connect() as conn, ExitStack() as stack:
        lookups = stack.enter_context(engine.connect()) if plan.source is not None else conn  # as materialize does
        rows = iter(run_rule(conn, campaign.rule, campaign.params, today, date_format=settings.date_format))
        sampled: set[str | None] = set()
        first_values: dict[str, str] | None = None  # the first sendable recipient's: every language's example
        while seen < EXACT_UP_TO:
            batch = list(islice(rows, min(LANGUAGE_BATCH, EXACT_UP_TO - seen)))
            if not batch:
                break
            pick = plan.batch(lookups, batch)
            for c in compose(batch, template, regions, settings.default_region, opted_out, alphabet, pick):
                seen += 1
                if c.status is MessageStatus.INVALID:
                    reasons[c.reason or "invalid"] = reasons.get(c.reason or "invalid", 0) + 1
                else:
                    if first_values is None:
                        first_values = c.row.variables
                    sendable += 1
                    segments += c.segments
                    tally = per_language[c.language]
                    tally[0] += 1
                    tally[1] += c.segments
                    in_gsm7 = None
                    if (own_fix := fixed[c.language]) is not None:
                        in_gsm7 = count_segments(own_fix.render(c.row.variables), alphabet).segments
                    findings[c.language].add(
                        c.row.client_id, c.row.variables, c.body, c.encoding, c.segments, in_gsm7
                    )  # fmt: skip
                # The first few, and the first of each other language, so every template is seen rendered.
                if sample_size > 0 and (len(samples) < sample_size or c.language not in sampled):
                    sampled.add(c.language)
                    samples.append(
                        PreviewSample(
                            c.row.client_id, mask(c.mobile_no), c.body, c.encoding, c.segments, c.status, c.reason,
                            c.language,
                        )
                    )
    exact = seen < EXACT_UP_TO
    audience = seen
    scale = 1.0
    if not exact:
        with corebanks.engine(campaign.tenant).connect() as conn:
            audience = count(conn, campaign.rule, campaign.params, today)
        scale = audience / seen
        sendable, segments = round(sendable * scale), round(segments * scale)
        reasons = {k: round(v * scale) for k, v in reasons.items()}
    splits = []
    for code, text in plan.translations.items:
        info = count_segments(text, alphabet)
        language_segments = round(per_language[code][1] * scale)
        splits.append(
            LanguageSplit(
                language=code,
                recipients=round(plan.chosen[code] * scale),
                sendable=round(per_language[code][0] * scale),
                segments=language_segments,
                cost=round(language_segments * settings.price_per_segment, 4),
                template_encoding=info.encoding.value,
                template_segments=info.segments,
                forcing_ucs2=forcing_ucs2(text, alphabet),
                example=None if first_values is None else _example(plan.templates[code], first_values, alphabet),
            )
        )
    return Preview(
        audience=audience,
        sendable=sendable,
        invalid=audience - sendable,
        segments=segments,
        cost=round(segments * settings.price_per_segment, 4),
        currency=settings.price_currency,
        price_per_segment=settings.price_per_segment,
        exact=exact,
        samples=tuple(samples),
        invalid_reasons=reasons,
        warnings=warnings_of(findings),
        gsm7_template=None if (first_fix := fixed[plan.translations.first[0]]) is None else first_fix.text,
        by_language=tuple(splits),
        fallbacks={code: round(n * scale) for code, n in sorted(plan.fallbacks.items())},
    )


def audit_estimate(
    campaign: Campaign,
    *,
    store: Engine,
    corebanks: CoreBanks,
    calendar: BusinessCalendar,
    offices: OfficeProfiles,
    clock: Clock,
    settings: PreviewSettings,
) -> dict[str, Any]:
    """What an activation commits to, for the audit log: audience size and estimated cost (Direct and Scheduled)."""
    if campaign.trigger_type not in (TriggerType.DIRECT, TriggerType.SCHEDULE):
        return {"audience": None}  # whoever the next event is about: nothing to count yet
    try:
        found = preview(
            campaign,
            store=store,
            corebanks=corebanks,
            calendar=calendar,
            offices=offices,
            clock=clock,
            settings=settings,
            sample_size=0,
        )
    except HeraldError as exc:  # the core bank is unreachable: the activation itself does not need it
        return {"audience": None, "estimate": f"not available: {exc}"[:200]}
    return {"audience": found.audience, "sendable": found.sendable, "cost": found.cost, "currency": found.currency}
