"""One definition, two engines: DuckDB and Spark give identical results on the same invoice books."""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from taxaudit import engine
from taxaudit.engine import EngineError
from taxaudit.ingest.vat_books import read_vat_books
from taxaudit.match.classify import (
    INVOICE_COLUMNS,
    class_totals,
    classify_invoices,
    counterparty_edges,
    taxpayer_summary,
)
from taxaudit.synth.economy import generate_economy, write_economy


def _results(con, files: list[Path]) -> dict[str, list]:
    books = read_vat_books(con, files)
    # Computed once and kept, as run_match does: every later query reads the kept tables.
    valid = engine.materialize(con, books.books, "t_books")
    invoices = engine.materialize(con, classify_invoices(valid), "t_invoices")
    order = list(INVOICE_COLUMNS)

    def rows(expr, keys):
        return [tuple(r.values()) for r in engine.to_arrow(con, expr.order_by(keys)).to_pylist()]

    return {
        "invoices": rows(invoices, order),
        "totals": rows(class_totals(invoices), ["match_class"]),
        "taxpayers": rows(taxpayer_summary(invoices, valid), ["tax_id"]),
        "edges": rows(counterparty_edges(invoices), ["seller", "buyer"]),
        "quarantine": rows(books.quarantine, ["locator", "reason_code"]),
    }


@pytest.mark.spark
def test_duckdb_and_spark_agree(spark, tmp_path: Path) -> None:
    economy = generate_economy(taxpayers=150, invoices=800, seed=5)
    files = write_economy(economy, tmp_path, fmt="parquet")
    on_duckdb = _results(engine.connect("duckdb"), files)
    on_spark = _results(engine.connect("spark"), files)
    assert len(on_duckdb["invoices"]) > 800
    assert len(on_duckdb["quarantine"]) == 5
    for table in on_duckdb:
        assert on_spark[table] == on_duckdb[table], table


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(EngineError, match="unknown engine"):
        engine.connect("oracle")


def test_duckdb_sql_inlines_only_cheap_ctes() -> None:
    """A shared filter is read twice instead of stored; a shared aggregation is still computed once."""
    con = engine.connect()
    rows = ibis.memtable(pa.table({"k": ["a", "b", "b", "c"], "v": [1, 2, 3, 4]}))
    kept = rows.filter(rows.v > 1)
    by_k = kept.group_by("k").aggregate(n=kept.count())
    by_v = kept.group_by(k=kept.v.cast("string")).aggregate(n=kept.count())
    counts = by_k.union(by_v)
    assert " AS NOT MATERIALIZED (SELECT * FROM " in engine.duckdb_sql(con, counts)

    sums = rows.group_by("k").aggregate(total=rows.v.sum())
    both = sums.filter(sums.total > 1).union(sums.filter(sums.total < 5))
    sql = engine.duckdb_sql(con, both)
    assert sql.startswith('WITH "t1" AS (SELECT') and "NOT MATERIALIZED" not in sql

    got = engine.materialize(con, counts, "t_inline").order_by(["k", "n"]).to_pyarrow().to_pylist()
    assert [(r["k"], r["n"]) for r in got] == [("2", 1), ("3", 1), ("4", 1), ("b", 2), ("c", 1)]
