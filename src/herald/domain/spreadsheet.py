"""Cells for CSV exports that a spreadsheet opens as text, never as a formula."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes Excel, LibreOffice or Google Sheets read a cell as a formula (or strip into one)."""


def safe_cell(value: object) -> object:
    """The value itself, or, for a text a spreadsheet would evaluate, the text behind a leading quote.

    Numbers stay numbers (a negative amount is not a formula); only text is neutralised.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
