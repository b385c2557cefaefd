"""What herald accepts from outside before keeping it: JSON bodies, text PostgreSQL can store, ids that fit BIGINT.

Every edge (webhooks, the Fineract hook and gateway, the API's request models) asks these same
questions, so a value that SQLite would take and PostgreSQL would refuse (a NUL byte, a lone
surrogate, a string longer than its column, an integer past BIGINT) is refused at the door with a
sentence saying what is wrong, instead of failing mid-transaction as a 500.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

BIGINT_MAX = 2**63 - 1
"""The largest id herald's BIGINT columns (and Fineract's) can hold."""

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, and surrogates (a str holds them only unpaired)


class Unreadable(ValueError):
    """The body is not JSON herald can read; the message says why."""


def _no_constant(name: str) -> Any:
    raise Unreadable(f"{name} is not a JSON number.")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 reads as infinity, which no integer or column can hold
        raise Unreadable(f"{text[:20]} is too large a number.")
    return value


def loads(body: bytes | str) -> Any:
    """Parse a JSON body; Unreadable for non-JSON, NaN/Infinity, or nesting too deep to read."""
    try:
        return json.loads(body or b"null", parse_constant=_no_constant, parse_float=_finite)
    except Unreadable:
        raise
    except RecursionError:
        raise Unreadable("The JSON is nested too deeply.") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise Unreadable("The body is not JSON.") from None


def text_problem(value: str, limit: int | None = None) -> str | None:
    """Why `value` cannot be stored as text (NUL byte, lone surrogate, longer than `limit`), or None."""
    bad = _UNSTORABLE.search(value)
    if bad is not None:
        kind = "a NUL byte" if bad.group() == "\x00" else "an unpaired surrogate (not valid Unicode)"
        return f"contains {kind} at position {bad.start()}"
    if limit is not None and len(value) > limit:
        return f"is {len(value)} characters long; at most {limit} are kept"
    return None


def cleaned(value: str, limit: int) -> str:
    """Free text (a provider's error description) made storable: bad characters replaced, cut to `limit`."""
    return _UNSTORABLE.sub("\ufffd", value)[:limit]


def as_id(value: object) -> int | None:
    """A positive id that fits BIGINT, from an integer or a string of ASCII digits; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit()) or len(value) > 19:
            return None
        value = int(value)
    if isinstance(value, int) and 1 <= value <= BIGINT_MAX:
        return value
    return None
