"""``taxaudit case init|verify|info``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from taxaudit.cli._common import JsonOption, console, print_json
from taxaudit.store import init_case, open_case, verify_case

case_app = typer.Typer(help="Create, inspect and verify case directories.", no_args_is_help=True)


@case_app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="New (or empty) directory for the case.")],
    country: Annotated[str | None, typer.Option(help="Country of the case (ISO code, e.g. NO, RU, US).")] = None,
    title: Annotated[str | None, typer.Option(help="A title for the case.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a case directory with the canonical tables, evidence folder and custody log."""
    with init_case(directory, country=country, title=title) as case:
        info = {"case": str(case.root), "country": country, "title": title, "events": len(case.events())}
    if as_json:
        print_json(info)
    else:
        console.print(f"Created case [bold]{directory}[/bold]")


@case_app.command("verify")
def verify(
    directory: Annotated[Path, typer.Argument(help="The case directory.")],
    as_json: JsonOption = False,
) -> None:
    """Recompute the custody hash chain and every evidence file's SHA-256; exit 1 at the first break."""
    open_case(directory, read_only=True).close()
    result = verify_case(directory)
    if as_json:
        print_json({"ok": result.ok, "events": result.events,
                    "first_break": None if result.first_break is None else vars(result.first_break),
                    "evidence_files": result.evidence_files})
    elif result.ok:
        console.print(f"[green]OK[/green]: {result.events} custody events chain correctly; "
                      f"{result.evidence_files} evidence files match their SHA-256.")
    else:
        console.print(f"[red]BROKEN[/red] at event {result.first_break.seq}: {result.first_break.reason}")
        for problem in result.problems[1:]:
            console.print(f"  also at event {problem.seq}: {problem.reason}")
    if not result.ok:
        raise typer.Exit(1)


@case_app.command("info")
def info(
    directory: Annotated[Path, typer.Argument(help="The case directory.")],
    as_json: JsonOption = False,
) -> None:
    """Show the case's sources with their hashes and row counts."""
    with open_case(directory, read_only=True) as case:
        cursor = case.con.execute(
            "SELECT source_id, file_name, sha256, format, format_version, rows_read, rows_loaded, rows_quarantined "
            "FROM sources ORDER BY imported_at"
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if as_json:
        print_json({"case": str(directory), "sources": rows})
        return
    table = Table("source", "file", "sha256", "format", "read", "loaded", "quarantined")
    for row in rows:
        table.add_row(row["source_id"], row["file_name"], row["sha256"][:16] + "…",
                      f"{row['format']} {row['format_version'] or ''}", str(row["rows_read"]),
                      str(row["rows_loaded"]), str(row["rows_quarantined"]))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
