"""``taxaudit check``, ``taxaudit benford`` and ``taxaudit report``: books analytics over a case."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from taxaudit.checks import CheckOptions, run_checks
from taxaudit.checks.benford import MAD_BANDS, TESTS, benford_test
from taxaudit.checks.registry import CheckError
from taxaudit.cli._common import CaseOption, JsonOption, console, err_console, option_date, print_json
from taxaudit.store import open_case


@contextmanager
def _check_progress(enabled: bool) -> Iterator[Any]:
    """Yield a callback ``(check_id, done, total)`` drawing a Rich progress bar over the checks on stderr."""
    if not enabled:
        yield None
        return
    columns = (TextColumn("[bold]checking[/bold] {task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("", total=None)

        def update(check_id: str, done: int, total: int) -> None:
            progress.update(task, description=check_id, completed=done, total=total)

        yield update


@contextmanager
def _status(enabled: bool, what: str) -> Iterator[None]:
    """Show a Rich spinner on stderr while a single long step runs (nothing in --json mode)."""
    if not enabled:
        yield
        return
    with err_console.status(what):
        yield


def _parse_date(text: str | None) -> date | None:
    return option_date(text or None, "--closing-date", CheckError)


def check(
    case: CaseOption,
    only: Annotated[str | None, typer.Option("--only", help="Comma-separated check ids (default: all).")] = None,
    closing_date: Annotated[str | None, typer.Option(
        "--closing-date", help="Date the books were closed (YYYY-MM-DD); default: period end + grace days.")] = None,
    backdate_days: Annotated[int, typer.Option(
        "--backdate-days", help="Entry keyed more than this many days after its posting date is back-dated.")] = 30,
    as_json: JsonOption = False,
) -> None:
    """Run the registered checks; each run replaces that check's findings and is logged with its version."""
    options = CheckOptions(closing_date=_parse_date(closing_date), backdate_days=backdate_days)
    selected = [part.strip() for part in only.split(",") if part.strip()] if only else None
    with open_case(case) as opened, _check_progress(not as_json) as progress:
        runs = run_checks(opened, selected, options, progress)
    if as_json:
        print_json({
            "findings": [{"check_id": f.check_id, "severity": f.severity, "subject_key": f.subject_key,
                          "amount": f.amount, "message": f.message, "citation": f.citation}
                         for run in runs for f in run.findings],
            "summary": {run.check_id: len(run.findings) for run in runs},
        })
        return
    table = Table("check", "version", "findings", "amount", "seconds")
    for run in runs:
        amount = sum((f.amount for f in run.findings if f.amount is not None), Decimal(0))
        style = "bold red" if run.findings else ""
        table.add_row(run.check_id, run.version, f"[{style}]{len(run.findings)}[/{style}]" if style else "0",
                      f"{amount:,.2f}" if run.findings else "", f"{run.seconds:.2f}")
    console.print(table)
    console.print(f"{sum(len(r.findings) for r in runs)} findings stored. Report: taxaudit report --case {case} "
                  "--format html")


def benford(
    case: CaseOption,
    digits: Annotated[str, typer.Option("--digits", help="first | second | first-two")] = "first",
    as_json: JsonOption = False,
) -> None:
    """Print the Benford table (digit, observed, expected, Z) with MAD and Nigrini's conformity band."""
    if digits not in TESTS:
        raise CheckError(f"unknown --digits {digits!r}", hint=f"use one of: {', '.join(TESTS)}")
    with open_case(case, read_only=True) as opened, _status(not as_json, f"Benford {digits}-digit test"):
        result = benford_test(opened, digits)
    if as_json:
        print_json(result.to_dict())
        return
    table = Table("digit", "observed", "observed %", "expected %", "Z", title=f"Benford {digits}-digit test")
    for row in result.rows:
        z = f"[bold red]{row.z:.2f}[/bold red]" if row.z > 1.96 and row.observed_share > row.expected_share \
            else f"{row.z:.2f}"
        table.add_row(str(row.digit), f"{row.observed:,}", f"{row.observed_share * 100:.2f}",
                      f"{row.expected_share * 100:.2f}", z)
    console.print(table)
    bands = MAD_BANDS[digits]
    console.print(f"N = {result.count:,}; MAD = {result.mad:.5f}: [bold]{result.band}[/bold] (Nigrini: close ≤ "
                  f"{bands[0]}, acceptable ≤ {bands[1]}, marginal ≤ {bands[2]}); chi-square {result.chi_square:.1f}, "
                  f"p = {result.p_value:.3g}")


def report(
    case: CaseOption,
    format: Annotated[str, typer.Option("--format", help="html | xlsx")] = "html",
    out: Annotated[Path | None, typer.Option("--out", help="Output file (default: CASE/reports/books-report.*).")]
    = None,
    as_json: JsonOption = False,
) -> None:
    """Write the books report: self-contained HTML to e-mail, or an XLSX workbook with a sheet per check."""
    from taxaudit.report.books import write_books_html, write_books_xlsx
    from taxaudit.store.case import sha256_file

    if format not in {"html", "xlsx"}:
        raise CheckError(f"unknown report format {format!r}", hint="use --format html or --format xlsx")
    with open_case(case) as opened, _status(not as_json, f"writing the {format} report"):
        path = write_books_html(opened, out) if format == "html" else write_books_xlsx(opened, out)
    if as_json:
        print_json({"path": path, "format": format, "sha256": sha256_file(path), "size_bytes": path.stat().st_size,
                    "written_at": datetime.now().isoformat(timespec="seconds")})
        return
    console.print(f"Wrote {path} ({path.stat().st_size:,} bytes).")


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("benford")(benford)
    app.command("report")(report)
