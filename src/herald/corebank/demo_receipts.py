"""The demo's payment details (m_payment_detail): receipt numbers on most repayments and deposits.

Which transaction gets a receipt, and its number, follow from the transaction's id alone, not
from the random stream, so adding receipts changed no other row of a seed's demo data. About
three in four money-in transactions carry one, like a mobile-money or teller receipt; the rest
were paid without a receipt number, as cash often is in Fineract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = dict[str, Any]

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: as printed on mobile-money receipts
_MIX = 2654435761  # Knuth's multiplicative hash spreads consecutive ids over the alphabet


def receipt_number(prefix: str, transaction_id: int) -> str | None:
    """The receipt of a money-in transaction, or None for the one in four paid without one."""
    if transaction_id % 4 == 0:
        return None
    value = (transaction_id * _MIX) % (len(_ALPHABET) ** 8)
    code = ""
    for _ in range(8):
        value, digit = divmod(value, len(_ALPHABET))
        code += _ALPHABET[digit]
    return f"{prefix}{code}"


def payment_detail(prefix: str, transaction_id: int, next_id: Callable[[str], int], rows: list[Row]) -> int | None:
    """Add the transaction's m_payment_detail row to `rows` when it has a receipt; its id (the FK) or None."""
    number = receipt_number(prefix, transaction_id)
    if number is None:
        return None
    detail_id = next_id("m_payment_detail")
    rows.append(
        {
            "id": detail_id,
            "payment_type_id": None,
            "account_number": None,
            "check_number": None,
            "receipt_number": number,
            "bank_number": None,
            "routing_code": None,
        }
    )
    return detail_id
