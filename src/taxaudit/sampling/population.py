"""Sampling populations read through DuckDB from a CSV/Parquet file or a case table, with a content hash.

Amounts become exact integer cents (DECIMAL(18,2) in DuckDB, then BIGINT), so cumulative monetary units in MUS
are exact. The population hash covers the item keys, amounts and strata in selection order: the same hash and
seed give the same selection.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np

from taxaudit.model.money import from_cents
from taxaudit.sampling.errors import SamplingError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT_KEYS = {"journal_lines": ("source_id", "entry_id", "line_no"), "invoices": ("source_id", "book", "invoice_no")}


@dataclass
class Population:
    """Sampling units in a fixed order: keys (text), amounts in cents, optional strata, and where they came from."""

    keys: np.ndarray
    cents: np.ndarray
    strata: np.ndarray | None
    source: str
    amount_column: str
    excluded_missing: int = 0

    @property
    def size(self) -> int:
        return int(self.cents.shape[0])

    @property
    def book_value(self) -> Decimal:
        return from_cents(int(self.cents.sum(dtype=np.int64)))

    def sha256(self) -> str:
        """Return the SHA-256 over keys (int64 bytes or text), amounts (int64 cents) and strata, in order."""
        digest = hashlib.sha256()
        if self.keys.dtype.kind in "iu":
            digest.update(b"int64:" + self.keys.astype("<i8").tobytes())
        else:
            digest.update("\x1f".join(map(str, self.keys)).encode("utf-8"))
        digest.update(b"\x1e")
        digest.update(self.cents.astype("<i8").tobytes())
        if self.strata is not None:
            digest.update(b"\x1e")
            digest.update("\x1f".join(map(str, self.strata)).encode("utf-8"))
        return digest.hexdigest()


def from_arrays(keys: np.ndarray | list[str] | list[int], cents: np.ndarray | list[int],
                strata: np.ndarray | list[str] | None = None, *, source: str = "arrays",
                amount_column: str = "amount") -> Population:
    """Return a population from in-memory keys and integer-cent amounts (used by tests and benchmarks)."""
    key_array = _key_array(np.asarray(keys))
    cent_array = np.asarray(cents, dtype=np.int64)
    if key_array.shape != cent_array.shape:
        raise SamplingError("keys and amounts differ in length", where=source)
    strata_array = None if strata is None else np.asarray(strata, dtype=object)
    return Population(key_array, cent_array, strata_array, source, amount_column)


def _identifier(name: str, what: str) -> str:
    if not _IDENTIFIER.match(name):
        raise SamplingError(f"{what} {name!r} is not a plain column or table name", where=what,
                            hint="use letters, digits and underscores only")
    return f'"{name}"'


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def _load(con: duckdb.DuckDBPyConnection, relation: str, where: str, amount: str, keys: tuple[str, ...],
          stratum: str | None, order_by_keys: bool, skip_missing: bool = False) -> Population:
    available = _columns(con, relation)
    for name in (amount, *keys, *([stratum] if stratum else [])):
        if name not in available:
            raise SamplingError(f"column {name!r} is not in the population", where=where,
                                hint="columns available: " + ", ".join(available))
    amount_sql = _identifier(amount, "amount column")
    bad = con.execute(
        f"SELECT count(*) FILTER (WHERE {amount_sql} IS NULL), "
        f"count(*) FILTER (WHERE {amount_sql} IS NOT NULL AND TRY_CAST({amount_sql} AS DECIMAL(18,2)) IS NULL) "
        f"FROM {relation}").fetchone()
    assert bad is not None
    missing = int(bad[0])
    if (missing and not skip_missing) or bad[1]:
        example = con.execute(
            f"SELECT {amount_sql} FROM {relation} WHERE {amount_sql} IS NULL "
            f"OR TRY_CAST({amount_sql} AS DECIMAL(18,2)) IS NULL LIMIT 1").fetchone()
        raise SamplingError(
            f"{bad[0]} missing and {bad[1]} non-numeric amounts in column {amount!r} "
            f"(e.g. {example[0] if example else None!r})",
            where=where, hint="fix or exclude those rows; every sampling unit needs an amount")
    # One key column is fetched in its own type (integers stay int64: no 10-million-string conversion); several
    # are joined as text "a|b|c".
    if len(keys) == 1:
        key_sql = _identifier(keys[0], "key column")
    elif keys:
        key_sql = " || '|' || ".join(f"CAST({_identifier(k, 'key column')} AS VARCHAR)" for k in keys)
    else:
        key_sql = "NULL"
    stratum_sql = f"CAST({_identifier(stratum, 'stratum column')} AS VARCHAR)" if stratum else "NULL"
    order = " ORDER BY " + ", ".join(_identifier(k, "key column") for k in keys) if (keys and order_by_keys) else ""
    filter_sql = f" WHERE {amount_sql} IS NOT NULL" if skip_missing else ""
    result = con.execute(
        f"SELECT {key_sql} AS k, CAST(round(TRY_CAST({amount_sql} AS DECIMAL(18,2)) * 100) AS BIGINT) AS c, "
        f"{stratum_sql} AS s FROM {relation}{filter_sql}{order}").fetchnumpy()
    cents = np.asarray(result["c"], dtype=np.int64)
    if cents.shape[0] == 0:
        raise SamplingError("the population is empty", where=where, hint="check the file or table and any filter")
    key_values = _key_array(result["k"]) if keys else np.arange(1, cents.shape[0] + 1, dtype=np.int64)
    strata_values = np.asarray(result["s"], dtype=object) if stratum else None
    if strata_values is not None and any(v is None for v in strata_values):
        raise SamplingError(f"some rows have no value in the stratum column {stratum!r}", where=where,
                            hint="give every sampling unit a stratum")
    return Population(key_values, cents, strata_values, where, amount, missing if skip_missing else 0)


def _key_array(values: np.ndarray) -> np.ndarray:
    if np.ma.isMaskedArray(values) and np.ma.getmaskarray(values).any():
        raise SamplingError("some rows have no key", hint="give every sampling unit a key, or omit --key")
    array = np.asarray(values)
    return array if array.dtype.kind in "iu" else array.astype(object)


def load_file(path: Path, amount: str, *, keys: tuple[str, ...] = (), stratum: str | None = None) -> Population:
    """Return the population in a CSV or Parquet file, in file order (row numbers as keys unless ``keys``)."""
    if not path.is_file():
        raise SamplingError("population file not found", where=str(path), hint="give an existing CSV or Parquet file")
    suffix = path.suffix.lower()
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        if suffix == ".parquet":
            relation = f"read_parquet('{_quote(path)}')"
        elif suffix in (".csv", ".txt", ".tsv"):
            relation = f"read_csv('{_quote(path)}', all_varchar = true, header = true)"
        else:
            raise SamplingError(f"unsupported population file type {suffix!r}", where=str(path),
                                hint="use a .csv or .parquet file")
        try:
            return _load(con, relation, str(path), amount, keys, stratum, order_by_keys=False)
        except duckdb.Error as exc:
            raise SamplingError(f"cannot read the population: {exc}", where=str(path),
                                hint="check that it is a CSV with a header row, or a Parquet file") from exc
    finally:
        con.close()


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def load_case_table(con: duckdb.DuckDBPyConnection, table: str, amount: str, *, keys: tuple[str, ...] | None = None,
                    stratum: str | None = None) -> Population:
    """Return a case table as a population, ordered by its key columns (default keys for canonical tables).

    Rows with no amount (e.g. the credit lines of a debit population) are not sampling units: they are left out
    and counted in ``excluded_missing``, which the selection's metadata reports.
    """
    table_sql = _identifier(table, "table")
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchone()
    if not exists or not exists[0]:
        raise SamplingError(f"the case has no table {table!r}", where=table,
                            hint="see: taxaudit sql --case DIR 'SHOW TABLES'")
    chosen = keys if keys is not None else DEFAULT_KEYS.get(table, ())
    try:
        return _load(con, table_sql, f"table {table}", amount, tuple(chosen), stratum, order_by_keys=True,
                     skip_missing=True)
    except duckdb.Error as exc:
        raise SamplingError(f"cannot read table {table!r}: {exc}", where=table) from exc
