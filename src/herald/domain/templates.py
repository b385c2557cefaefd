"""Message templates: herald's own small Mustache subset, checked against a rule and rendered from plain strings.

Templates keep Fineract's SMS campaign syntax ("Dear {{firstName}}, your loan {{loanAccountId}} has
{{loanOutstanding}} outstanding"), but the language is exactly what a loan officer needs and nothing
that could reach Python:

- `{{name}}`: the rule variable `name`; a name is letters, digits and inner underscores, nothing
  else (no dots, no leading underscore, no `.`), and must be one of the rule's own variables.
- `{{#name}}...{{/name}}` shows its text when the variable is non-empty, `{{^name}}...{{/name}}`
  when it is empty. Sections nest; they never repeat, push a context or call anything.
- Everything else in braces is refused with a sentence naming the tag: partials (`{{> x}}`),
  delimiter changes (`{{=<% %>=}}`), comments, `{{{x}}}` and `{{&x}}` (an SMS is never
  HTML-escaped, so they would mean the same as `{{x}}`), empty, unclosed and mismatched tags.

Rendering reads a plain mapping of strings by exact key and joins text: no attribute is looked up
and nothing is called on a value, so a template is data whatever its text. Values that are not
`str` (and None) render as nothing. Fineract renders SMS through an HTML-escaping Mustache, so
"Smith & Sons" reaches the phone as "Smith &amp; Sons"; that is a defect herald does not copy.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from herald.errors import TemplateError

MAX_LENGTH = 1_600
"""The longest template accepted: ten GSM-7 segments of text, already more than anyone pays for."""

MAX_SEGMENTS = 10
"""The most segments one rendered message may take; a longer one is Invalid, never sent (nor paid for)."""

_FIELD = "message"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)
_OPEN, _CLOSE = "{{", "}}"
_SHOWN = 60  # characters of an offending tag quoted back in an error

# One compiled instruction: (kind, text). Kinds: "text" literal, "var" a variable, "if"/"unless" a
# section over the variable `text` whose end is at `jumps[index]`, "end" a section's close.
_Op = tuple[str, str]
_REFUSED = {
    ">": "a partial (SMS templates cannot include other templates); write the text in full",
    "<": "a partial (SMS templates cannot include other templates); write the text in full",
    "=": "a delimiter change; herald templates always use {{ and }}",
    "!": "a comment; an SMS template cannot hold comments, remove it",
    "&": "an unescaped variable; SMS text is never escaped, so write {{name}} instead",
    "{": "a triple-brace variable; SMS text is never escaped, so write {{name}} instead",
}


def _refuse(message: str, hint: str | None = None) -> TemplateError:
    return TemplateError(message, field=_FIELD, hint=hint)


def _quoted(tag: str) -> str:
    return tag if len(tag) <= _SHOWN else tag[: _SHOWN - 1] + "…"


def _text(value: object) -> str:
    # Exact type check: isinstance() could consult a foreign object's __class__, and str() would call
    # its __str__; a template must never make herald run code that a value carries.
    return value if type(value) is str else ""


def _compile(text: str) -> tuple[tuple[_Op, ...], tuple[int, ...]]:
    """The template as a flat list of instructions plus, for each, where its section ends."""
    ops: list[_Op] = []
    jumps: list[int] = []
    open_sections: list[tuple[int, str, str]] = []  # (op index, name, tag as written)
    position = 0
    while True:
        start = text.find(_OPEN, position)
        if start < 0:
            break
        if start > position:
            ops.append(("text", text[position:start]))
            jumps.append(0)
        end = text.find(_CLOSE, start + len(_OPEN))
        if end < 0:
            raise _refuse(
                f'The message template has a "{{{{" that is never closed: {_quoted(text[start:])!r}.',
                hint='Close every "{{" with "}}", e.g. {{firstName}}.',
            )
        if text.startswith("{{{", start) and text.startswith("}", end + 2):
            end += 1  # quote {{{x}}} whole
        tag = text[start : end + len(_CLOSE)]
        content = text[start + len(_OPEN) : end]
        position = end + len(_CLOSE)
        kind, name = _classify(tag, content)
        if kind == "end":
            if not open_sections:
                raise _refuse(
                    f"The message template closes {tag} but no section {{{{#{name}}}}} is open.",
                    hint="Remove it, or open the section before it.",
                )
            index, opened, opened_tag = open_sections.pop()
            if opened != name:
                raise _refuse(
                    f"The message template closes {tag} while {opened_tag} is still open.",
                    hint=f"Close {opened_tag} with {{{{/{opened}}}}} first.",
                )
            jumps[index] = len(ops) + 1
        ops.append((kind, name))
        jumps.append(0)
        if kind in ("if", "unless"):
            open_sections.append((len(ops) - 1, name, tag))
    if position < len(text):
        ops.append(("text", text[position:]))
        jumps.append(0)
    if open_sections:
        _, name, tag = open_sections[-1]
        raise _refuse(
            f"The message template opens the section {tag} but never closes it.",
            hint=f"End the section with {{{{/{name}}}}}.",
        )
    return tuple(ops), tuple(jumps)


def _classify(tag: str, content: str) -> tuple[str, str]:
    """(instruction kind, variable name) of one tag, or TemplateError saying why it is not allowed."""
    stripped = content.strip()
    if not stripped:
        raise _refuse(
            "The message template has an empty tag {{}}.",
            hint="Put a variable name between the braces, e.g. {{firstName}}, or remove them.",
        )
    sigil = stripped[0]
    if sigil in _REFUSED:
        raise _refuse(f"The message template tag {_quoted(tag)} is {_REFUSED[sigil]}.")
    kind = {"#": "if", "^": "unless", "/": "end"}.get(sigil, "var")
    name = stripped[1:].strip() if kind != "var" else stripped
    if _NAME.fullmatch(name) is None:
        raise _refuse(
            f"The message template tag {_quoted(tag)} is not allowed: a tag holds exactly one variable name"
            " (letters and digits, no dots, spaces or symbols), optionally after # or ^ for a section.",
            hint="Write e.g. {{firstName}}, or {{#groupName}}...{{/groupName}} for text shown only when"
            " the variable is not empty.",
        )
    return kind, name


@dataclass(frozen=True)
class Template:
    """A parsed message template; `variables` are every name it reads, sections included.

    Build it with `Template.parse(text)` (or `Template(text)`): `variables` and the compiled form
    are derived from the text, so they can never disagree with it.
    """

    text: str
    variables: frozenset[str] = field(init=False)
    _ops: tuple[_Op, ...] = field(init=False, repr=False, compare=False)
    _jumps: tuple[int, ...] = field(init=False, repr=False, compare=False)
    # Without sections: literals at even positions, variable names at odd positions (the fast path).
    _parts: tuple[str, ...] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise _refuse(
                "The message template is empty.", hint="Write the text of the SMS, e.g. 'Dear {{firstName}}, ...'."
            )
        if len(self.text) > MAX_LENGTH:
            raise _refuse(
                f"The message template is {len(self.text):,} characters long; the most is {MAX_LENGTH:,}"
                " (ten SMS segments).",
                hint="Shorten the text: every 153 characters (67 with non-GSM letters) is one more paid segment.",
            )
        ops, jumps = _compile(self.text)
        parts: list[str] | None = [""]
        for kind, value in ops:
            if parts is None:
                break
            if kind == "text":
                parts[-1] += value
            elif kind == "var":
                parts += [value, ""]
            else:
                parts = None
        object.__setattr__(self, "variables", frozenset(value for kind, value in ops if kind != "text"))
        object.__setattr__(self, "_ops", ops)
        object.__setattr__(self, "_jumps", jumps)
        object.__setattr__(self, "_parts", None if parts is None else tuple(parts))

    @classmethod
    def parse(cls, text: str) -> Template:
        """Parse `text`, raising TemplateError (field "message") naming what is empty, too long or not allowed."""
        return cls(text)

    def check_variables(self, available: Iterable[str], rule: str | None = None) -> None:
        """Raise TemplateError naming each variable that `available` (the rule's variables) lacks."""
        known = sorted(set(available))
        unknown = sorted(self.variables - set(known))
        if not unknown:
            return
        by_lower = {name.lower(): name for name in known}
        source = f'rule "{rule}"' if rule else "the rule"
        sentences = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=1)
            guess = by_lower.get(name.lower()) or (close[0] if close else None)
            sentence = f"Template variable {{{{{name}}}}} is not provided by {source}"
            sentence += f"; did you mean {{{{{guess}}}}}?" if guess else "."
            sentences.append(sentence)
        available_text = ", ".join(f"{{{{{name}}}}}" for name in known) if known else "none"
        raise _refuse(" ".join(sentences), hint=f"Available: {available_text}.")

    @property
    def unguarded_variables(self) -> frozenset[str]:
        """Variables printed where nothing checks them: outside a `{{#name}}` section of their own, so an
        empty value leaves a hole in the text ("Dear , ...")."""
        open_sections: list[tuple[str, str]] = []
        found: set[str] = set()
        for kind, value in self._ops:
            if kind in ("if", "unless"):
                open_sections.append((kind, value))
            elif kind == "end":
                open_sections.pop()
            elif kind == "var" and ("if", value) not in open_sections:
                found.add(value)
        return frozenset(found)

    def render(self, values: Mapping[str, str]) -> str:
        """The message text for one recipient: values as they are, missing and non-text values as ""."""
        get = values.get
        parts = self._parts
        if parts is not None:
            out = list(parts)
            for index in range(1, len(parts), 2):
                out[index] = _text(get(parts[index]))
            return "".join(out)
        pieces: list[str] = []
        ops, jumps = self._ops, self._jumps
        index = 0
        while index < len(ops):
            kind, value = ops[index]
            if kind == "text":
                pieces.append(value)
            elif kind == "var":
                pieces.append(_text(get(value)))
            elif kind != "end" and (_text(get(value)) != "") != (kind == "if"):
                index = jumps[index]
                continue
            index += 1
        return "".join(pieces)
