"""``taxaudit demo``: the whole pipeline on a synthetic company, in a fresh case directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taxaudit.cli._common import JsonOption, byte_progress, console, print_json
from taxaudit.demo import run_demo


def demo(
    case: Annotated[Path, typer.Option("--case", help="Directory for the demo case (replaced if an earlier demo).")]
    = Path("demo-case"),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic company; the same seed gives the same books.")]
    = 42,
    as_json: JsonOption = False,
) -> None:
    """Generate a synthetic company's year of books as SAF-T, ingest it into a case and summarise."""
    with byte_progress(not as_json) as progress:
        summary = run_demo(case, seed, progress)
    if as_json:
        print_json(summary)
        return
    ingest = summary["ingest"]
    console.print(f"[bold]{summary['company']}[/bold] (org. no. {summary['org_number']}), seed {seed}")
    console.print(f"SAF-T {ingest['format_version']} ingested: {ingest['entries']:,} entries, "
                  f"{ingest['lines']:,} lines, "
                  f"debit {ingest['total_debit']}, credit {ingest['total_credit']}; "
                  f"{ingest['rows_quarantined']} rows quarantined")
    trail = summary.get("audit_trail")
    if trail:
        console.print(f"QuickBooks Audit Trail export ingested: {trail['entries']} altered entries, "
                      f"{trail['rows_read']} rows")
    checks = summary.get("checks")
    if checks:
        console.print(f"Checks: {checks['findings']} findings; planted irregularities found "
                      f"{checks['planted_found']} of {checks['planted']}"
                      + (f" (missed: {', '.join(checks['planted_missed'])})" if checks["planted_missed"] else "")
                      + f"; {checks['other_findings']} other findings")
    if summary.get("report"):
        console.print(f"Report: {summary['report']['html']} and {summary['report']['xlsx']}")
    for name, value in summary.items():
        if name not in {"company", "org_number", "ingest", "case", "custody", "audit_trail", "checks", "report"}:
            headline = value.get("headline") if isinstance(value, dict) else None
            console.print(f"[bold]{name}[/bold]: {headline or value}")
    custody = summary["custody"]
    console.print(f"Case [bold]{summary['case']}[/bold]: custody chain {'OK' if custody['ok'] else 'BROKEN'} "
                  f"({custody['events']} events). Try: taxaudit sql --case {summary['case']} "
                  "\"SELECT account_id, sum(debit), sum(credit) FROM journal_lines GROUP BY 1 ORDER BY 1\"")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
