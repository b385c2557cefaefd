"""How template variables show values to clients: money with its currency, office names without Fineract's dots.

Every rule, triggered or not, renders through these, so one campaign never shows "4,000.00" next
to "4,000", nor "..Nairobi" for one client and "Nairobi" for another.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

DEFAULT_DIGITS = 2
"""Decimals of an amount whose row names no currency (never the case for loan and savings rules)."""


@cache
def _money_spec(digits: int | None) -> str:
    return f",.{DEFAULT_DIGITS if digits is None else int(digits)}f"


def money_text(amount: Decimal | float | int | str, digits: int | None, currency: str | None) -> str:
    """ "KES 4,000.00", "UGX 4,000": the currency's code and its own decimals, thousands separated.

    format() rounds a Decimal half-even, Fineract's default rounding mode. Without a currency the
    amount alone, with two decimals (docs/fineract-differences.md#D27)."""
    number = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    text = format(number, _money_spec(None if digits is None else int(digits)))
    code = (currency or "").strip()
    return f"{code} {text}" if code else text


def office_name_text(name: object) -> str:
    """The office's name as a client reads it: no leading dots (Fineract indents names with ".." per level
    below the head office, and some installs store names that way), no surrounding spaces."""
    return (name if isinstance(name, str) else "" if name is None else str(name)).lstrip(". ").rstrip()
