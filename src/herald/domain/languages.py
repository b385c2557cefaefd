"""Languages: the codes a campaign's templates are written in, and which template each client gets.

A campaign holds one template per language, the first being the one everybody gets when nothing
says otherwise. A client's language is decided in this order (`choose`):

1. the per-client value read from Fineract (a code value or a data-table column, `ClientLanguageSource`),
   mapped to a code where the institution stores words ("Kiswahili" -> sw);
2. the default language of the client's office (its office profile);
3. the campaign's first template.

A source that names a language the campaign has no template for does not stop the campaign: the
next source is asked, and the message counts as a *fallback* (the preview lists them by the
language that was asked for), because one client whose classification says "fr" must not hold
back a thousand reminders. Codes are ISO 639-1 (two letters) or ISO 639-2/3 (three), lower case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from herald.domain.templates import Template
from herald.errors import TemplateError, ValidationError

_CODE = re.compile(r"[a-z]{2,3}", re.ASCII)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)

NAMES: dict[str, str] = {
    "en": "English",
    "sw": "Swahili",
    "lg": "Luganda",
    "rw": "Kinyarwanda",
    "fr": "French",
    "rn": "Kirundi",
    "nyn": "Runyankore",
    "luo": "Dholuo",
    "ki": "Kikuyu",
    "so": "Somali",
    "am": "Amharic",
    "ach": "Acholi",
    "teo": "Ateso",
}
"""Names shown beside the codes most often met in East Africa; any other well-formed code is accepted."""


def parse_language(value: str, *, field_name: str = "language") -> str:
    """The code `value` names (trimmed, lower case), or ValidationError: ISO 639-1 or -2 style (en, sw, lg, rw)."""
    code = value.strip().lower() if isinstance(value, str) else ""
    if _CODE.fullmatch(code) is None:
        raise ValidationError(
            f"{value!r} is not a language code; write an ISO 639 code of two or three letters such as en, sw, lg"
            " or rw.",
            field=field_name,
        )
    return code


def language_name(code: str | None) -> str:
    """"Swahili (sw)", or the bare code for one herald has no name for."""
    if not code:
        return "(no language)"
    name = NAMES.get(code)
    return f"{name} ({code})" if name else code


@dataclass(frozen=True)
class Translations:
    """A campaign's templates in order, first is the default: ((language or None, text), ...).

    A campaign with one template may leave its language unnamed (every campaign made before herald
    knew languages has exactly that); with two or more each names a different language.
    """

    items: tuple[tuple[str | None, str], ...]

    @property
    def first(self) -> tuple[str | None, str]:
        return self.items[0]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.items if code)

    def text_of(self, language: str | None) -> str:
        return next((text for code, text in self.items if code == language), self.items[0][1])

    @classmethod
    def check(cls, items: Sequence[tuple[str | None, str]], variables: Iterable[str] | None = None) -> Translations:
        """Checked templates: codes well formed and distinct, every text a template, the same variables in each.

        `variables`: the rule's, which every template may use (TemplateError naming the language otherwise).
        """
        if not items:
            raise TemplateError("A campaign needs a message template.", field="message")
        seen: set[str] = set()
        checked: list[tuple[str | None, str]] = []
        parsed: list[tuple[str | None, Template]] = []
        for position, (code, text) in enumerate(items):
            where = "message" if position == 0 else f"templates[{position}]"
            if code is None or code == "":
                if len(items) > 1:
                    raise ValidationError(
                        "Each template of a campaign with several languages names its language (en, sw ...).",
                        field=f"{where}.language" if position else "language",
                    )
                language = None
            else:
                language = parse_language(code, field_name=f"{where}.language" if position else "language")
            if language is not None and language in seen:
                raise ValidationError(
                    f"The campaign has two templates in {language_name(language)}; keep one per language.",
                    field=f"{where}.language",
                )
            if language:
                seen.add(language)
            try:
                template = Template.parse(text)
                if variables is not None:
                    template.check_variables(variables)
            except TemplateError as e:
                if position == 0 and len(items) == 1:
                    raise
                raise TemplateError(
                    f"The {language_name(language)} template: {e.message}", field=where, hint=e.hint
                ) from None
            checked.append((language, text))
            parsed.append((language, template))
        first_language, first = parsed[0]
        for language, template in parsed[1:]:
            if template.variables != first.variables:
                missing = sorted(first.variables - template.variables)
                extra = sorted(template.variables - first.variables)
                parts = []
                if missing:
                    parts.append("lacks " + ", ".join(f"{{{{{v}}}}}" for v in missing))
                if extra:
                    parts.append("adds " + ", ".join(f"{{{{{v}}}}}" for v in extra))
                raise TemplateError(
                    f"The {language_name(language)} template {' and '.join(parts)} compared with the"
                    f" {language_name(first_language)} one; every language must say the same things, so"
                    " each client gets the same facts.",
                    field="templates",
                    hint="Use the same {{variables}} in every language.",
                )
        return cls(tuple(checked))


@dataclass(frozen=True)
class ClientLanguageSource:
    """Where a tenant's Fineract keeps each client's language, read in bulk, never changed.

    `table.column`: `m_client.<a *_cv_id column>` (a code value: client_classification_cv_id,
    client_type_cv_id ...), or a column of a data table the institution made (its rows have a
    `client_id`): named `<label>_cd_<code>` it holds an `m_code_value.id`, otherwise text.
    `values`: stored value -> language code, for values that are words (Kiswahili -> sw), matched
    without regard to case; a value that is itself a code (sw) needs no entry.
    """

    table: str
    column: str
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def code_value(self) -> bool:
        """Whether the column holds an `m_code_value.id` (Fineract's code columns), not the text itself."""
        if self.table.lower() == "m_client":
            return True
        return "_cd_" in self.column.lower()

    @property
    def spec(self) -> str:
        return f"{self.table}.{self.column}"

    @classmethod
    def parse(cls, spec: str, values: Mapping[str, str] | None = None) -> ClientLanguageSource:
        """`table.column` and the value map, checked: names as Fineract makes them, codes well formed."""
        table, dot, column = spec.strip().partition(".")
        if not dot or not _IDENTIFIER.fullmatch(table) or not _IDENTIFIER.fullmatch(column):
            raise ValidationError(
                f"{spec!r} does not name a column: write table.column, e.g. m_client.client_classification_cv_id"
                " or client_language.Language_cd_lang.",
                field="languageSource",
            )
        if table.lower() == "m_client" and not column.lower().endswith("_cv_id"):
            raise ValidationError(
                f"m_client.{column} is not a code-value column; use one such as client_classification_cv_id"
                " or client_type_cv_id, or a data table's column.",
                field="languageSource",
            )
        mapped = {}
        for word, code in (values or {}).items():
            mapped[str(word).strip().lower()] = parse_language(str(code), field_name=f"languageValues.{word}")
        return cls(table, column, mapped)

    def language_of(self, stored: object) -> str | None:
        """The language code a stored value means, or None (empty, or a word with no code mapped)."""
        if stored is None:
            return None
        text = str(stored).strip().lower()
        if not text:
            return None
        mapped = self.values.get(text)
        if mapped is not None:
            return mapped
        return text if _CODE.fullmatch(text) else None


@dataclass(frozen=True)
class Choice:
    """The language a client gets, and the one a source asked for when the campaign has no template in it."""

    language: str | None
    wanted: str | None = None  # set only for a fallback


def choose(client: str | None, office: str | None, translations: Translations) -> Choice:
    """The language of a client's message: theirs, else their office's default, else the first template's."""
    have = translations.languages
    wanted = None
    for asked in (client, office):
        if asked is None:
            continue
        if asked in have:
            return Choice(asked, wanted)
        wanted = wanted or asked
    return Choice(translations.first[0], wanted)
