"""Batch loader: rows from a parser go to DuckDB through Arrow in batches; bad rows go to quarantine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa

from taxaudit.model.entry_versions import ENTRY_VERSION_COLUMNS

MONEY = pa.decimal128(18, 2)
RATE = pa.decimal128(9, 4)

# Arrow types of the columns each parser supplies, in table order; the loader inserts them by name.
COLUMNS: dict[str, list[tuple[str, pa.DataType]]] = {
    "accounts": [
        ("account_id", pa.string()), ("name", pa.string()), ("type", pa.string()), ("standard_account", pa.string()),
        ("grouping_category", pa.string()), ("opening_debit", MONEY), ("opening_credit", MONEY),
        ("closing_debit", MONEY), ("closing_credit", MONEY),
    ],
    "parties": [
        ("party_id", pa.string()), ("role", pa.string()), ("name", pa.string()), ("tax_id", pa.string()),
        ("country", pa.string()), ("account_id", pa.string()), ("opening_debit", MONEY), ("opening_credit", MONEY),
        ("closing_debit", MONEY), ("closing_credit", MONEY),
    ],
    "tax_codes": [
        ("tax_type", pa.string()), ("tax_code", pa.string()), ("description", pa.string()), ("percentage", RATE),
        ("country", pa.string()), ("standard_tax_code", pa.string()), ("effective_date", pa.date32()),
        ("expiration_date", pa.date32()), ("base_rate", RATE),
    ],
    "journal_entries": [
        ("entry_id", pa.string()), ("journal_id", pa.string()), ("journal_description", pa.string()),
        ("period", pa.string()), ("period_year", pa.int32()), ("posting_date", pa.date32()),
        ("document_date", pa.date32()), ("created_at", pa.timestamp("us")), ("created_by", pa.string()),
        ("changed_at", pa.timestamp("us")), ("changed_by", pa.string()), ("status", pa.string()),
        ("description", pa.string()), ("source_ref", pa.string()), ("voucher_type", pa.string()),
    ],
    "journal_lines": [
        ("entry_id", pa.string()), ("line_no", pa.int32()), ("account_id", pa.string()), ("party_id", pa.string()),
        ("debit", MONEY), ("credit", MONEY), ("currency", pa.string()), ("tax_code", pa.string()),
        ("tax_amount", MONEY), ("description", pa.string()),
    ],
    "invoices": [
        ("book", pa.string()), ("seller_tax_id", pa.string()), ("buyer_tax_id", pa.string()),
        ("invoice_no", pa.string()), ("invoice_date", pa.date32()), ("net_amount", MONEY), ("vat_amount", MONEY),
        ("vat_rate", RATE), ("currency", pa.string()), ("period", pa.string()),
    ],
    "entry_versions": ENTRY_VERSION_COLUMNS,
    "quarantine": [("locator", pa.string()), ("reason_code", pa.string()), ("reason", pa.string()), ("raw", pa.string())],
}

# Tables whose rows count as source rows (quarantine rows count separately; the rest are derived).
ROW_TABLES = ("accounts", "parties", "tax_codes", "journal_lines", "invoices", "entry_versions")


@dataclass
class Totals:
    entries: int = 0
    lines: int = 0
    debit: Decimal = Decimal("0.00")
    credit: Decimal = Decimal("0.00")


@dataclass
class Loader:
    """Collect rows per table and flush them to DuckDB in Arrow batches inside the caller's transaction."""

    con: Any
    source_id: str
    source_name: str = ""
    batch_size: int = 50_000
    on_flush: Callable[[], None] | None = None
    buffers: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    loaded: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    totals: Totals = field(default_factory=Totals)

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        """Queue one row (values in the order of ``COLUMNS[table]``)."""
        buffer = self.buffers.setdefault(table, [])
        buffer.append(row)
        if len(buffer) >= self.batch_size:
            self._flush_table(table)

    def add_line(self, row: tuple[Any, ...]) -> None:
        """Queue a journal line and count it into the loaded totals."""
        self.totals.lines += 1
        self.totals.debit += row[4]
        self.totals.credit += row[5]
        self.add("journal_lines", row)

    def add_entry(self, row: tuple[Any, ...]) -> None:
        self.totals.entries += 1
        self.add("journal_entries", row)

    def quarantine(self, locator: str, reason_code: str, reason: str, raw: str | None = None) -> None:
        """Record a source row that could not be loaded, with where it is and why."""
        self.quarantined += 1
        self.quarantine_reasons[reason_code] = self.quarantine_reasons.get(reason_code, 0) + 1
        self.add("quarantine", (locator, reason_code, reason, raw))

    def rows_loaded(self) -> int:
        return sum(self.loaded.get(t, 0) + len(self.buffers.get(t, ())) for t in ROW_TABLES)

    def flush(self) -> None:
        for table in list(self.buffers):
            self._flush_table(table)

    def _flush_table(self, table: str) -> None:
        rows = self.buffers.get(table)
        if not rows:
            return
        columns = COLUMNS[table]
        arrays = [pa.array(values, type=typ) for values, (_, typ) in zip(zip(*rows, strict=True), columns, strict=True)]
        batch = pa.table(arrays, names=[name for name, _ in columns])
        names = ", ".join(name for name, _ in columns)
        self.con.register("taxaudit_batch", batch)
        try:
            self.con.execute(
                f"INSERT INTO {table} (source_id, {names}) SELECT ?, {names} FROM taxaudit_batch", [self.source_id]
            )
        finally:
            self.con.unregister("taxaudit_batch")
        self.loaded[table] = self.loaded.get(table, 0) + len(rows)
        self.buffers[table] = []
        if self.on_flush:
            self.on_flush()
