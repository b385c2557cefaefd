"""What a preview warns about before clients see it: empty variables, characters that force UCS-2, a currency twice.

A `Findings` collects what each rendered recipient shows (nothing is kept per recipient but a
count and the first client id), then states each problem in one sentence an officer can act on.
`to_gsm7` is the fix offered for the characters that make a template UCS-2: the look-alikes word
processors type (curly quotes, dashes, the ellipsis, non-breaking spaces) in their GSM-7 form.
A campaign with a template per language has one `Findings` per template, fed that template's
recipients; `warnings_of` states them together, each naming its language (`language_name`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from herald.domain.languages import language_name
from herald.domain.segments import Alphabet, forcing_ucs2
from herald.domain.templates import Template
from herald.errors import TemplateError

GSM7_REPLACEMENTS: dict[str, str] = {
    "\u2018": "'",  # ‘ ’ ‚ ‛ ′ curly single quotes and the prime
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u00b4": "'",  # ´ acute accent typed as an apostrophe
    "\u201c": '"',  # “ ” „ ‟ ″ « » curly double quotes
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",  # hyphen, non-breaking hyphen, figure dash, en and em dash, minus sign
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",  # …
    "\u00a0": " ",  # non-breaking, narrow, figure, en, em and thin spaces
    "\u202f": " ",
    "\u2007": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2009": " ",
    "\u200b": "",  # zero-width space and soft hyphen: invisible, yet each would make the text UCS-2
    "\u00ad": "",
}
"""Unicode look-alikes and the GSM-7 text that reads the same on a phone."""

_NAMES = {
    "'": "curly quote",
    '"': "curly quote",
    "-": "dash",
    "...": "ellipsis",
    " ": "non-breaking space",
    "": "invisible character",
}
_CURRENCY_TWICE = re.compile(r"\b([A-Z]{3})\.?\s+\1\b")
_AROUND = 20  # characters of the example's message quoted either side of an empty variable
_HOLE = "\x00"  # marks where the empty value goes; no rendered text holds it


def to_gsm7(text: str) -> str:
    """`text` with every look-alike in GSM7_REPLACEMENTS written in GSM-7; other characters as they are."""
    return "".join(GSM7_REPLACEMENTS.get(ch, ch) for ch in text)


def shown_character(ch: str) -> str:
    """A character as a warning names it: visible ones as themselves, spaces and invisible ones by code point."""
    return ch if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"


@dataclass(frozen=True)
class Replacement:
    """One character of the template that forces UCS-2, and its GSM-7 form when herald knows one."""

    character: str
    shown: str
    replacement: str | None
    name: str


@dataclass(frozen=True)
class PreviewWarning:
    """One problem clients would see. `kind`: empty_variable, ucs2_template, ucs2_values or currency_twice."""

    kind: str
    text: str
    recipients: int
    example_client_id: int | None = None
    replacements: tuple[Replacement, ...] = ()
    language: str | None = None  # the template's it is about (warnings_of); None: one template naming none


@dataclass
class _Seen:
    recipients: int = 0
    example: int | None = None
    reads: str = ""  # for an empty variable: the example's message around the hole

    def add(self, client_id: int) -> None:
        self.recipients += 1
        if self.example is None:
            self.example = client_id


@dataclass
class Findings:
    """What the recipients of one template show, gathered row by row while a preview renders them."""

    template: Template
    alphabet: Alphabet = Alphabet.GSM7
    recipients: int = 0
    segments: int = 0
    segments_in_gsm7: int = 0
    _empty: dict[str, _Seen] = field(default_factory=dict)
    _value_characters: dict[str, _Seen] = field(default_factory=dict)
    _ucs2: _Seen = field(default_factory=_Seen)
    _currency: dict[str, _Seen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._checked = sorted(self.template.unguarded_variables)
        self._template_characters = forcing_ucs2(self.template.text, self.alphabet)

    @property
    def gsm7_template(self) -> Template | None:
        """The template with its look-alikes replaced, when that changes it (what "use GSM-7 characters" saves)."""
        fixed = to_gsm7(self.template.text)
        if fixed == self.template.text or not fixed.strip():
            return None
        try:
            return Template(fixed)
        except TemplateError:  # "…" -> "..." made it longer than a template may be: no rewrite to offer
            return None

    def add(
        self,
        client_id: int,
        variables: dict[str, str],
        body: str,
        encoding: str,
        segments: int,
        segments_in_gsm7: int | None = None,
        template_characters: tuple[str, ...] | None = None,
    ) -> None:
        """One recipient: its variables, its rendered body and what it costs (and would cost in GSM-7).

        `template_characters`: the UCS-2 characters of the template the body was rendered from, when it is
        another language's than `template` (those are the template's doing, not the values')."""
        self.recipients += 1
        self.segments += segments
        self.segments_in_gsm7 += segments if segments_in_gsm7 is None else segments_in_gsm7
        for name in self._checked:
            if not variables.get(name, "").strip():
                seen = self._empty.setdefault(name, _Seen())
                if seen.example is None:
                    seen.reads = self._around_hole(name, variables)
                seen.add(client_id)
        if encoding == "UCS-2":
            self._ucs2.add(client_id)
            own = self._template_characters if template_characters is None else template_characters
            for ch in forcing_ucs2(body, self.alphabet):
                if ch not in own:
                    self._value_characters.setdefault(ch, _Seen()).add(client_id)
        twice = _CURRENCY_TWICE.search(body)
        if twice:
            self._currency.setdefault(twice.group(0), _Seen()).add(client_id)

    def warnings(self) -> tuple[PreviewWarning, ...]:
        """Each problem found, worst first: empty variables, UCS-2, a currency written twice."""
        found = [self._empty_warning(name, seen) for name, seen in sorted(self._empty.items())]
        if self._template_characters:
            found.append(self._template_warning())
        if self._value_characters:
            found.append(_values_warning(self._value_characters))
        for text, seen in sorted(self._currency.items()):
            found.append(
                PreviewWarning(
                    "currency_twice",
                    f'{_count(seen.recipients)} of {self.recipients:,} would read "{text}" (e.g. client'
                    f" {seen.example}): money variables already carry their currency; remove it from the"
                    " template.",
                    seen.recipients,
                    seen.example,
                )
            )
        return tuple(found)

    def _around_hole(self, name: str, variables: dict[str, str]) -> str:
        """The example recipient's message around where `name` is missing: "Dear , your loan..."."""
        marked = self.template.render({**variables, name: _HOLE})
        at = marked.find(_HOLE)
        body = marked.replace(_HOLE, "")
        start, end = max(at - _AROUND, 0), min(at + _AROUND, len(body))
        return ("..." if start else "") + body[start:end] + ("..." if end < len(body) else "")

    def _empty_warning(self, name: str, seen: _Seen) -> PreviewWarning:
        tag = "{{" + name + "}}"
        return PreviewWarning(
            "empty_variable",
            f"{tag} is empty for {_count(seen.recipients)} of {self.recipients:,} (e.g. client {seen.example}):"
            f' they would read "{seen.reads}". Fill it in Fineract, or show the text only when it is there:'
            f" {{{{#{name}}}}}...{{{{/{name}}}}}.",
            seen.recipients,
            seen.example,
        )

    def _template_warning(self) -> PreviewWarning:
        replacements = tuple(
            Replacement(
                ch,
                shown_character(ch),
                GSM7_REPLACEMENTS.get(ch),
                _NAMES.get(GSM7_REPLACEMENTS.get(ch, "?"), "character"),
            )
            for ch in self._template_characters
        )
        named = ", ".join(
            f"{r.shown} ({r.name}" + (f', use "{r.replacement}")' if r.replacement else ", no GSM-7 form)")
            for r in replacements
        )
        text = (
            f"The template has characters outside GSM-7: {named}. Every message goes as UCS-2, 70 characters"
            " a segment instead of 160"
        )
        if self.gsm7_template is not None and self.segments_in_gsm7 < self.segments:
            text += (
                f": {self.segments:,} segments, {self.segments_in_gsm7:,} with GSM-7 characters"
                f" ({self.segments / max(self.segments_in_gsm7, 1):.1f} times the cost)"
            )
        return PreviewWarning("ucs2_template", text + ".", self._ucs2.recipients, None, replacements)


def _values_warning(value_characters: Mapping[str, _Seen]) -> PreviewWarning:
    characters = sorted(value_characters.items(), key=lambda item: -item[1].recipients)
    first = characters[0][1]
    named = ", ".join(f"{shown_character(ch)} ({_count(seen.recipients)})" for ch, seen in characters[:8])
    return PreviewWarning(
        "ucs2_values",
        f"Values from Fineract (names ...) hold characters outside GSM-7: {named}, e.g. client {first.example}."
        " Those messages go as UCS-2, 70 characters a segment; the cost above counts it.",
        max(seen.recipients for _, seen in characters),
        first.example,
    )


_ORDER = ("empty_variable", "ucs2_template", "ucs2_values", "currency_twice")


def warnings_of(findings: Mapping[str | None, Findings]) -> tuple[PreviewWarning, ...]:
    """Every template's warnings, worst kind first, each carrying its language, in the campaign's order.

    With several templates each warning's text starts with its template's language, and its counts are
    of that language's recipients. The values' characters are the clients' whatever their language: one
    warning for all of them, not one per template.
    """
    several = len(findings) > 1
    found: list[PreviewWarning] = []
    values: dict[str, _Seen] = {}
    for code, f in findings.items():
        for w in f.warnings():
            if w.kind != "ucs2_values":
                text = f"{language_name(code)} template: {w.text}" if several else w.text
                found.append(replace(w, text=text, language=code))
        for ch, seen in f._value_characters.items():
            merged = values.setdefault(ch, _Seen())
            merged.recipients += seen.recipients
            merged.example = seen.example if merged.example is None else merged.example
    if values:
        found.append(_values_warning(values))
    return tuple(sorted(found, key=lambda w: _ORDER.index(w.kind)))


def _count(n: int) -> str:
    return f"{n:,} recipient" + ("" if n == 1 else "s")
