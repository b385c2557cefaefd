"""Message templates: Mustache text with Fineract's variable names, checked against a rule and rendered.

Templates use Fineract's SMS campaign syntax ("Dear {{firstName}}, your loan {{loanAccountId}} has
{{loanOutstanding}} outstanding"). Parsing is chevron's; herald adds validation against the
variables a business rule provides, a fast path for the common template, and one deliberate
departure from Fineract:

    An SMS is plain text, so nothing is HTML-escaped: `{{x}}` renders exactly like `{{{x}}}`.
    Fineract renders SMS through an HTML-escaping Mustache, so "Smith & Sons" reaches the phone as
    "Smith &amp; Sons"; that is a defect herald does not copy.

Partials (`{{> name}}`) are refused: they would read files, and an SMS has no use for them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import chevron
from chevron.tokenizer import tokenize

from herald.errors import TemplateError

_FIELD = "message"
_SECTION_TAGS = frozenset({"section", "inverted section"})
_VALUE_TAGS = frozenset({"variable", "no escape"})

Token = tuple[str, str]


def _text(value: object) -> str:
    """A value as chevron prints it, but None (and other empties) as "" rather than "None"."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if value is False or value == 0:  # chevron prints 0 and False; other falsy values print nothing
        return str(value)
    return str(value) if value else ""


def _tokens(text: str) -> list[Token]:
    try:
        tokens: list[Token] = list(tokenize(text))
    except SyntaxError as error:  # chevron.ChevronError derives from SyntaxError
        reason = re.sub(r"\s*\n\s*", "; ", str(error).strip())
        raise TemplateError(
            f"The message template does not parse: {reason}.",
            field=_FIELD,
            hint='Close every "{{" with "}}" and every {{#section}} or {{^section}} with {{/section}}.',
        ) from None
    except IndexError:  # chevron fails on an empty tag "{{}}"
        raise TemplateError(
            "The message template has an empty tag {{}}.",
            field=_FIELD,
            hint="Put a variable name between the braces, e.g. {{firstName}}, or remove them.",
        ) from None
    for tag, key in tokens:
        if tag == "partial":
            raise TemplateError(
                f"The message template includes a partial {{{{> {key}}}}}; SMS templates cannot.",
                field=_FIELD,
                hint="Write the text in full instead.",
            )
    return tokens


@dataclass(frozen=True)
class Template:
    """A parsed message template; `variables` are every name it reads, sections included.

    Build it with `Template.parse(text)` (or `Template(text)`): `variables` and the compiled form
    are derived from the text, so they can never disagree with it.
    """

    text: str
    variables: frozenset[str] = field(init=False)
    # Token list for chevron with every variable unescaped, or None when the fast path applies.
    _tokens: tuple[Token, ...] | None = field(init=False, repr=False, compare=False)
    # Fast path: literals at even positions, variable names at odd positions.
    _parts: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise TemplateError(
                "The message template is empty.",
                field=_FIELD,
                hint="Write the text of the SMS, e.g. 'Dear {{firstName}}, ...'.",
            )
        tokens = _tokens(self.text)
        variables = frozenset(
            key for tag, key in tokens if (tag in _VALUE_TAGS or tag in _SECTION_TAGS) and key != "."
        )
        simple = all(
            tag == "literal" or tag == "set delimiter" or (tag in _VALUE_TAGS and "." not in key)
            for tag, key in tokens
        )
        parts: list[str] = [""]
        if simple:
            for tag, key in tokens:
                if tag == "literal":
                    parts[-1] += key
                elif tag in _VALUE_TAGS:
                    parts += [key, ""]
        unescaped = tuple(("no escape" if tag == "variable" else tag, key) for tag, key in tokens)
        object.__setattr__(self, "variables", variables)
        object.__setattr__(self, "_tokens", None if simple else unescaped)
        object.__setattr__(self, "_parts", tuple(parts))

    @classmethod
    def parse(cls, text: str) -> Template:
        """Parse `text`, raising TemplateError (field "message") if it is empty or malformed."""
        return cls(text)

    def check_variables(self, available: Iterable[str], rule: str | None = None) -> None:
        """Raise TemplateError naming each variable that `available` (the rule's variables) lacks.

        A dotted name ("loan.amount") needs its first part to be available.
        """
        known = sorted(set(available))
        known_set = set(known)
        unknown = sorted(name for name in self.variables if name.split(".", 1)[0] not in known_set)
        if not unknown:
            return
        by_lower = {name.lower(): name for name in known}
        source = f'rule "{rule}"' if rule else "the rule"
        sentences = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=1)
            guess = by_lower.get(name.lower()) or (close[0] if close else None)
            sentence = f"Template variable {{{{{name}}}}} is not provided by {source}"
            if guess:
                sentence += f"; did you mean {{{{{guess}}}}}?"
            else:
                sentence += "."
            sentences.append(sentence)
        available_text = ", ".join(f"{{{{{name}}}}}" for name in known) if known else "none"
        raise TemplateError(" ".join(sentences), field=_FIELD, hint=f"Available: {available_text}.")

    def render(self, values: Mapping[str, object]) -> str:
        """The message text for one recipient; nothing is HTML-escaped, None and missing render as ""."""
        if self._tokens is not None:
            rendered: str = chevron.render(list(self._tokens), values, partials_path=None)
            return rendered
        parts = self._parts
        out = list(parts)
        get = values.get
        for index in range(1, len(parts), 2):
            out[index] = _text(get(parts[index]))
        return "".join(out)
