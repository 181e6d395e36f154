"""Money at the boundaries: exact Decimal amounts with two fractional digits, never floats."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999999999.99")  # DECIMAL(18,2) in the store

_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class AmountError(ValueError):
    """An amount string is not a valid monetary amount; the message says why."""


def parse_amount(
    text: str | None,
    *,
    decimal_separator: str = ".",
    thousands_separator: str = "",
    max_fraction_digits: int = 2,
) -> Decimal:
    """Return the exact Decimal value of a monetary amount written with the given separators.

    Rejects (with :class:`AmountError`) empty strings, non-numeric text, exponents, NaN/infinity,
    more fractional digits than ``max_fraction_digits`` (they would be lost in DECIMAL(18,2)), and
    values that do not fit DECIMAL(18,2).
    """
    if text is None:
        raise AmountError("amount is missing")
    raw = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    if not raw:
        raise AmountError("amount is empty")
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = True, raw[1:-1].strip()
    if raw.endswith("-") and not raw.startswith("-"):
        negative, raw = True, raw[:-1].strip()
    if thousands_separator:
        raw = raw.replace(thousands_separator, "")
        if thousands_separator == " ":
            raw = raw.replace(" ", "")
    if decimal_separator != ".":
        if "." in raw and thousands_separator != ".":
            raise AmountError(f"amount {text!r} contains '.' but the decimal separator is {decimal_separator!r}")
        raw = raw.replace(decimal_separator, ".")
    if not _PLAIN.match(raw):
        raise AmountError(f"amount {text!r} is not a number")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the regex already rules this out
        raise AmountError(f"amount {text!r} is not a number") from exc
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > max_fraction_digits and value != value.quantize(CENT):
        raise AmountError(f"amount {text!r} has more than {max_fraction_digits} decimal places")
    value = value.quantize(CENT, rounding=ROUND_HALF_EVEN)
    if abs(value) > MAX_AMOUNT:
        raise AmountError(f"amount {text!r} does not fit 18 digits with 2 decimals")
    return -value if negative else value


def to_cents(value: Decimal) -> int:
    """Return an exact integer number of minor units (cents) for a two-decimal amount."""
    return int((value * 100).to_integral_value())


def from_cents(cents: int) -> Decimal:
    """Return the Decimal amount for an integer number of minor units."""
    return (Decimal(cents) / 100).quantize(CENT)


def fmt(value: Decimal | None) -> str | None:
    """Return the canonical decimal string of an amount (``"1234.50"``), or None."""
    if value is None:
        return None
    return str(Decimal(value).quantize(CENT))
