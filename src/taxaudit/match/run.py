"""One matching run end to end: read and validate the books, classify, sum up, build the graph, assign risk groups.

Engine-agnostic: the relational work runs on the backend :func:`taxaudit.engine.connect` returns; only the
small per-taxpayer and per-link tables come back to Python for the graph and the risk rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import networkx as nx
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.expr import types as ir

from taxaudit import engine as engines
from taxaudit.ingest.vat_books import VatBooks, quarantined_rows, read_vat_books, valid_rows
from taxaudit.match.classify import (
    CLASSES,
    MatchOptions,
    class_totals,
    classify_invoices,
    counterparty_edges,
    taxpayer_summary,
    with_invoice_key,
)
from taxaudit.match.graph import Cycle, build_graph, find_cycles, gap_distances
from taxaudit.risk.groups import RiskAssessment, RulePack, assess, group_counts, load_pack

ZERO = Decimal("0.00")
Progress = Callable[[str], None]


@dataclass
class MatchRun:
    """Everything a matching run found, plus where its tables were written."""

    engine: str
    classes: dict[str, dict[str, Any]]
    vat_gap: Decimal
    quarantined: int
    assessments: list[RiskAssessment]
    cycles: list[Cycle]
    graph: nx.DiGraph
    pack: RulePack
    outputs: dict[str, Path] = field(default_factory=dict)

    @property
    def risk_groups(self) -> dict[str, int]:
        return group_counts(self.assessments)

    def summary(self) -> dict[str, Any]:
        """Return the JSON summary of the CLI (amounts as decimal strings)."""
        return {
            "classes": {name: {"count": v["count"], "vat": str(v["vat"])} for name, v in self.classes.items()},
            "vat_gap": str(self.vat_gap),
            "risk_groups": self.risk_groups,
            "cycles": len(self.cycles),
            "quarantined": self.quarantined,
        }


def taxpayer_metrics(summary: pa.Table, graph: nx.DiGraph, cycles: Sequence[Cycle], *,
                     max_depth: int = 6) -> list[dict[str, Any]]:
    """Return per taxpayer the metrics the risk rules read: the summary plus share, cycle and gap distance."""
    in_cycle = {member for cycle in cycles for member in cycle.members}
    distance = gap_distances(graph, max_depth=max_depth)
    rows = []
    for row in summary.to_pylist():
        claimed = row["claimed_vat"] or ZERO
        gap = row["vat_gap"] or ZERO
        row["unconfirmed_share"] = (gap / claimed).quantize(Decimal("0.0001")) if claimed > 0 else ZERO
        row["in_cycle"] = int(row["tax_id"] in in_cycle)
        row["gap_distance"] = distance.get(row["tax_id"])
        rows.append(row)
    rows.sort(key=lambda r: r["tax_id"])
    return rows


Keep = Callable[[ir.Table, str], ir.Table]


def match_books(books_in: VatBooks, keep: Keep, options: MatchOptions | None = None,
                step: Progress | None = None) -> tuple[ir.Table, ir.Table, ir.Table]:
    """Return (valid keyed books, quarantine, classified invoices): the relational core of :func:`run_match`.

    ``keep(expr, name)`` materialises an expression and returns the kept table. One pass validates every row and
    keys it; the valid rows and the quarantine are both read from that kept table.
    """
    checked = keep(with_invoice_key(books_in.checked, options), "taxaudit_checked")
    books, quarantine = valid_rows(checked), quarantined_rows(checked)
    (step or (lambda _label: None))("matching invoices")
    invoices = keep(classify_invoices(books, options), "taxaudit_invoices")
    return books, quarantine, invoices


def run_match(
    paths: Sequence[str | Path],
    *,
    engine: str = "duckdb",
    master: str | None = None,
    memory_limit: str | None = None,
    options: MatchOptions | None = None,
    extra_books: Sequence[pa.Table] = (),
    country: str | None = "RU",
    window_days: int = 30,
    max_cycle_length: int = 6,
    pack: RulePack | None = None,
    on: date | None = None,
    out_dir: Path | None = None,
    progress: Progress | None = None,
) -> MatchRun:
    """Return the result of matching the invoice books in ``paths`` (and ``extra_books``) on ``engine``."""
    step = progress or (lambda _label: None)
    pack = pack or load_pack()
    con = engines.connect(engine, master=master, memory_limit=memory_limit)
    step("validating books")
    books_in = read_vat_books(con, paths, country=country, extra=extra_books)
    kept: list[tuple[Any, str]] = []

    def keep(expr: ir.Table, name: str) -> ir.Table:
        table = engines.materialize(con, expr, name)
        kept.append((table, name))
        return table

    try:
        books, quarantine, invoices = match_books(books_in, keep, options, step)
        totals = {row["match_class"]: row for row in engines.to_arrow(con, class_totals(invoices)).to_pylist()}
        classes = {name: {"count": int(totals[name]["count"]), "vat": totals[name]["vat"] or ZERO}
                   for name in CLASSES if name in totals}
        quarantined = engines.count_rows(con, quarantine)
        step("summing per taxpayer")
        summary = engines.to_arrow(con, taxpayer_summary(invoices, books))
        vat_gap = sum((v or ZERO for v in summary.column("vat_gap").to_pylist()), ZERO)
        step("building the counterparty graph")
        graph = build_graph(engines.to_arrow(con, counterparty_edges(invoices)))
        cycles = find_cycles(graph, window_days=window_days, max_length=max_cycle_length)
        step("assigning risk groups")
        assessments = assess(taxpayer_metrics(summary, graph, cycles), pack, on=on)
        run = MatchRun(engine=engines.engine_name(con), classes=classes, vat_gap=vat_gap, quarantined=quarantined,
                       assessments=assessments, cycles=cycles, graph=graph, pack=pack)
        if out_dir is not None:
            step("writing outputs")
            from taxaudit.match.outputs import write_outputs

            run.outputs = write_outputs(con, run, invoices, quarantine, out_dir)
    finally:
        # Release cached tables now: Ibis would otherwise drop them at interpreter exit, after DuckDB closed.
        for table, name in reversed(kept):
            engines.release(con, table, name)
    return run


def risk_table(assessments: Sequence[RiskAssessment], pack: RulePack) -> pa.Table:
    """Return the per-taxpayer risk table: group, fired rules with their citations, and the metrics."""
    money = pa.decimal128(38, 2)
    columns: dict[str, tuple[pa.DataType, Callable[[RiskAssessment], Any]]] = {
        "tax_id": (pa.string(), lambda a: a.tax_id),
        "risk_group": (pa.string(), lambda a: a.group),
        "rules_fired": (pa.string(), lambda a: "; ".join(a.rules_fired)),
        "reasons": (pa.string(), lambda a: "; ".join(f"{pack.rule(r).title} ({pack.rule(r).citation})"
                                                      for r in a.rules_fired)),
        "filed": (pa.int64(), lambda a: a.metrics.get("filed")),
        "claimed_vat": (money, lambda a: a.metrics.get("claimed_vat")),
        "confirmed_vat": (money, lambda a: a.metrics.get("confirmed_vat")),
        "vat_gap": (money, lambda a: a.metrics.get("vat_gap")),
        "unconfirmed_share": (pa.decimal128(9, 4), lambda a: a.metrics.get("unconfirmed_share")),
        "charged_vat": (money, lambda a: a.metrics.get("charged_vat")),
        "unfiled_vat_claimed_from": (money, lambda a: a.metrics.get("unfiled_vat_claimed_from")),
        "claims": (pa.int64(), lambda a: a.metrics.get("claims")),
        "gap_claims": (pa.int64(), lambda a: a.metrics.get("gap_claims")),
        "duplicate_claims": (pa.int64(), lambda a: a.metrics.get("duplicate_claims")),
        "vat_mismatches": (pa.int64(), lambda a: a.metrics.get("vat_mismatches")),
        "nonfiling_counterparties": (pa.int64(), lambda a: a.metrics.get("nonfiling_counterparties")),
        "in_cycle": (pa.int64(), lambda a: a.metrics.get("in_cycle")),
        "gap_distance": (pa.int64(), lambda a: a.metrics.get("gap_distance")),
    }
    return pa.table({name: pa.array([get(a) for a in assessments], type=dtype)
                     for name, (dtype, get) in columns.items()})


def write_parquet_table(table: pa.Table, path: Path) -> Path:
    """Write an Arrow table to Parquet and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path
