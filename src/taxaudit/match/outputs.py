"""Write a matching run's tables: per-invoice discrepancies and per-taxpayer risk as Parquet and XLSX."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ibis.backends import BaseBackend
from ibis.expr import types as ir

from taxaudit import engine as engines
from taxaudit.report.xlsx import EXCEL_MAX_ROWS, add_table_sheet, new_workbook

if TYPE_CHECKING:
    from taxaudit.match.run import MatchRun

MONEY_COLUMNS = ("vat_amount", "counterpart_vat", "confirmed_vat", "gap_vat", "claimed_vat", "vat_gap",
                 "charged_vat", "unfiled_vat_claimed_from", "vat", "gap_vat")


def write_outputs(con: BaseBackend, run: MatchRun, invoices: ir.Table, quarantine: ir.Table,
                  out_dir: Path) -> dict[str, Path]:
    """Write discrepancies.parquet, taxpayers.parquet, quarantine.parquet, cycles.json and match.xlsx; return paths.

    The discrepancy table holds every invoice row whose class is not ``matched``; the workbook holds as many rows
    as Excel can and says how many it left out (the Parquet files hold them all).
    """
    from taxaudit.match.run import risk_table, write_parquet_table

    out_dir.mkdir(parents=True, exist_ok=True)
    discrepancies = invoices.filter(invoices.match_class != "matched").order_by(
        ["match_class", "seller_tax_id", "buyer_tax_id", "invoice_key", "invoice_date", "reporter_tax_id", "period"]
    )
    outputs = {
        "discrepancies": engines.write_parquet(con, discrepancies, out_dir / "discrepancies.parquet"),
        "quarantine": engines.write_parquet(
            con, quarantine.order_by(["source_file", "locator", "reason_code"]), out_dir / "quarantine.parquet"),
    }
    taxpayers = risk_table(run.assessments, run.pack)
    outputs["taxpayers"] = write_parquet_table(taxpayers, out_dir / "taxpayers.parquet")
    cycles_path = out_dir / "cycles.json"
    cycles_path.write_text(json.dumps([c.to_dict() for c in run.cycles], indent=2, ensure_ascii=False), "utf-8")
    outputs["cycles"] = cycles_path

    workbook = new_workbook()
    total = engines.count_rows(con, discrepancies)
    limit = EXCEL_MAX_ROWS - 2
    head = engines.to_arrow(con, discrepancies.limit(limit))
    note = (f"{total} discrepancy rows; the first {limit} are shown, all are in discrepancies.parquet"
            if total > limit else None)
    _sheet(workbook, "Discrepancies", head, note)
    _sheet(workbook, "Taxpayers", taxpayers, None)
    _sheet(workbook, "Quarantine", engines.to_arrow(con, quarantine.limit(limit)), None)
    rules = [[r.id, r.group, r.title, r.citation] for r in run.pack.rules]
    add_table_sheet(workbook, "Rules", ["rule", "group", "title", "citation"], rules,
                    note=f"rule pack {run.pack.name} {run.pack.version} sha256 {run.pack.sha256}")
    outputs["xlsx"] = out_dir / "match.xlsx"
    workbook.save(outputs["xlsx"])
    return outputs


def _sheet(workbook: object, title: str, table: object, note: str | None) -> None:
    columns = table.column_names  # type: ignore[attr-defined]
    rows = (list(row.values()) for row in table.to_pylist())  # type: ignore[attr-defined]
    add_table_sheet(workbook, title, columns, rows, money_columns=[c for c in columns if c in MONEY_COLUMNS],
                    note=note)  # type: ignore[arg-type]
