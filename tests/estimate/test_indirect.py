"""Indirect methods (IRM 4.10.4.6) with worked figures from public IRS material and Tax Court opinions.

Sources (public):
- IRM 9.5.9.6.x (Expenditures method, statement steps, 11-05-2004): "if the beginning and ending bank balances
  for a taxable year were $4,500 and $150, respectively, it would be determined that this asset has decreased
  by $4,350" - a source of funds.
- Bundridge v. Commissioner, T.C. Memo. (1998), p. 13 (law.onecle.com/tax/1998/bundridge.tcm.wpd13.html):
  cost of goods sold $29,236 and a markup of 66.5 percent: gross receipts of $48,677 asserted for 1992.
- Robert A. & Gerri M. Smith v. Commissioner, T.C. Memo. (1998), p. 6: an item costing $100 that sells for $118
  has an 18-percent markup and a 15-percent gross profit; a 40-percent gross profit equals a 67-percent markup.
- Kudo v. Commissioner, T.C. Memo. (1998), n. 18: adjusted gross receipts and adjusted cost of goods sold of
  three restaurants, 1988-1991, from which markups are measured (below the 225-percent top range).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxaudit.estimate import indirect
from taxaudit.estimate.errors import EstimateError
from taxaudit.estimate.indirect import Item

D = Decimal


def test_irm_bank_balance_decrease_is_a_source_of_funds() -> None:
    items = [Item("bank", "asset", "checking account", opening=D("4500"), closing=D("150"))]
    result = indirect.source_application(items)
    assert result.line("  source: bank").amount == D("-4350.00")
    assert result.line("Less: sources of funds (non-income)").amount == D("-4350.00")


def test_bundridge_markup_66_5_percent_on_29236() -> None:
    items = [Item("cogs-1992", "cost_of_sales", "agreed purchases 1992", D("29236"))]
    result = indirect.markup(items, [D("0.665")])
    receipts = result.line("Receipts per markup").amount
    assert receipts == D("48677.94")
    assert receipts.quantize(D("1"), rounding="ROUND_DOWN") == D("48677")  # the opinion's $48,677
    assert result.line("Receipts per markup").items == ["cogs-1992", "markup:0.665"]


def test_smith_markup_and_gross_profit_conversions() -> None:
    assert indirect.observed_markup(D("118"), D("100")) == D("0.18")
    assert indirect.margin_from_markup(D("0.18")).quantize(D("0.01")) == D("0.15")
    assert indirect.markup_from_margin(D("0.15")).quantize(D("0.01")) == D("0.18")
    assert indirect.markup_from_margin(D("0.40")).quantize(D("0.01")) == D("0.67")


@pytest.mark.parametrize(
    ("year", "receipts", "unreported", "adjusted_receipts", "cogs", "adjustment", "adjusted_cogs"),
    [
        (1988, "1286571", "90900", "1377471", "467757", "-3000", "464757"),
        (1989, "997067", "78675", "1075742", "357634", "-3100", "354534"),
        (1990, "810958", "35400", "846358", "279183", "6000", "285183"),
        (1991, "740860", "7800", "748660", "249129", "0", "249129"),
    ],
)
def test_kudo_adjusted_markups_fall_below_225_percent(year: int, receipts: str, unreported: str,
                                                      adjusted_receipts: str, cogs: str, adjustment: str,
                                                      adjusted_cogs: str) -> None:
    assert D(receipts) + D(unreported) == D(adjusted_receipts)
    assert D(cogs) + D(adjustment) == D(adjusted_cogs)
    rate = indirect.observed_markup(D(adjusted_receipts), D(adjusted_cogs))
    assert rate < D("2.25")
    # Rebuilding receipts from the adjusted cost with that markup gives the adjusted receipts back.
    rebuilt = indirect.markup([Item(f"cogs-{year}", "cost_of_sales", "", D(adjusted_cogs))], [rate])
    assert rebuilt.line("Receipts per markup").amount == D(adjusted_receipts)


def test_markup_from_comparables_uses_median_and_reports_range() -> None:
    items = [Item("c", "cost_of_sales", "", D("100000")), Item("r", "reported_receipts", "", D("120000"))]
    result = indirect.markup(items, [D("0.20"), D("0.35"), D("0.25")])
    assert result.line("Receipts per markup").amount == D("125000.00")
    assert result.understatement == D("5000.00")
    assert [s["understatement"] for s in result.scenarios] == [D("0.00"), D("15000.00")]


def test_bank_deposits_lines_trace_to_items() -> None:
    items = [
        Item("dep-1", "deposit", "", D("12000")), Item("dep-2", "deposit", "", D("5000")),
        Item("dep-3", "deposit", "", D("8000")), Item("dep-2-transfer", "transfer", "", D("5000")),
        Item("dep-3-loan", "non_income", "bank loan", D("8000")), Item("cash-1", "cash_expenditure", "", D("2500")),
        Item("return", "reported_receipts", "", D("10000")),
    ]
    result = indirect.bank_deposits(items)
    assert result.line("Total deposits").amount == D("25000.00")
    assert result.line("Net taxable deposits").amount == D("12000.00")
    assert result.line("Receipts per bank deposits").amount == D("14500.00")
    assert result.understatement == D("4500.00")
    assert result.line("Less: transfers between accounts").items == ["dep-2-transfer"]
    assert result.line("Add: cash expenditures not paid from deposits").items == ["cash-1"]


def test_net_worth_holland_formula() -> None:
    """Holland v. United States, 348 U.S. 121, 125: increase in net worth + nondeductible - nontaxable."""
    items = [
        Item("bank", "asset", "", opening=D("4500"), closing=D("150")),
        Item("house", "asset", "", opening=D("100000"), closing=D("160000")),
        Item("mortgage", "liability", "", opening=D("80000"), closing=D("90000")),
        Item("living", "nondeductible", "personal living expenses", D("30000")),
        Item("gift", "nontaxable", "gift from parent", D("10000")),
        Item("w2", "reported_income", "", D("40000")),
    ]
    result = indirect.net_worth(items)
    assert result.line("Net worth, opening").amount == D("24500.00")
    assert result.line("Net worth, closing").amount == D("70150.00")
    assert result.line("Increase in net worth").amount == D("45650.00")
    assert result.line("Corrected income").amount == D("65650.00")
    assert result.understatement == D("25650.00")
    # The same facts through source and application of funds give the same corrected income.
    applied = [Item("living", "application", "", D("30000")), Item("gift", "source", "", D("10000"))]
    balances = [item for item in items if item.category in ("asset", "liability")]
    same = indirect.source_application(balances + applied + [Item("w2", "reported_income", "", D("40000"))])
    assert same.understatement == result.understatement


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["asset", "liability"]), st.integers(0, 10**9), st.integers(0, 10**9)),
                min_size=1, max_size=8),
       st.integers(0, 10**8), st.integers(0, 10**8))
def test_net_worth_equals_source_and_application(balances: list, spend: int, gifts: int) -> None:
    items = [Item(f"b{i}", kind, "", opening=D(a) / 100, closing=D(b) / 100) for i, (kind, a, b) in enumerate(balances)]
    if not any(item.category == "asset" for item in items):
        items.append(Item("cash", "asset", "", opening=D(0), closing=D(0)))
    worth = indirect.net_worth([*items, Item("n", "nondeductible", "", D(spend) / 100),
                                Item("t", "nontaxable", "", D(gifts) / 100)])
    funds = indirect.source_application([*items, Item("n", "application", "", D(spend) / 100),
                                         Item("t", "source", "", D(gifts) / 100)])
    assert worth.understatement == funds.understatement


@pytest.mark.parametrize(
    ("method", "items", "message"),
    [
        ("bank_deposits", [Item("x", "asset", "", opening=D(1), closing=D(1))], "not used"),
        ("bank_deposits", [Item("x", "reported_receipts", "", D(1))], "no deposits"),
        ("bank_deposits", [Item("d", "deposit", "", D(1)), Item("t", "transfer", "", D(2))], "exceed"),
        ("bank_deposits", [Item("d", "deposit", "", D(1)), Item("d", "deposit", "", D(1))], "twice"),
        ("bank_deposits", [Item("d", "deposit", "")], "needs an amount"),
        ("net_worth", [Item("a", "asset", "", opening=D(1))], "opening and a closing"),
        ("net_worth", [Item("n", "nondeductible", "", D(1))], "no assets"),
    ],
)
def test_bad_items_are_refused(method: str, items: list, message: str) -> None:
    with pytest.raises(EstimateError, match=message):
        getattr(indirect, method)(items)


def test_markup_bad_inputs() -> None:
    cost = [Item("c", "cost_of_sales", "", D(100))]
    with pytest.raises(EstimateError, match="no markup"):
        indirect.markup(cost, [])
    with pytest.raises(EstimateError, match="negative"):
        indirect.markup(cost, [D("-0.1")])
    with pytest.raises(EstimateError, match="no cost of sales"):
        indirect.markup([], [D("0.1")])
    with pytest.raises(EstimateError):
        indirect.markup_from_margin(D("1"))
    with pytest.raises(EstimateError):
        indirect.observed_markup(D("1"), D("0"))


def test_items_csv_round_trip_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "items.csv"
    good.write_text("item_id,category,description,amount,opening,closing\n"
                    "b1,asset,Bank,,4500.00,150.00\nliv,nondeductible,Living,30000,,\n", encoding="utf-8")
    items = indirect.load_items_csv(good)
    assert items[0].opening == D("4500.00") and items[1].amount == D("30000.00")
    bad_amount = tmp_path / "bad.csv"
    bad_amount.write_text("item_id,category,amount\nx,deposit,12abc\n", encoding="utf-8")
    with pytest.raises(EstimateError) as error:
        indirect.load_items_csv(bad_amount)
    assert error.value.where == f"{bad_amount}:2"
    for name, text, message in [
        ("noheader.csv", "id,kind\n1,deposit\n", "columns"),
        ("empty.csv", "item_id,category,amount\n", "no rows"),
        ("blank.csv", "item_id,category,amount\n,deposit,1\n", "must not be empty"),
    ]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(EstimateError, match=message):
            indirect.load_items_csv(path)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("item_id,category,description,amount\nx,deposit,Kjøp,1\n".encode("latin-1"))
    with pytest.raises(EstimateError, match="UTF-8"):
        indirect.load_items_csv(latin)
    with pytest.raises(EstimateError, match="not found"):
        indirect.load_items_csv(tmp_path / "absent.csv")


def test_bank_deposits_from_the_case_store(books_case) -> None:
    from datetime import date

    items = indirect.bank_items_from_store(books_case.con, ["1920", "1930"], date(2024, 1, 1), date(2024, 12, 31))
    result = indirect.bank_deposits([*items, Item("loan", "non_income", "bank loan E3", D("8000"))])
    assert result.line("Total deposits").amount == D("28000.00")
    assert result.line("Less: transfers between accounts").items == ["journal_lines/S1/E2/1#transfer"]
    assert result.line("Net taxable deposits").amount == D("15000.00")
    assert "journal_lines/S1/E1/1" in result.line("Total deposits").items
    with pytest.raises(EstimateError, match="no deposits"):
        indirect.bank_items_from_store(books_case.con, ["9999"], date(2024, 1, 1), date(2024, 12, 31))


def test_net_worth_from_the_case_store(books_case) -> None:
    items = indirect.balance_items_from_store(books_case.con, ["1920", "1930", "1200"], ["2350"])
    result = indirect.net_worth(items)
    assert result.line("Net worth, opening").amount == D("5500.00")
    assert result.line("Net worth, closing").amount == D("21150.00")
    assert result.line("Increase in net worth").items == ["accounts/S1/1920", "accounts/S1/1930",
                                                          "accounts/S1/1200", "accounts/S1/2350"]
    with pytest.raises(EstimateError, match="not in the case"):
        indirect.balance_items_from_store(books_case.con, ["0000"], [])
