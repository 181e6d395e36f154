"""``taxaudit match`` (VAT invoice cross-matching) and ``taxaudit graph tree|cycles|hubs|export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from taxaudit.cli._common import JsonOption, console, err_console, print_json
from taxaudit.errors import TaxauditError
from taxaudit.match.classify import MatchOptions
from taxaudit.match.normalize import NumberNormalization
from taxaudit.match.run import MatchRun, run_match
from taxaudit.risk.groups import load_pack

# Text, not Path: a URI such as hdfs:///vat/sales.parquet must reach the engine unchanged.
InvoicesOption = Annotated[list[str], typer.Option(
    "--invoices", help="Invoice-book file or URI (CSV or Parquet, canonical layout); repeat for more files.")]
EngineOption = Annotated[str, typer.Option("--engine", help="duckdb (one machine) or spark.")]
MasterOption = Annotated[str | None, typer.Option(
    "--spark-master", help="Spark master URL (spark://host:7077, yarn, k8s://…); default local[*].")]
CaseDirOption = Annotated[Path | None, typer.Option(
    "--case", help="Also match the case's invoices table, and log the run in its custody log.", file_okay=False)]
WindowOption = Annotated[int, typer.Option("--window-days", help="Carousel links must trade within this window.")]
LengthOption = Annotated[int, typer.Option("--max-cycle-length", help="Longest carousel looked for.")]

graph_app = typer.Typer(help="The counterparty graph: relationship trees, carousels, hubs, GraphML.",
                        no_args_is_help=True)


def _run(invoices: list[str] | None, *, case: Path | None, engine: str, master: str | None, as_json: bool,
         out: Path | None = None, tolerance: str = "1.00", rules: Path | None = None, window_days: int = 30,
         max_cycle_length: int = 6, keep_leading_zeros: bool = False,
         memory_limit: str | None = None, as_of: str | None = None) -> MatchRun:
    from decimal import Decimal, InvalidOperation

    try:
        vat_tolerance = Decimal(tolerance)
    except InvalidOperation as exc:
        raise TaxauditError(f"--vat-tolerance {tolerance!r} is not a number", hint="e.g. --vat-tolerance 1.00") from exc
    from datetime import date

    try:
        on = date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        raise TaxauditError(f"--rules-as-of {as_of!r} is not a date", hint="e.g. --rules-as-of 2024-03-31") from exc
    options = MatchOptions(vat_tolerance=vat_tolerance,
                           numbers=NumberNormalization(ignore_leading_zeros=not keep_leading_zeros))
    extra = []
    opened = None
    if case is not None:
        from taxaudit.ingest.vat_books import case_invoice_books
        from taxaudit.store import open_case

        opened = open_case(case)
        extra.append(case_invoice_books(opened.con))
        if out is None:
            out = opened.reports_dir / "match"
    if not invoices and not extra:
        raise TaxauditError("nothing to match", hint="pass --invoices PATH (repeatable) and/or --case DIR")
    try:
        with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn(),
                      console=err_console, transient=True, disable=as_json) as progress:
            task = progress.add_task("starting", total=None)
            run = run_match(invoices or [], engine=engine, master=master, memory_limit=memory_limit,
                            options=options, extra_books=extra,
                            window_days=window_days, max_cycle_length=max_cycle_length,
                            pack=load_pack(rules) if rules else None, on=on, out_dir=out,
                            progress=lambda label: progress.update(task, description=label))
        if opened is not None:
            from taxaudit.store.case import sha256_file

            opened.record("vat_match_run", "invoices", None, engine=run.engine,
                          files={p: sha256_file(Path(p)) if "://" not in p else None for p in invoices or []},
                          rule_pack=f"{run.pack.name} {run.pack.version}", rule_pack_sha256=run.pack.sha256,
                          summary=run.summary(), outputs={k: str(v) for k, v in run.outputs.items()})
    finally:
        if opened is not None:
            opened.close()
    return run


def match(
    invoices: InvoicesOption = None,  # type: ignore[assignment]
    case: CaseDirOption = None,
    engine: EngineOption = "duckdb",
    spark_master: MasterOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for the Parquet and XLSX tables.",
                                             file_okay=False)] = None,
    vat_tolerance: Annotated[str, typer.Option(help="VAT difference (currency units) still counted as equal.")
                             ] = "1.00",
    keep_leading_zeros: Annotated[bool, typer.Option(
        help="Treat 00123 and 123 as different invoice numbers.")] = False,
    rules: Annotated[Path | None, typer.Option(help="Risk rule pack (YAML); default: the bundled RU pack.")] = None,
    window_days: WindowOption = 30,
    max_cycle_length: LengthOption = 6,
    memory_limit: Annotated[str | None, typer.Option(
        help="DuckDB memory limit, e.g. 6GB (it spills to disk beyond it); ignored by Spark.")] = None,
    rules_as_of: Annotated[str | None, typer.Option(
        help="Apply the risk rules in force on this date (YYYY-MM-DD), e.g. the period's last day.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Cross-match purchase books against sales books: discrepancy classes, VAT gap, risk groups, carousels."""
    run = _run(invoices, case=case, engine=engine, master=spark_master, as_json=as_json, out=out,
               tolerance=vat_tolerance, rules=rules, window_days=window_days, max_cycle_length=max_cycle_length,
               keep_leading_zeros=keep_leading_zeros, memory_limit=memory_limit, as_of=rules_as_of)
    summary = run.summary()
    if as_json:
        print_json(summary)
        return
    table = Table("class", "invoices", "VAT", title=f"VAT invoice matching ({run.engine})")
    for name, value in summary["classes"].items():
        table.add_row(name, str(value["count"]), value["vat"])
    console.print(table)
    console.print(f"VAT gap: [bold]{summary['vat_gap']}[/bold]; risk groups: {summary['risk_groups']}; "
                  f"carousels: {summary['cycles']}; quarantined rows: {summary['quarantined']}")
    for name, path in run.outputs.items():
        console.print(f"  {name}: {path}")


@graph_app.command("cycles")
def cycles(
    invoices: InvoicesOption = None,  # type: ignore[assignment]
    case: CaseDirOption = None,
    engine: EngineOption = "duckdb",
    spark_master: MasterOption = None,
    window_days: WindowOption = 30,
    max_cycle_length: LengthOption = 6,
    as_json: JsonOption = False,
) -> None:
    """List carousels: closed chains of invoices A→B→…→A whose links trade within the time window."""
    run = _run(invoices, case=case, engine=engine, master=spark_master, as_json=as_json, window_days=window_days,
               max_cycle_length=max_cycle_length)
    if as_json:
        print_json({"cycles": [c.to_dict() for c in run.cycles], "count": len(run.cycles)})
        return
    table = Table("members", "VAT", "gap VAT", "first", "last", title=f"{len(run.cycles)} carousel(s)")
    for cycle in run.cycles:
        table.add_row(" → ".join((*cycle.members, cycle.members[0])), str(cycle.vat), str(cycle.gap_vat),
                      str(cycle.first_date), str(cycle.last_date))
    console.print(table)


@graph_app.command("tree")
def tree(
    taxpayer: Annotated[str, typer.Option("--taxpayer", help="Tax id at the centre of the tree.")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.", dir_okay=False)],
    invoices: InvoicesOption = None,  # type: ignore[assignment]
    case: CaseDirOption = None,
    depth: Annotated[int, typer.Option("--depth", min=1, max=6, help="Links to follow each way.")] = 2,
    engine: EngineOption = "duckdb",
    spark_master: MasterOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draw a taxpayer's relationship tree (suppliers and customers, breaks in red) as an offline HTML page."""
    from taxaudit.match.graph import chain_to_gap, relationship_tree, tree_html

    run = _run(invoices, case=case, engine=engine, master=spark_master, as_json=as_json)
    if taxpayer not in run.graph:
        raise TaxauditError(f"taxpayer {taxpayer} does not appear in the invoice books",
                            hint="check the tax id (10 or 12 digits for a Russian INN)")
    groups = {a.tax_id: a.group for a in run.assessments}
    fired = {a.tax_id: [f"{r}: {run.pack.rule(r).title}" for r in a.rules_fired] for a in run.assessments}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(tree_html(run.graph, taxpayer, depth=depth, risk=groups, rules=fired), encoding="utf-8")
    shape = relationship_tree(run.graph, taxpayer, depth=depth)
    chain = chain_to_gap(run.graph, taxpayer)
    result = {"taxpayer": taxpayer, "depth": depth, "nodes": len(shape.levels), "links": len(shape.edges),
              "risk_group": groups.get(taxpayer), "chain_to_gap": chain, "out": str(out)}
    if as_json:
        print_json(result)
    else:
        console.print(f"Wrote {out}: {result['nodes']} taxpayers, {result['links']} links; "
                      f"risk group {result['risk_group']}; chain to the break: {' ← '.join(chain or []) or 'none'}")


@graph_app.command("hubs")
def hubs_command(
    invoices: InvoicesOption = None,  # type: ignore[assignment]
    case: CaseDirOption = None,
    top: Annotated[int, typer.Option(help="How many hubs to list.")] = 20,
    engine: EngineOption = "duckdb",
    spark_master: MasterOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the taxpayers through which most VAT flows."""
    from taxaudit.match.graph import hubs

    run = _run(invoices, case=case, engine=engine, master=spark_master, as_json=as_json)
    found = hubs(run.graph, top=top)
    if as_json:
        print_json({"hubs": [h.to_dict() for h in found]})
        return
    table = Table("tax id", "suppliers", "customers", "VAT in", "VAT out")
    for hub in found:
        table.add_row(hub.tax_id, str(hub.suppliers), str(hub.customers), str(hub.vat_in), str(hub.vat_out))
    console.print(table)


@graph_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="GraphML file to write (opens in Gephi, yEd).", dir_okay=False)],
    invoices: InvoicesOption = None,  # type: ignore[assignment]
    case: CaseDirOption = None,
    engine: EngineOption = "duckdb",
    spark_master: MasterOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export the whole counterparty graph as GraphML, with VAT, gap VAT and each taxpayer's risk group."""
    from taxaudit.match.graph import write_graphml

    run = _run(invoices, case=case, engine=engine, master=spark_master, as_json=as_json)
    write_graphml(run.graph, out, risk={a.tax_id: a.group for a in run.assessments})
    result = {"out": str(out), "nodes": run.graph.number_of_nodes(), "edges": run.graph.number_of_edges()}
    if as_json:
        print_json(result)
    else:
        console.print(f"Wrote {out}: {result['nodes']} taxpayers, {result['edges']} links")


def register(app: typer.Typer) -> None:
    app.command("match")(match)
    app.add_typer(graph_app, name="graph")
