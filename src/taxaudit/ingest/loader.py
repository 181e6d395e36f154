"""Batch loader: rows from a parser go to DuckDB through Arrow in batches; bad rows go to quarantine."""

from __future__ import annotations

import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

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
    "quarantine": [
        ("locator", pa.string()), ("reason_code", pa.string()), ("reason", pa.string()), ("raw", pa.string()),
    ],
}

# Staging-only columns a parser may append to its rows (after the canonical ones); they are never inserted into
# the case tables but let the load step reason across the whole source, e.g. about duplicate keys.
STAGING_EXTRAS: dict[str, list[tuple[str, pa.DataType]]] = {
    "journal_entries": [("ordinal", pa.int64()), ("locator", pa.string())],
    "journal_lines": [("ordinal", pa.int64()), ("position", pa.int32())],
}

# Tables whose rows count as source rows (quarantine rows count separately; the rest are derived).
ROW_TABLES = ("accounts", "parties", "tax_codes", "journal_lines", "invoices", "entry_versions")


def money_array(values: tuple[Any, ...]) -> pa.Array:
    """Return a DECIMAL(18,2) Arrow array from integer cents or Decimals (None stays null), exactly.

    Integer cents are laid out directly as 128-bit two's-complement words, which is exact and much faster than
    converting Python Decimal objects one by one.
    """
    count = len(values)
    if all(v is None or isinstance(v, int) for v in values):
        cents = np.fromiter((0 if v is None else v for v in values), dtype=np.int64, count=count)
        words = np.empty((count, 2), dtype=np.int64)
        words[:, 0] = cents
        words[:, 1] = cents >> 63
        validity = None
        if any(v is None for v in values):
            validity = pa.array([v is not None for v in values], type=pa.bool_()).buffers()[1]
        return pa.Array.from_buffers(MONEY, count, [validity, pa.py_buffer(words.tobytes())])
    return pa.array([None if v is None else (Decimal(v) / 100 if isinstance(v, int) else v) for v in values],
                    type=MONEY)


def to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


@dataclass
class Totals:
    """Loaded counts and totals; amounts kept in integer cents so sums are exact and cheap."""

    entries: int = 0
    lines: int = 0
    debit_cents: int = 0
    credit_cents: int = 0

    @property
    def debit(self) -> Decimal:
        return to_decimal(self.debit_cents)

    @property
    def credit(self) -> Decimal:
        return to_decimal(self.credit_cents)


@dataclass
class Loader:
    """Collect a source's rows and load them into DuckDB inside the caller's transaction, in bounded memory.

    Rows are batched, turned into Arrow and written to Parquet files in a staging folder by one background
    thread while the parser goes on reading; :meth:`flush` then loads each table with one bulk
    ``INSERT ... SELECT FROM read_parquet`` (measured: many small INSERTs in one transaction keep their data in
    memory, one bulk insert streams it to the database file). Amount columns take integer cents (fast path) or
    Decimal. The parser must not use the connection before :meth:`flush`, and must call it at the end.
    """

    con: Any
    source_id: str
    staging: Path
    source_name: str = ""
    batch_size: int = 20_000
    buffers: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    loaded: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    totals: Totals = field(default_factory=Totals)
    extras: bool = False  # rows of journal_entries/journal_lines carry STAGING_EXTRAS values at their end
    _writers: dict[str, pq.ParquetWriter] = field(default_factory=dict)
    _pending: Future[None] | None = None
    _executor: ThreadPoolExecutor | None = None

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        """Queue one row (values in the order of ``COLUMNS[table]``)."""
        buffer = self.buffers.get(table)
        if buffer is None:
            buffer = self.buffers[table] = []
        buffer.append(row)
        if len(buffer) >= self.batch_size:
            self._flush_table(table)

    def add_line(self, row: tuple[Any, ...]) -> None:
        """Queue a journal line (debit and credit as cents or Decimal) and count it into the totals."""
        totals = self.totals
        totals.lines += 1
        debit, credit = row[4], row[5]
        totals.debit_cents += debit if isinstance(debit, int) else int(debit * 100)
        totals.credit_cents += credit if isinstance(credit, int) else int(credit * 100)
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
        """Stage what is still buffered, then bulk-load every staged table into the case database."""
        try:
            for table, path in self.finish_staging().items():
                self.load_parquet(table, path)
        finally:
            self.close()

    def finish_staging(self) -> dict[str, Path]:
        """Write out what is still buffered and return the staged Parquet file of each table (not yet loaded)."""
        for table in list(self.buffers):
            self._flush_table(table)
        self._wait()
        for writer in self._writers.values():
            writer.close()
        return {table: self._path(table) for table in self._writers}

    def take_staged(self) -> dict[str, Path]:
        """Finish staging and hand the files to the caller, who loads them; :meth:`flush` then loads nothing."""
        staged = self.finish_staging()
        self._writers = {}
        return staged

    def load_parquet(self, table: str, path: Path) -> None:
        """Bulk-insert a staged Parquet file (columns as in ``COLUMNS[table]``) under this loader's source_id."""
        self.insert_from(table, "read_parquet(?)", [str(path)])

    def insert_from(self, table: str, relation: str, params: list[Any] | None = None) -> None:
        """Insert ``table``'s canonical columns selected from the SQL ``relation`` under this loader's source_id.

        ``relation`` may carry joins and ORDER BY; ``params`` fill its ``?`` placeholders.
        """
        names = ", ".join(name for name, _ in COLUMNS[table])
        self.con.execute(f"INSERT INTO {table} (source_id, {names}) SELECT ?, {names} FROM {relation}",
                         [self.source_id, *(params or [])])

    def stop(self) -> None:
        """Stop the background writer and close open Parquet writers; staged files stay."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        for writer in self._writers.values():
            with suppress(Exception):
                writer.close()

    def close(self) -> None:
        """Stop the background writer and remove the staging files (also after a failure)."""
        self.stop()
        shutil.rmtree(self.staging, ignore_errors=True)
        with suppress(OSError):
            self.staging.parent.rmdir()  # the shared .staging folder, once no other load uses it

    def _path(self, table: str) -> Path:
        return self.staging / f"{table}.parquet"

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _flush_table(self, table: str) -> None:
        rows = self.buffers.get(table)
        if not rows:
            return
        self.buffers[table] = []
        self.loaded[table] = self.loaded.get(table, 0) + len(rows)
        self._wait()
        if self._executor is None:
            self.staging.mkdir(parents=True, exist_ok=True)
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="taxaudit-stage")
        self._pending = self._executor.submit(self._stage, table, rows)

    def _stage(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        columns = COLUMNS[table] + (STAGING_EXTRAS.get(table, []) if self.extras else [])
        arrays = [money_array(values) if typ == MONEY else pa.array(values, type=typ)
                  for values, (_, typ) in zip(zip(*rows, strict=True), columns, strict=True)]
        batch = pa.table(arrays, names=[name for name, _ in columns])
        writer = self._writers.get(table)
        if writer is None:
            writer = self._writers[table] = pq.ParquetWriter(self._path(table), batch.schema, compression="lz4")
        writer.write_table(batch)
