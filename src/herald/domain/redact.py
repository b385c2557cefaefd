"""Hiding phone numbers inside free text (message bodies, provider error texts, reasons) shown to non-admins.

A full number reaches only admins. Numbers get into text in ways herald does not control: a
message body rendered before `mobileNo` stopped being a template variable, a message Fineract
rendered itself and handed to the gateway, a provider's error ("The 'To' number +15005550001 is
not a valid phone number"), a client name typed with a number in it. So text shown to anyone
else goes through `redact_phones`, which masks whatever looks like a number:

- "+" and at least 7 digits (E.164, however spaced: "+254 712 345 678", "+1 (500) 555-0001");
- at least 9 digits without "+" (national "0712345678", "0712 345 678", "254712345678",
  "00254712345678").

Digits may be separated by up to two spaces, dots, dashes, slashes or parentheses. Each match is replaced
by `phones.mask` of its digits, so it reads as numbers do everywhere else ("+2547******78"). It
errs on the side of hiding: a 9-digit account number is masked too, for non-admins only.
"""

from __future__ import annotations

import re

from herald.domain.phones import mask

MIN_INTERNATIONAL_DIGITS = 7
MIN_NATIONAL_DIGITS = 9

# Up to two separators between digits (") " and " (" included); a candidate has at least as many
# digits as the shortest number masked, so the engine drops amounts and dates without a callback.
_CANDIDATE = re.compile(rf"(?<![\d+])\+?\d(?:[ .\-/\u00a0()]{{0,2}}\d){{{MIN_INTERNATIONAL_DIGITS - 1},}}", re.ASCII)


def _digits(found: str) -> str:
    return "".join(ch for ch in found if ch.isdigit())


def _is_number(found: str) -> bool:
    least = MIN_INTERNATIONAL_DIGITS if found.startswith("+") else MIN_NATIONAL_DIGITS
    return len(_digits(found)) >= least


def _masked(match: re.Match[str]) -> str:
    found = match.group(0)
    if not _is_number(found):
        return found
    return mask(("+" if found.startswith("+") else "") + _digits(found))


def redact_phones(text: str | None) -> str | None:
    """`text` with everything that looks like a phone number masked; None stays None."""
    if not text:
        return text
    return _CANDIDATE.sub(_masked, text)


def looks_like_phone(text: str) -> bool:
    """Whether `text` holds anything `redact_phones` would mask."""
    return any(_is_number(m.group(0)) for m in _CANDIDATE.finditer(text))
