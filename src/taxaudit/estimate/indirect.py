"""Indirect methods of determining income (IRM 4.10.4.6): bank deposits, net worth, percentage markup, and
source and application of funds.

Every method works on :class:`Item` rows (an id, a category, an amount or an opening/closing balance) that come
from a CSV of items or from the case store, and returns :class:`Computation` lines each listing the ids of the
items that make it up, so any figure in the result can be traced to its evidence.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from statistics import median
from typing import Any

from taxaudit.estimate.errors import EstimateError
from taxaudit.model.money import CENT, AmountError, parse_amount

RATIO = Decimal("0.0001")

CITATIONS = {
    "bank_deposits": ("IRM 4.10.4.6 (Bank Deposits and Cash Expenditures Method); IRM 9.5.9.7; "
                      "Gleckman v. United States, 80 F.2d 394 (8th Cir. 1935); United States v. Boulet, "
                      "577 F.2d 1165 (5th Cir. 1978)"),
    "net_worth": ("IRM 4.10.4.6 (Net Worth Method); IRM 9.5.9.5; Holland v. United States, 348 U.S. 121 (1954); "
                  "United States v. Massei, 355 U.S. 595 (1958)"),
    "markup": ("IRM 4.10.4.6 (Percentage Markup Method); IRM 9.5.9 (Percentage Markup); "
               "Bernstein v. Commissioner, 267 F.2d 879 (5th Cir. 1959)"),
    "source_application": ("IRM 4.10.4.6 (Source and Application of Funds Method); IRM 9.5.9.6 (Expenditures "
                           "Method); Taglianetti v. United States, 398 F.2d 558 (1st Cir. 1968)"),
}

CATEGORIES = {
    "bank_deposits": {"deposit", "transfer", "non_income", "cash_expenditure", "reported_receipts"},
    "net_worth": {"asset", "liability", "nondeductible", "nontaxable", "reported_income"},
    "markup": {"cost_of_sales", "reported_receipts"},
    "source_application": {"asset", "liability", "application", "source", "reported_income"},
}
BALANCE_CATEGORIES = {"asset", "liability"}


@dataclass(frozen=True)
class Item:
    """One input: a flow (``amount``) or, for assets and liabilities, an ``opening`` and ``closing`` balance."""

    item_id: str
    category: str
    description: str = ""
    amount: Decimal | None = None
    opening: Decimal | None = None
    closing: Decimal | None = None

    @property
    def change(self) -> Decimal:
        """Closing less opening balance (assets and liabilities)."""
        return (self.closing or Decimal(0)) - (self.opening or Decimal(0))


@dataclass(frozen=True)
class Line:
    """One line of a computation: its label, amount, and the ids of the items it is made of."""

    label: str
    amount: Decimal
    items: list[str]
    kind: str = "input"  # input | subtotal | result


@dataclass(frozen=True)
class Computation:
    """An indirect-method computation: its lines, the understatement it shows, and where it comes from."""

    method: str
    lines: list[Line]
    understatement: Decimal
    citation: str
    notes: list[str] = field(default_factory=list)
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)

    def line(self, label: str) -> Line:
        """Return the line called ``label``."""
        for line in self.lines:
            if line.label == label:
                return line
        raise KeyError(label)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _total(items: Iterable[Item], attribute: str = "amount") -> tuple[Decimal, list[str]]:
    chosen = list(items)
    return (sum((getattr(item, attribute) or Decimal(0) for item in chosen), Decimal("0.00")).quantize(CENT),
            [item.item_id for item in chosen])


def _check(items: Sequence[Item], method: str) -> list[Item]:
    allowed = CATEGORIES[method]
    seen: set[str] = set()
    for item in items:
        if item.category not in allowed:
            raise EstimateError(f"item category {item.category!r} is not used by the {method} method",
                                where=item.item_id, hint=f"use one of: {', '.join(sorted(allowed))}")
        if item.item_id in seen:
            raise EstimateError(f"item id {item.item_id!r} appears twice", where=item.item_id,
                                hint="every item needs its own id so each line can be traced to it")
        seen.add(item.item_id)
        if item.category in BALANCE_CATEGORIES:
            if item.opening is None or item.closing is None:
                raise EstimateError(f"{item.category} item needs an opening and a closing balance",
                                    where=item.item_id, hint="fill the opening and closing columns")
        elif item.amount is None:
            raise EstimateError(f"{item.category} item needs an amount", where=item.item_id,
                                hint="fill the amount column")
    return list(items)


def _inputs(items: Sequence[Item]) -> list[dict[str, Any]]:
    """Return the items as plain records, stored with the result so every line's ids resolve to their evidence."""
    return [asdict(item) for item in items]


def _of(items: Sequence[Item], category: str) -> list[Item]:
    return [item for item in items if item.category == category]


def bank_deposits(items: Sequence[Item]) -> Computation:
    """Return unreported receipts by the bank deposits and cash expenditures method (IRM 4.10.4.6).

    Total deposits, less transfers between accounts and other non-income deposits (loans, gifts, redeposits),
    give net taxable deposits; adding cash expenditures not paid out of deposits gives receipts; less the
    receipts reported, the remainder is the understatement.
    """
    items = _check(items, "bank_deposits")
    deposits, deposit_ids = _total(_of(items, "deposit"))
    transfers, transfer_ids = _total(_of(items, "transfer"))
    non_income, non_income_ids = _total(_of(items, "non_income"))
    cash, cash_ids = _total(_of(items, "cash_expenditure"))
    reported, reported_ids = _total(_of(items, "reported_receipts"))
    if not deposit_ids:
        raise EstimateError("no deposits given", hint="add items of category 'deposit'")
    if transfers + non_income > deposits:
        raise EstimateError("transfers and non-income items exceed total deposits",
                            hint="non-income items must be among the deposits; check the amounts")
    net = deposits - transfers - non_income
    receipts = net + cash
    understatement = receipts - reported
    lines = [
        Line("Total deposits", deposits, deposit_ids),
        Line("Less: transfers between accounts", -transfers, transfer_ids),
        Line("Less: non-income deposits (loans, gifts, redeposits)", -non_income, non_income_ids),
        Line("Net taxable deposits", net, deposit_ids + transfer_ids + non_income_ids, "subtotal"),
        Line("Add: cash expenditures not paid from deposits", cash, cash_ids),
        Line("Receipts per bank deposits", receipts, deposit_ids + transfer_ids + non_income_ids + cash_ids,
             "subtotal"),
        Line("Less: receipts reported", -reported, reported_ids),
        Line("Unreported receipts", understatement, [item.item_id for item in items], "result"),
    ]
    notes = [] if understatement >= 0 else ["deposits fall short of reported receipts: no understatement shown"]
    return Computation("bank_deposits", lines, understatement, CITATIONS["bank_deposits"], notes,
                       inputs=_inputs(items))


def net_worth(items: Sequence[Item]) -> Computation:
    """Return unreported income by the net worth method (IRM 4.10.4.6; Holland v. United States, 1954).

    The increase in net worth (assets less liabilities, closing against opening), plus nondeductible spending
    (living expenses, taxes paid, nondeductible losses), less nontaxable sources (gifts, inheritances, loans,
    exempt income), is corrected income; less the income reported, the remainder is the understatement.
    """
    items = _check(items, "net_worth")
    assets, liabilities = _of(items, "asset"), _of(items, "liability")
    opening_assets, asset_ids = _total(assets, "opening")
    closing_assets, _ = _total(assets, "closing")
    opening_liabilities, liability_ids = _total(liabilities, "opening")
    closing_liabilities, _ = _total(liabilities, "closing")
    if not asset_ids:
        raise EstimateError("no assets given", hint="add items of category 'asset' with opening and closing balances")
    opening_worth = opening_assets - opening_liabilities
    closing_worth = closing_assets - closing_liabilities
    increase = closing_worth - opening_worth
    nondeductible, nondeductible_ids = _total(_of(items, "nondeductible"))
    nontaxable, nontaxable_ids = _total(_of(items, "nontaxable"))
    reported, reported_ids = _total(_of(items, "reported_income"))
    corrected = increase + nondeductible - nontaxable
    understatement = corrected - reported
    balance_ids = asset_ids + liability_ids
    lines = [
        Line("Total assets, closing", closing_assets, asset_ids),
        Line("Less: total liabilities, closing", -closing_liabilities, liability_ids),
        Line("Net worth, closing", closing_worth, balance_ids, "subtotal"),
        Line("Total assets, opening", opening_assets, asset_ids),
        Line("Less: total liabilities, opening", -opening_liabilities, liability_ids),
        Line("Net worth, opening", opening_worth, balance_ids, "subtotal"),
        Line("Increase in net worth", increase, balance_ids, "subtotal"),
        Line("Add: nondeductible expenditures", nondeductible, nondeductible_ids),
        Line("Less: nontaxable sources", -nontaxable, nontaxable_ids),
        Line("Corrected income", corrected, balance_ids + nondeductible_ids + nontaxable_ids, "subtotal"),
        Line("Less: income reported", -reported, reported_ids),
        Line("Unreported income", understatement, [item.item_id for item in items], "result"),
    ]
    return Computation("net_worth", lines, understatement, CITATIONS["net_worth"], inputs=_inputs(items))


def source_application(items: Sequence[Item]) -> Computation:
    """Return unreported income by the source and application of funds method (IRM 4.10.4.6).

    Each asset's increase and each liability's decrease is an application of funds, an asset's decrease and a
    liability's increase a source (IRM 9.5.9.6: a bank balance falling from $4,500 to $150 is a $4,350 source);
    applications also include spending, sources nontaxable receipts. Applications in excess of sources are
    corrected income; less the income reported, the remainder is the understatement.
    """
    items = _check(items, "source_application")
    applications: list[tuple[Decimal, str]] = []
    sources: list[tuple[Decimal, str]] = []
    for item in items:
        if item.category == "asset":
            (applications if item.change > 0 else sources).append((abs(item.change), item.item_id))
        elif item.category == "liability":
            (sources if item.change > 0 else applications).append((abs(item.change), item.item_id))
        elif item.category == "application":
            applications.append((item.amount or Decimal(0), item.item_id))
        elif item.category == "source":
            sources.append((item.amount or Decimal(0), item.item_id))
    applied = sum((amount for amount, _ in applications), Decimal("0.00")).quantize(CENT)
    provided = sum((amount for amount, _ in sources), Decimal("0.00")).quantize(CENT)
    reported, reported_ids = _total(_of(items, "reported_income"))
    corrected = applied - provided
    understatement = corrected - reported
    lines = [Line("Applications of funds", applied, [item_id for _, item_id in applications])]
    lines.extend(Line(f"  application: {item_id}", amount.quantize(CENT), [item_id])
                 for amount, item_id in applications)
    lines.append(Line("Less: sources of funds (non-income)", -provided, [item_id for _, item_id in sources]))
    lines.extend(Line(f"  source: {item_id}", -amount.quantize(CENT), [item_id]) for amount, item_id in sources)
    lines.extend([
        Line("Corrected income", corrected, [item_id for _, item_id in applications + sources], "subtotal"),
        Line("Less: income reported", -reported, reported_ids),
        Line("Unreported income", understatement, [item.item_id for item in items], "result"),
    ])
    return Computation("source_application", lines, understatement, CITATIONS["source_application"],
                       inputs=_inputs(items))


def markup_from_margin(margin: Decimal) -> Decimal:
    """Return the markup on cost equal to a gross-profit margin on sales: m / (1 - m)."""
    margin = Decimal(margin)
    if not Decimal(0) <= margin < Decimal(1):
        raise EstimateError("a gross-profit margin must be between 0 and 1", hint="e.g. 0.40 for 40 %")
    return margin / (1 - margin)


def margin_from_markup(markup: Decimal) -> Decimal:
    """Return the gross-profit margin on sales equal to a markup on cost: k / (1 + k)."""
    markup = Decimal(markup)
    if markup < 0:
        raise EstimateError("a markup cannot be negative", hint="e.g. 0.665 for 66.5 %")
    return markup / (1 + markup)


def observed_markup(receipts: Decimal, cost_of_sales: Decimal) -> Decimal:
    """Return the markup on cost that receipts show over cost of sales: (receipts - cost) / cost.

    This is how a comparable's (or the taxpayer's own, adjusted) markup is measured before it is applied
    (IRM 4.10.4.6; e.g. Kudo v. Commissioner, T.C. Memo. (1998), n. 18).
    """
    cost = Decimal(cost_of_sales)
    if cost <= 0:
        raise EstimateError("cost of sales must be positive to measure a markup", hint="check the cost figure")
    return (Decimal(receipts) - cost) / cost


def markup(items: Sequence[Item], markups: Sequence[Decimal], *, sources: Sequence[str] = ()) -> Computation:
    """Return unreported receipts by the percentage markup method (IRM 4.10.4.6).

    Receipts = cost of sales x (1 + markup); the markup is the median of the comparables given (one value:
    that value), and the lowest and highest comparables give the sensitivity range.
    """
    items = _check(items, "markup")
    if not markups:
        raise EstimateError("no markup given", hint="give --markup 0.665 or several --comparable values")
    rates = [Decimal(rate) for rate in markups]
    if any(rate < 0 for rate in rates):
        raise EstimateError("a markup cannot be negative", hint="give markups on cost as fractions, e.g. 0.25")
    cost, cost_ids = _total(_of(items, "cost_of_sales"))
    if not cost_ids:
        raise EstimateError("no cost of sales given", hint="add items of category 'cost_of_sales' or --cost-of-sales")
    reported, reported_ids = _total(_of(items, "reported_receipts"))
    rate = Decimal(median(rates))
    basis = f"median of {len(rates)} comparables" if len(rates) > 1 else "given"
    rate_ids = list(sources) or [f"markup:{value}" for value in rates]
    gross_profit = (cost * rate).quantize(CENT, rounding=ROUND_HALF_EVEN)
    receipts = cost + gross_profit
    understatement = receipts - reported
    lines = [
        Line("Cost of sales", cost, cost_ids),
        Line(f"Markup on cost {rate} ({basis})", gross_profit, cost_ids + rate_ids),
        Line("Receipts per markup", receipts, cost_ids + rate_ids, "subtotal"),
        Line("Less: receipts reported", -reported, reported_ids),
        Line("Unreported receipts", understatement, [item.item_id for item in items] + rate_ids, "result"),
    ]
    scenarios = [{"name": f"markup {value}", "receipts": cost + (cost * value).quantize(CENT),
                  "understatement": cost + (cost * value).quantize(CENT) - reported} for value in (min(rates),
                                                                                                   max(rates))]
    notes = [f"gross-profit margin equivalent to the markup: {margin_from_markup(rate).quantize(RATIO)}"]
    inputs = _inputs(items) + [{"item_id": rate_id, "category": "markup", "description": "markup on cost",
                                "amount": None, "opening": None, "closing": None, "ratio": value}
                               for rate_id, value in zip(rate_ids, rates, strict=False)]
    return Computation("markup", lines, understatement, CITATIONS["markup"], notes, scenarios, inputs)


def load_items_csv(path: Path, *, decimal_separator: str = ".", thousands_separator: str = "") -> list[Item]:
    """Return the items of a CSV with columns item_id, category, description, amount, opening, closing.

    ``amount`` is used by flow categories, ``opening``/``closing`` by asset and liability rows; unused cells may
    be empty. Errors name the file and line.
    """
    if not path.is_file():
        raise EstimateError("items file not found", where=str(path), hint="give the path of a CSV of items")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EstimateError("items file is not UTF-8 text", where=str(path), hint="save the CSV as UTF-8") from exc
    reader = csv.DictReader(text.splitlines())
    required = {"item_id", "category"}
    if reader.fieldnames is None or not required <= set(reader.fieldnames):
        raise EstimateError("items CSV needs at least the columns item_id and category", where=f"{path}:1",
                            hint="header: item_id,category,description,amount,opening,closing")
    items: list[Item] = []
    for line_no, row in enumerate(reader, start=2):
        where = f"{path}:{line_no}"
        item_id = (row.get("item_id") or "").strip()
        category = (row.get("category") or "").strip()
        if not item_id or not category:
            raise EstimateError("item_id and category must not be empty", where=where, hint="fill both cells")
        values: dict[str, Decimal | None] = {}
        for column in ("amount", "opening", "closing"):
            cell = (row.get(column) or "").strip()
            try:
                values[column] = parse_amount(cell, decimal_separator=decimal_separator,
                                              thousands_separator=thousands_separator) if cell else None
            except AmountError as exc:
                raise EstimateError(f"bad {column}: {exc}", where=where, hint="write amounts like 1234.50") from exc
        items.append(Item(item_id, category, (row.get("description") or "").strip(), **values))
    if not items:
        raise EstimateError("items file has no rows", where=str(path), hint="add one row per item")
    return items


def bank_items_from_store(con: Any, bank_accounts: Sequence[str], start: date, end: date) -> list[Item]:
    """Return deposit items (debits to the bank accounts) from the case's journal, transfers identified.

    A debit to one of ``bank_accounts`` in an entry that also credits another of them is a transfer between
    accounts. Item ids are ``journal_lines/<source_id>/<entry_id>/<line_no>``.
    """
    if not bank_accounts:
        raise EstimateError("no bank accounts named", hint="give --bank-account ACCOUNT_ID (repeatable)")
    marks = ", ".join("?" for _ in bank_accounts)
    rows = con.execute(
        f"""
        SELECT l.source_id, l.entry_id, l.line_no, l.debit, coalesce(l.description, e.description, ''),
               EXISTS (SELECT 1 FROM journal_lines o WHERE o.source_id = l.source_id AND o.entry_id = l.entry_id
                       AND o.line_no <> l.line_no AND o.credit > 0 AND o.account_id IN ({marks})) AS is_transfer
        FROM journal_lines l JOIN journal_entries e USING (source_id, entry_id)
        WHERE l.account_id IN ({marks}) AND l.debit > 0 AND e.status <> 'deleted' AND e.status <> 'voided'
          AND e.posting_date BETWEEN ? AND ?
        ORDER BY e.posting_date, l.entry_id, l.line_no
        """,
        [*bank_accounts, *bank_accounts, start, end],
    ).fetchall()
    items: list[Item] = []
    for source_id, entry_id, line_no, debit, description, is_transfer in rows:
        item_id = f"journal_lines/{source_id}/{entry_id}/{line_no}"
        items.append(Item(item_id, "deposit", description, Decimal(debit)))
        if is_transfer:
            items.append(Item(f"{item_id}#transfer", "transfer", f"transfer between accounts: {description}",
                              Decimal(debit)))
    if not items:
        raise EstimateError(f"no deposits to accounts {', '.join(bank_accounts)} between {start} and {end}",
                            where="journal_lines", hint="check the account ids and the period")
    return items


def balance_items_from_store(con: Any, asset_accounts: Sequence[str], liability_accounts: Sequence[str]) -> list[Item]:
    """Return asset and liability items with opening and closing balances from the case's ``accounts`` table.

    Assets are debit less credit, liabilities credit less debit. Item ids are ``accounts/<source_id>/<account_id>``.
    """
    items: list[Item] = []
    for category, accounts, sign in (("asset", asset_accounts, 1), ("liability", liability_accounts, -1)):
        for account_id in accounts:
            rows = con.execute(
                "SELECT source_id, account_id, coalesce(name, ''),"
                " coalesce(opening_debit, 0) - coalesce(opening_credit, 0),"
                " coalesce(closing_debit, 0) - coalesce(closing_credit, 0) FROM accounts WHERE account_id = ?",
                [account_id]).fetchall()
            if not rows:
                raise EstimateError(f"account {account_id!r} is not in the case's accounts table", where="accounts",
                                    hint="list accounts with: taxaudit sql --case DIR \"SELECT * FROM accounts\"")
            for source_id, account, name, opening, closing in rows:
                items.append(Item(f"accounts/{source_id}/{account}", category, name,
                                  opening=Decimal(opening) * sign, closing=Decimal(closing) * sign))
    return items
