"""XLSX workbooks with openpyxl: bold frozen header rows, real numbers with money formats, sized columns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

EXCEL_MAX_ROWS = 1_048_576
MONEY_FORMAT = "#,##0.00;[Red]-#,##0.00"
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")


def _safe_sheet_title(title: str, existing: Iterable[str]) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:31] or "Sheet"
    taken = set(existing)
    candidate, n = cleaned, 2
    while candidate in taken:
        suffix = f" ({n})"
        candidate, n = cleaned[: 31 - len(suffix)] + suffix, n + 1
    return candidate


def add_table_sheet(
    workbook: Workbook,
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    money_columns: Iterable[str] = (),
    note: str | None = None,
) -> tuple[Worksheet, int]:
    """Add a sheet with a bold, frozen header row and the rows; return (sheet, rows written).

    Decimal amounts are written as numbers with a money format (Excel holds doubles: the exact values stay
    in the case store and the CSV/Parquet outputs). Rows beyond Excel's limit are not written; the sheet then
    carries a note saying how many were left out, so nothing is dropped silently.
    """
    sheet = workbook.create_sheet(_safe_sheet_title(title, workbook.sheetnames))
    start = 1
    if note:
        sheet.cell(row=1, column=1, value=note).font = Font(italic=True)
        start = 2
    money = {i + 1 for i, name in enumerate(columns) if name in set(money_columns)}
    for col, name in enumerate(columns, start=1):
        cell = sheet.cell(row=start, column=col, value=name)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    sheet.freeze_panes = sheet.cell(row=start + 1, column=1)
    widths = [len(str(name)) for name in columns]
    limit = EXCEL_MAX_ROWS - start
    written = skipped = 0
    for row in rows:
        if written >= limit:
            skipped += 1
            continue
        written += 1
        for col, value in enumerate(row, start=1):
            if isinstance(value, Decimal):
                value = float(value)
            elif isinstance(value, dict | list):
                value = str(value)
            cell = sheet.cell(row=start + written, column=col, value=value)
            if col in money:
                cell.number_format = MONEY_FORMAT
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            if written <= 200:
                widths[col - 1] = max(widths[col - 1], min(60, len(str(value)) if value is not None else 0))
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width + 2
    if skipped:
        sheet.cell(row=1, column=len(columns) + 2,
                   value=f"{skipped} further rows exceed Excel's {EXCEL_MAX_ROWS:,} row limit; "
                         "see the Parquet/CSV output")
    return sheet, written


def new_workbook() -> Workbook:
    """Return an empty workbook (its default sheet removed, so sheets appear in the order added)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook
