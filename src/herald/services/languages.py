"""Which of a campaign's templates each recipient gets, decided a batch of rows at a time.

A campaign's run reads its rule's rows in batches; for each batch the clients' own languages come
from Fineract in one query (corebank/client_languages.py) and every row's language is then a dict
lookup: the client's, else the office's default (its office profile), else the campaign's first
(domain/languages.py). Materializing, triggered events and the preview all go through here, so
a client gets the same language whichever of them made the message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import sqlalchemy as sa

from herald.corebank.client_languages import read_languages
from herald.corebank.engines import CoreBanks
from herald.domain.campaign import Campaign
from herald.domain.languages import Choice, ClientLanguageSource, Translations, choose
from herald.domain.templates import Template
from herald.services.office_profiles import OfficeProfiles


class Recipient(Protocol):
    @property
    def client_id(self) -> int: ...

    @property
    def office_id(self) -> int: ...


Pick = Callable[[Recipient], tuple[str | None, Template]]


@dataclass
class LanguagePlan:
    """One campaign's templates by language, its tenant's language source and office defaults, and a tally.

    `fallbacks` counts, per language a client or office asked for, the recipients that got another
    template because the campaign has none in it; `chosen` counts recipients per language given.
    """

    translations: Translations
    templates: dict[str | None, Template]
    source: ClientLanguageSource | None
    office_languages: Mapping[int, str]
    chosen: Counter[str | None] = field(default_factory=Counter)
    fallbacks: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, campaign: Campaign, corebanks: CoreBanks, offices: OfficeProfiles) -> LanguagePlan:
        translations = campaign.templates
        templates = {code: Template.parse(text) for code, text in translations.items}
        several = len(translations.items) > 1
        # One template: everybody gets it, so nothing is read (and a campaign made before languages costs nothing).
        return cls(
            translations,
            templates,
            corebanks.language_source(campaign.tenant) if several else None,
            offices.languages(campaign.tenant) if several else {},
        )

    @property
    def first(self) -> Template:
        return self.templates[self.translations.first[0]]

    def client_languages(self, source_conn: sa.Connection, client_ids: Collection[int]) -> dict[int, str]:
        """Client id -> language read from Fineract, one query for the batch (none without a source)."""
        if self.source is None or not client_ids:
            return {}
        return read_languages(source_conn, self.source, client_ids)

    def pick_for(self, client_languages: Mapping[int, str]) -> Pick:
        """The language and template of each recipient of a batch whose clients' languages were read."""
        offices = self.office_languages
        translations, templates = self.translations, self.templates
        chosen, fallbacks = self.chosen, self.fallbacks
        decided: dict[tuple[str | None, str | None], Choice] = {}  # few pairs: each decided once

        def pick(row: Recipient) -> tuple[str | None, Template]:
            asked = (client_languages.get(row.client_id), offices.get(row.office_id))
            choice = decided.get(asked)
            if choice is None:
                choice = decided[asked] = choose(asked[0], asked[1], translations)
            chosen[choice.language] += 1
            if choice.wanted is not None:
                fallbacks[choice.wanted] += 1
            return choice.language, templates[choice.language]

        return pick

    def batch(self, source_conn: sa.Connection, rows: Collection[Recipient]) -> Pick:
        """`pick_for` the rows of one batch, their clients' languages read in one query."""
        return self.pick_for(self.client_languages(source_conn, {r.client_id for r in rows}))
