"""CSV cells safe to open in a spreadsheet (used by every CSV the platform writes)."""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """A spreadsheet must not run a cell as a formula: text starting with = + - @ (or tab/CR) gets a leading quote.
    Numbers stay numbers (a negative number is data, not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
