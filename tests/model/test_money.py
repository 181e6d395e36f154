"""Money parsing: exact Decimals, every separator convention, junk refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taxaudit.model.money import AmountError, from_cents, parse_amount, to_cents


@pytest.mark.parametrize(("text", "kwargs", "expected"), [
    ("1234.50", {}, "1234.50"),
    ("1 234,50", {"decimal_separator": ",", "thousands_separator": " "}, "1234.50"),
    ("1.234,50", {"decimal_separator": ",", "thousands_separator": "."}, "1234.50"),
    ("1,234.50", {"thousands_separator": ","}, "1234.50"),
    ("(99.95)", {}, "-99.95"),
    ("99.95-", {}, "-99.95"),
    ("-0.01", {}, "-0.01"),
    ("7", {}, "7.00"),
    ("\u00a012\u00a0345,00", {"decimal_separator": ",", "thousands_separator": " "}, "12345.00"),
    ("1.500", {}, "1.50"),
])
def test_parse_amount(text: str, kwargs: dict, expected: str) -> None:
    assert parse_amount(text, **kwargs) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "  ", "abc", "1e5", "NaN", "Infinity", "12.345", "1..2", "99999999999999999.00"])
def test_junk_is_refused(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text)


def test_dot_with_comma_decimal_is_refused() -> None:
    with pytest.raises(AmountError):
        parse_amount("1.5", decimal_separator=",")


@given(st.integers(min_value=-(10**17) + 1, max_value=10**17 - 1))
def test_cents_round_trip(cents: int) -> None:
    amount = from_cents(cents)
    assert to_cents(amount) == cents
    assert parse_amount(str(amount)) == amount
    text = f"{amount:,.2f}".replace(",", " ").replace(".", ",")
    assert parse_amount(text, decimal_separator=",", thousands_separator=" ") == amount
