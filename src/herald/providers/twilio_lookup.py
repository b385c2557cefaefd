"""Which message in Twilio's list is a lost attempt: herald's own text, although Twilio may have altered the body.

Twilio documents several changes to an outbound body: a trial account puts "Sent from your
Twilio trial account - " in front; Smart Encoding (on by default in Messaging Services, or
`SmartEncoded`) swaps Unicode look-alikes (curly quotes, dashes, odd spaces, ellipsis) for GSM-7
characters; Link Shortening puts a short link in place of each long one; redaction (Messaging
Service or `ContentRetention=discard`) empties it. None of them touches the letters and digits of
the text outside links, and those are what tell one herald message from another (name, amount,
date, account), modifier letters apart (Smart Encoding turns U+02BB and its kin into apostrophes).
So two bodies are compared by their letters and digits alone, links and the trial prefix left
out; an empty listed body says nothing either way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from herald.providers.base import InDoubt

TRIAL_PREFIX = "Sent from your Twilio trial account - "
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


class Likeness(IntEnum):
    """How a listed body compares with herald's text, best first by value."""

    OTHER = 0  # clearly another message: never adopted
    UNKNOWN = 1  # the listed body is empty (redacted): only its To, From and time speak for it
    ALTERED = 2  # herald's text as Twilio changes it (trial prefix, look-alikes, short links)
    EXACT = 3


def _letters_and_digits(text: str) -> str:
    # NFKD splits accents off letters and full-width forms into ASCII; only alphanumerics remain.
    # Modifier letters (Lm: the Uzbek and Ukrainian apostrophes U+02BB, U+02BC, primes) are letters
    # to Python but punctuation to Smart Encoding, which stores them as ' and ": left out too.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum() and unicodedata.category(ch) != "Lm").casefold()


def fingerprint(text: str) -> str:
    """What Twilio's documented alterations leave unchanged in a body: its letters and digits outside links."""
    prefix = TRIAL_PREFIX.rstrip()
    if text.lstrip().startswith(prefix):
        text = text.lstrip()[len(prefix) :]
    return _letters_and_digits(_LINK.sub(" ", text))


def likeness(listed: str | None, ours: str) -> Likeness:
    """How a body in Twilio's message list compares with the text herald sent."""
    if listed == ours:
        return Likeness.EXACT
    if not listed:
        return Likeness.UNKNOWN
    mine = fingerprint(ours)
    if mine and fingerprint(listed) == mine:
        return Likeness.ALTERED
    return Likeness.OTHER


@dataclass(frozen=True)
class Candidate:
    """A listed message that To, From and time allow to be the attempt in doubt, and how its body compares."""

    sid: str
    created: datetime
    likeness: Likeness


def adopted(messages: Sequence[InDoubt], listed: Sequence[list[Candidate]]) -> dict[int, str]:
    """Each in-doubt message's listed copy, strongest evidence first, no listed message given to two.

    An empty (redacted) body is taken only when nothing else can claim the message: it is the
    only one in the window and herald asks about only one message to that number.
    """
    asking: dict[str, int] = {}
    for m in messages:
        asking[m.to] = asking.get(m.to, 0) + 1
    pairs = [
        (c, m, len(found))
        for m, found in zip(messages, listed, strict=True)
        for c in found
        if c.likeness is not Likeness.OTHER
    ]
    pairs.sort(key=lambda p: (-p[0].likeness, p[0].created, p[1].since, p[1].message_id))
    chosen: dict[int, str] = {}
    taken: set[str] = set()
    for candidate, message, in_window in pairs:
        if message.message_id in chosen or candidate.sid in taken:
            continue
        if candidate.likeness is Likeness.UNKNOWN and (in_window > 1 or asking[message.to] > 1):
            continue
        chosen[message.message_id] = candidate.sid
        taken.add(candidate.sid)
    return chosen
