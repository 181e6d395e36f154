"""``taxaudit estimate extrapolate|bank-deposits|net-worth|markup|source-application|reject-books|document`` and
``taxaudit method-change 481a|timing|gross-receipts``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from taxaudit.cli._common import CaseOption, JsonOption, console, err_console, option_date, print_json
from taxaudit.estimate import indirect
from taxaudit.estimate.best_judgment import BASES, extrapolate
from taxaudit.estimate.document import issue_document
from taxaudit.estimate.errors import EstimateError
from taxaudit.estimate.method_change import (
    component,
    filing_timeliness,
    gross_receipts_test,
    section_481a_adjustment,
    spread_adjustment,
)
from taxaudit.estimate.records import reject_books, require_books_rejected, save_estimate
from taxaudit.estimate.turnover import recorded_turnover
from taxaudit.model.money import AmountError, parse_amount
from taxaudit.store import open_case

estimate_app = typer.Typer(help="Estimate income when the books fail: best judgment and indirect methods.",
                           no_args_is_help=True)
method_app = typer.Typer(help="Section 481(a) adjustments and Form 3115 timing.", no_args_is_help=True)

OptionalCase = Annotated[Path | None, typer.Option("--case", help="The case directory (the estimate is stored and "
                                                                  "logged in its custody chain).", file_okay=False)]
ItemsOption = Annotated[Path | None, typer.Option("--items", help="CSV: item_id,category,description,amount,opening,"
                                                                  "closing", dir_okay=False)]
ReportedOption = Annotated[str | None, typer.Option("--reported", help="Amount reported on the return.")]


def amount(text: str, what: str) -> Decimal:
    """Parse a CLI amount (``,`` as thousands separator, so 2,50,000 and 250,000.00 both work)."""
    try:
        return parse_amount(text, thousands_separator=",")
    except AmountError as exc:
        raise EstimateError(f"bad amount for {what}: {exc}", where=what, hint="write e.g. 250000 or 31171.28") from exc


def ratio(text: str, what: str) -> Decimal:
    """Parse a CLI fraction such as 0.665."""
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise EstimateError(f"bad number for {what}: {text!r}", where=what, hint="write e.g. 0.25") from exc
    if not value.is_finite():
        raise EstimateError(f"bad number for {what}: {text!r}", where=what, hint="write e.g. 0.25")
    return value


def day(text: str, what: str) -> date:
    """Parse an ISO date given on the command line."""
    parsed = option_date(text, what, EstimateError)
    assert parsed is not None  # a required option: Typer gives a string
    return parsed


@contextmanager
def _busy(as_json: bool, text: str) -> Iterator[None]:
    if as_json:
        yield
        return
    with err_console.status(text):
        yield


def _record(case_dir: Path | None, method: str, result: dict[str, Any], total: Decimal | None) -> dict[str, Any]:
    if case_dir is None:
        return result
    with open_case(case_dir) as case:
        estimate_id, sha = save_estimate(case, method, result, total)
    return {"estimate_id": estimate_id, "sha256": sha, **result}


def _print_lines(title: str, lines: list[dict[str, Any]], extra: list[str]) -> None:
    table = Table("line", "amount", "items", title=title)
    table.columns[1].justify = "right"
    for line in lines:
        items = line.get("items", [])
        shown = ", ".join(items) if len(items) <= 4 else f"{len(items)} items"
        style = "bold" if line.get("kind") in ("subtotal", "result") else None
        value = line["amount"] if line.get("amount") is not None else line.get("value", "")
        table.add_row(line["label"], str(value), shown, style=style)
    console.print(table)
    for text in extra:
        console.print(text)


@estimate_app.command("reject-books")
def reject_books_command(
    case: CaseOption,
    reason: Annotated[str, typer.Option(help="Why the books are unreliable (the facts found).")],
    authority: Annotated[str, typer.Option(help="The legal provision allowing a best-judgment assessment.")],
    period_start: Annotated[str | None, typer.Option(help="First day of the period the rejection covers.")] = None,
    period_end: Annotated[str | None, typer.Option(help="Last day of the period the rejection covers.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Record that the books are rejected (the precondition of a best-judgment estimate); logged in custody."""
    start = day(period_start, "--period-start") if period_start else None
    end = day(period_end, "--period-end") if period_end else None
    with open_case(case) as opened:
        rejection = reject_books(opened, reason, authority, period_start=start, period_end=end)
    if as_json:
        print_json(rejection.to_dict())
    else:
        console.print(f"Recorded rejection [bold]{rejection.rejection_id}[/bold] of the books ({authority}).")


@estimate_app.command("extrapolate")
def extrapolate_command(
    case: CaseOption,
    observed: Annotated[str, typer.Option(help="Suppressed amount found in the test window.")],
    window_start: Annotated[str, typer.Option(help="First day of the test window (YYYY-MM-DD).")],
    window_end: Annotated[str, typer.Option(help="Last day of the test window.")],
    period_start: Annotated[str, typer.Option(help="First day of the assessment period.")],
    period_end: Annotated[str, typer.Option(help="Last day of the assessment period.")],
    basis: Annotated[str, typer.Option(help=f"One of {', '.join(BASES)}.")] = "calendar_days",
    window_turnover: Annotated[str | None, typer.Option(help="Recorded turnover in the window.")] = None,
    period_turnover: Annotated[str | None, typer.Option(help="Recorded turnover in the period.")] = None,
    revenue_account: Annotated[list[str] | None, typer.Option(help="Revenue account whose recorded turnover in "
                                                                   "window and period gives the turnover ratio "
                                                                   "(repeatable).")] = None,
    weekend: Annotated[list[int] | None, typer.Option(help="Weekly rest day, Monday=0 .. Sunday=6 (repeatable); "
                                                           "overrides the country's weekend.")] = None,
    seasonality: Annotated[str | None, typer.Option(help="Seasonality allowance, e.g. 0.20 for +/-20 %.")] = None,
    daily: Annotated[Path | None, typer.Option(help="File with one suppressed amount per window day (sample).",
                                               dir_okay=False)] = None,
    confidence: Annotated[str, typer.Option(help="Confidence of the band for a sampled window.")] = "0.90",
    assessed: Annotated[list[str] | None, typer.Option(help="LABEL=AMOUNT assessed, to compare (repeatable).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Extrapolate suppression from a test window to the assessment period (refuses unless the books were rejected)."""
    window = (day(window_start, "--window-start"), day(window_end, "--window-end"))
    period = (day(period_start, "--period-start"), day(period_end, "--period-end"))
    comparisons = []
    for text in assessed or []:
        label, sep, value = text.partition("=")
        if not sep or not label.strip():
            raise EstimateError(f"--assessed needs LABEL=AMOUNT, got {text!r}", hint="e.g. --assessed state=250000")
        comparisons.append((label.strip(), amount(value, f"--assessed {label}")))
    daily_values = None
    if daily is not None:
        if not daily.is_file():
            raise EstimateError("daily observations file not found", where=str(daily), hint="check the path")
        lines = [line.strip() for line in daily.read_text(encoding="utf-8").splitlines() if line.strip()]
        daily_values = [amount(line, f"{daily}:{index}") for index, line in enumerate(lines, start=1)]
    turnovers = (amount(window_turnover, "--window-turnover") if window_turnover else None,
                 amount(period_turnover, "--period-turnover") if period_turnover else None)
    if weekend and any(not 0 <= number <= 6 for number in weekend):
        raise EstimateError("--weekend takes weekday numbers 0 (Monday) to 6 (Sunday)", hint="e.g. --weekend 6")
    with open_case(case) as opened:
        rejection = require_books_rejected(opened, *period)
        country = opened.country()
        if revenue_account:
            turnovers = (recorded_turnover(opened.con, revenue_account, *window),
                         recorded_turnover(opened.con, revenue_account, *period))
        result = extrapolate(
            amount(observed, "--observed"), window, period, basis=basis, country=country,
            weekend=frozenset(weekend) if weekend else None,
            window_turnover=turnovers[0], period_turnover=turnovers[1],
            seasonality=ratio(seasonality, "--seasonality") if seasonality else None,
            daily_observations=daily_values, confidence=ratio(confidence, "--confidence"), assessed=comparisons,
        )
        data = {**result.to_dict(), "book_rejection": rejection.rejection_id}
        estimate_id, sha = save_estimate(opened, "extrapolation", data, result.central)
    if as_json:
        print_json({"estimate_id": estimate_id, "sha256": sha, **data})
        return
    table = Table("scenario", "amount", "note", title=f"Extrapolation {estimate_id} ({basis})")
    table.columns[1].justify = "right"
    for scenario in result.scenarios:
        table.add_row(scenario.name, str(scenario.amount), scenario.note)
    console.print(table)
    console.print(f"Central estimate for {period[0]}..{period[1]}: [bold]{result.central}[/bold] "
                  f"(range {result.low} .. {result.high}); beyond the window: {result.beyond_window}")
    for comparison in result.comparisons:
        console.print(comparison.statement)


def _items(items_csv: Path | None, extra: list[indirect.Item]) -> list[indirect.Item]:
    items = indirect.load_items_csv(items_csv) if items_csv else []
    return items + extra


def _reported(reported: str | None, category: str) -> list[indirect.Item]:
    if reported is None:
        return []
    return [indirect.Item("cli:reported", category, "amount reported (command line)", amount(reported, "--reported"))]


def _run_indirect(case_dir: Path | None, computation: indirect.Computation, as_json: bool) -> None:
    data = _record(case_dir, computation.method, computation.to_dict(), computation.understatement)
    if as_json:
        print_json(data)
        return
    title = indirect.CITATIONS[computation.method].split(";")[0]
    _print_lines(f"{computation.method.replace('_', ' ')} - {title}", data["lines"], computation.notes)
    if "estimate_id" in data:
        console.print(f"Stored as estimate [bold]{data['estimate_id']}[/bold].")


@estimate_app.command("bank-deposits")
def bank_deposits_command(
    case: OptionalCase = None,
    items: ItemsOption = None,
    bank_account: Annotated[list[str] | None, typer.Option(help="Bank account id in the case (repeatable).")] = None,
    period_start: Annotated[str | None, typer.Option(help="First posting date for deposits from the case.")] = None,
    period_end: Annotated[str | None, typer.Option(help="Last posting date for deposits from the case.")] = None,
    reported: ReportedOption = None,
    as_json: JsonOption = False,
) -> None:
    """Bank deposits and cash expenditures method (IRM 4.10.4.6); each line lists its evidence items."""
    extra = _reported(reported, "reported_receipts")
    if bank_account:
        if case is None or not period_start or not period_end:
            raise EstimateError("deposits from the case need --case, --period-start and --period-end",
                                hint="or give a CSV of items with --items")
        with open_case(case, read_only=True) as opened:
            extra += indirect.bank_items_from_store(opened.con, bank_account, day(period_start, "--period-start"),
                                                    day(period_end, "--period-end"))
    _run_indirect(case, indirect.bank_deposits(_items(items, extra)), as_json)


AssetOption = Annotated[list[str] | None, typer.Option(help="Asset account id in the case (repeatable).")]
LiabilityOption = Annotated[list[str] | None, typer.Option(help="Liability account id in the case (repeatable).")]


def _balance_method(method: Callable[[list[indirect.Item]], indirect.Computation], case: Path | None,
                    items: Path | None, assets: list[str] | None, liabilities: list[str] | None,
                    reported: str | None, as_json: bool) -> None:
    extra = _reported(reported, "reported_income")
    if assets or liabilities:
        if case is None:
            raise EstimateError("balances from the case need --case", hint="or give a CSV of items with --items")
        with open_case(case, read_only=True) as opened:
            extra += indirect.balance_items_from_store(opened.con, assets or [], liabilities or [])
    _run_indirect(case, method(_items(items, extra)), as_json)


@estimate_app.command("net-worth")
def net_worth_command(case: OptionalCase = None, items: ItemsOption = None, asset_account: AssetOption = None,
                      liability_account: LiabilityOption = None, reported: ReportedOption = None,
                      as_json: JsonOption = False) -> None:
    """Net worth method (IRM 4.10.4.6): increase in net worth + nondeductible - nontaxable - reported."""
    _balance_method(indirect.net_worth, case, items, asset_account, liability_account, reported, as_json)


@estimate_app.command("source-application")
def source_application_command(case: OptionalCase = None, items: ItemsOption = None,
                               asset_account: AssetOption = None, liability_account: LiabilityOption = None,
                               reported: ReportedOption = None, as_json: JsonOption = False) -> None:
    """Source and application of funds method (IRM 4.10.4.6): applications - non-income sources - reported."""
    _balance_method(indirect.source_application, case, items, asset_account, liability_account, reported, as_json)


@estimate_app.command("markup")
def markup_command(
    case: OptionalCase = None,
    items: ItemsOption = None,
    cost_of_sales: Annotated[str | None, typer.Option(help="Cost of sales (instead of, or added to, --items).")] = None,
    markup: Annotated[str | None, typer.Option(help="Markup on cost, e.g. 0.665.")] = None,
    comparable: Annotated[list[str] | None, typer.Option(help="Markup of a comparable (repeatable; median used).")]
    = None,
    gross_margin: Annotated[list[str] | None, typer.Option(help="Gross-profit margin of a comparable (repeatable).")]
    = None,
    reported: ReportedOption = None,
    as_json: JsonOption = False,
) -> None:
    """Percentage markup method (IRM 4.10.4.6): cost of sales x (1 + markup from comparables) - reported."""
    extra = _reported(reported, "reported_receipts")
    if cost_of_sales:
        extra.append(indirect.Item("cli:cost_of_sales", "cost_of_sales", "cost of sales (command line)",
                                   amount(cost_of_sales, "--cost-of-sales")))
    rates = [ratio(markup, "--markup")] if markup else []
    rates += [ratio(text, "--comparable") for text in comparable or []]
    rates += [indirect.markup_from_margin(ratio(text, "--gross-margin")) for text in gross_margin or []]
    _run_indirect(case, indirect.markup(_items(items, extra), rates), as_json)


@estimate_app.command("document")
def document_command(
    case: CaseOption,
    estimate: Annotated[str, typer.Option(help="The estimate id (printed when the estimate was made).")],
    nexus: Annotated[str, typer.Option(help="The examiner's statement of nexus between basis and facts.")],
    examiner: Annotated[str | None, typer.Option(help="Name of the examiner signing.")] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write the PDF.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Write the basis-of-estimate document (HTML and PDF) and log it in the custody chain."""
    with _busy(as_json, "writing the basis-of-estimate document"), open_case(case) as opened:
        written = issue_document(opened, estimate, nexus, examiner=examiner, pdf=pdf)
    if as_json:
        print_json({"documents": [doc.to_dict() for doc in written]})
        return
    for doc in written:
        console.print(f"Wrote {doc.path} (sha256 {doc.sha256[:16]}…)")


@method_app.command("481a")
def section_481a_command(
    year_of_change: Annotated[int, typer.Option(help="The tax year of change.")],
    accrued_income: Annotated[str | None, typer.Option(help="Accrued income not yet reported.")] = None,
    uncollectible: Annotated[str | None, typer.Option(help="Uncollectible amount (nonaccrual-experience).")] = None,
    accrued_expenses: Annotated[str | None, typer.Option(help="Accrued expenses properly deductible.")] = None,
    recurring_items: Annotated[str | None, typer.Option(help="Expenses deducted as recurring items.")] = None,
    item: Annotated[list[str] | None, typer.Option("--component", help="NAME=SIGNED_AMOUNT for any other "
                                                                       "component (repeatable).")] = None,
    tax_year_start: Annotated[str | None, typer.Option(help="First day of a fiscal year of change.")] = None,
    under_examination: Annotated[bool, typer.Option(help="The taxpayer is under examination.")] = False,
    elect_de_minimis: Annotated[bool, typer.Option(help="Elect the one-year period for a small positive "
                                                        "adjustment.")] = False,
    case: OptionalCase = None,
    as_json: JsonOption = False,
) -> None:
    """Compute the section 481(a) adjustment and its spread under the rules in force for the year of change."""
    given = {"accrued_income": accrued_income, "uncollectible": uncollectible,
             "accrued_expenses": accrued_expenses, "recurring_items": recurring_items}
    parts = [component(name, amount(value, f"--{name.replace('_', '-')}")) for name, value in given.items()
             if value is not None]
    for text in item or []:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise EstimateError(f"--component needs NAME=AMOUNT, got {text!r}", hint="e.g. --component prepaid=-1200")
        name = name.strip()
        parts.append(component(name, amount(value, f"--component {name}")))
    adjustment = section_481a_adjustment(parts)
    spread = spread_adjustment(adjustment.amount, year_of_change,
                               tax_year_start=day(tax_year_start, "--tax-year-start") if tax_year_start else None,
                               under_examination=under_examination, elect_de_minimis=elect_de_minimis)
    data = {**spread.to_dict(), "adjustment": adjustment.amount, "steps": adjustment.to_dict()["steps"]}
    data = _record(case, "section_481a", data, adjustment.amount)
    if as_json:
        print_json(data)
        return
    _print_lines("Section 481(a) adjustment", [{**step, "items": []} for step in data["steps"]], [])
    console.print(f"Adjustment [bold]{adjustment.amount}[/bold] over {spread.period_years} year(s) ({spread.reason}): "
                  + ", ".join(f"{part.year}: {part.amount}" for part in spread.years))
    console.print(f"Citation: {spread.citation}")


@method_app.command("timing")
def timing_command(
    year_of_change: Annotated[int, typer.Option(help="The tax year of change.")],
    filed: Annotated[str, typer.Option(help="Date the Form 3115 was filed (YYYY-MM-DD).")],
    automatic: Annotated[bool, typer.Option(help="An automatic change (else non-automatic).")] = False,
    tax_year_start: Annotated[str | None, typer.Option(help="First day of a fiscal year of change.")] = None,
    return_due: Annotated[str | None, typer.Option(help="Unextended due date of the return.")] = None,
    extended_due: Annotated[str | None, typer.Option(help="Extended due date of the return, if extended.")] = None,
    return_filed: Annotated[str | None, typer.Option(help="Date the return was filed.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Say whether a Form 3115 was filed timely, late but within relief, or late, with the citation."""
    result = filing_timeliness(
        year_of_change, day(filed, "--filed"), automatic=automatic,
        tax_year_start=day(tax_year_start, "--tax-year-start") if tax_year_start else None,
        return_due=day(return_due, "--return-due") if return_due else None,
        extended_due=day(extended_due, "--extended-due") if extended_due else None,
        return_filed=day(return_filed, "--return-filed") if return_filed else None,
    )
    if as_json:
        print_json(result.to_dict())
        return
    colour = {"timely": "green", "late_within_relief": "yellow", "late": "red"}[result.status]
    console.print(f"[{colour}]{result.status.upper()}[/{colour}]: {result.explanation}")
    console.print(f"Citation: {result.citation}")
    for note in result.notes:
        console.print(f"Note: {note}")


@method_app.command("gross-receipts")
def gross_receipts_command(
    tax_year: Annotated[int, typer.Option(help="The tax year tested (calendar year it begins in).")],
    receipts: Annotated[list[str], typer.Option(help="Gross receipts of a prior year, oldest first (up to 3).")],
    tax_year_start: Annotated[str | None, typer.Option(help="First day of a fiscal tax year.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Apply the section 448(c) gross-receipts test with the threshold in force for the tax year."""
    start = day(tax_year_start, "--tax-year-start") if tax_year_start else date(tax_year, 1, 1)
    result = gross_receipts_test(start, [amount(text, "--receipts") for text in receipts])
    if as_json:
        print_json(result.to_dict())
        return
    verdict = "meets" if result.meets else "does not meet"
    console.print(f"Average {result.average} {verdict} the threshold {result.threshold} ({result.citation}).")


def register(app: typer.Typer) -> None:
    app.add_typer(estimate_app, name="estimate")
    app.add_typer(method_app, name="method-change")

