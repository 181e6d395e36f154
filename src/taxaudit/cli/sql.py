"""``taxaudit sql --case DIR "SELECT …"``: a read-only query over the case store."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from taxaudit.cli._common import CaseOption, JsonOption, console, print_json
from taxaudit.store.query import run_query


def sql(
    query: Annotated[str, typer.Argument(help="One SQL query over the canonical tables.")],
    case: CaseOption,
    limit: Annotated[int, typer.Option(help="Rows to show in the table view (JSON prints all).")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Run a read-only SQL query on the case store (writes and file access are refused)."""
    result = run_query(case, query)
    if as_json:
        rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
        print_json({"columns": result.columns, "rows": rows})
        return
    table = Table(*result.columns)
    for row in result.rows[:limit]:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
    if len(result.rows) > limit:
        console.print(f"… {len(result.rows) - limit} more rows (use --limit or --json)")


def register(app: typer.Typer) -> None:
    app.command("sql")(sql)
