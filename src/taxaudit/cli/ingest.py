"""``taxaudit ingest PATH... --case DIR``: load sources as hashed evidence into the case store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from taxaudit.cli._common import CaseOption, JsonOption, byte_progress, console, print_json
from taxaudit.ingest.pipeline import IngestOptions, ingest_files
from taxaudit.store import open_case


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Source files (SAF-T XML, CSV ledgers, ...).")],
    case: CaseOption,
    format: Annotated[str, typer.Option("--format", help="auto | saft | iif | qb_audit_trail | csv")] = "auto",
    mapping: Annotated[str | None, typer.Option(help="CSV mapping: a YAML file or a shipped name.")] = None,
    validate: Annotated[bool, typer.Option("--validate", help="Validate XML against the official XSD.")] = False,
    schema: Annotated[str | None, typer.Option(help="XSD for --validate (else $TAXAUDIT_SAFT_XSD).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Copy each file into the case's evidence, parse it, load rows and quarantine the bad ones."""
    options = IngestOptions(format=format, mapping=mapping, validate=validate, schema=schema)
    with open_case(case) as opened, byte_progress(not as_json) as progress:
        results = ingest_files(opened, paths, options, progress)
    if as_json:
        keys = ("source_id", "sha256", "format", "format_version", "rows_read", "rows_loaded", "rows_quarantined",
                "entries", "lines", "total_debit", "total_credit", "already_present", "findings",
                "quarantine_reasons")
        print_json({"sources": [{k: r.to_dict()[k] for k in keys} for r in results]})
        return
    table = Table("file", "format", "read", "loaded", "quarantined", "entries", "debit", "credit")
    for r in results:
        name = Path(r.path).name + (" [dim](already in case)[/dim]" if r.already_present else "")
        table.add_row(name, f"{r.format} {r.format_version or ''}", str(r.rows_read), str(r.rows_loaded),
                      str(r.rows_quarantined), str(r.entries), f"{r.total_debit:,.2f}", f"{r.total_credit:,.2f}")
    console.print(table)
    for r in results:
        if r.already_present:
            console.print(f"{Path(r.path).name}: SHA-256 {r.sha256[:16]}… is already in the case; nothing loaded.")
        if r.rows_quarantined and not r.already_present:
            reasons = ", ".join(f"{k} {v}" for k, v in r.quarantine_reasons.items())
            console.print(f"[yellow]{r.rows_quarantined} rows quarantined[/yellow] from {Path(r.path).name} "
                          f"({reasons}); see: taxaudit sql --case {case} \"SELECT * FROM quarantine\"")
        if r.findings and not r.already_present:
            console.print(f"[red]{r.findings} integrity finding(s)[/red] raised for {Path(r.path).name}; "
                          f"see: taxaudit sql --case {case} \"SELECT * FROM findings\"")


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
