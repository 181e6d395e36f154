"""Ibis connection factory: DuckDB on one machine (default) or PySpark for a cluster.

This is the only module that knows which backend runs the relational work. Every other stage receives an Ibis
backend and Ibis table expressions, so one definition of matching runs on both engines.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import sqlglot.expressions as sge
from ibis.backends import BaseBackend
from ibis.expr import types as ir

from taxaudit.errors import TaxauditError

ENGINES = ("duckdb", "spark")


class EngineError(TaxauditError):
    """The requested engine is unknown or cannot be started."""


def connect(
    engine: str = "duckdb",
    *,
    master: str | None = None,
    threads: int | None = None,
    memory_limit: str | None = None,
    spark_conf: dict[str, str] | None = None,
) -> BaseBackend:
    """Return an Ibis backend: in-memory DuckDB (default) or PySpark on ``master`` (``local[*]`` if not given).

    ``master`` is any Spark master URL (``spark://host:7077``, ``yarn``, ``k8s://...``); it may also come from the
    ``TAXAUDIT_SPARK_MASTER`` environment variable. An active SparkSession (e.g. under ``spark-submit``) is reused.
    """
    if engine == "duckdb":
        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        return ibis.duckdb.connect(**config)
    if engine == "spark":
        return ibis.pyspark.connect(spark_session(master, spark_conf))
    raise EngineError(f"unknown engine {engine!r}", hint=f"use one of: {', '.join(ENGINES)}")


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> Any:
    """Return the active SparkSession or build one with settings that keep small jobs fast and times in UTC."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # the spark extra is optional
        raise EngineError("PySpark is not installed", hint="pip install 'taxaudit[spark]' (needs Java 17)") from exc
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    from pyspark import SparkConf

    # Under spark-submit the master comes from its --master (a JVM system property SparkConf reads).
    master = master or os.environ.get("TAXAUDIT_SPARK_MASTER") or SparkConf().get("spark.master", "local[*]")
    builder = SparkSession.builder.appName("taxaudit").master(master)
    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # Java missing, bad master URL, ...
        raise EngineError(f"cannot start Spark: {exc}", where=master,
                          hint="check JAVA_HOME and the master URL") from exc


def engine_name(con: BaseBackend) -> str:
    """Return ``duckdb`` or ``spark`` for a backend made by :func:`connect`."""
    return "spark" if con.name == "pyspark" else con.name


def read_file(con: BaseBackend, path: str | Path, *, text: bool) -> ir.Table:
    """Return a table over a CSV or Parquet file; with ``text`` every CSV column is read as a string.

    ``path`` may be a local path or a URI the engine reads (``hdfs://``, ``s3a://`` on Spark). CSV follows
    RFC 4180 (header row, comma, double quotes doubled inside quoted fields).
    """
    suffix = Path(str(path).rstrip("/")).suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return con.read_parquet(str(path))
    if suffix in {".csv", ".txt"}:
        if engine_name(con) == "spark":
            return con.read_csv(str(path), header=True, inferSchema=not text, escape='"', encoding="UTF-8")
        return con.read_csv(str(path), all_varchar=text, header=True)
    raise EngineError(f"unsupported file type {suffix!r}", where=str(path), hint="give a .csv or .parquet file")


def from_arrow(con: BaseBackend, table: pa.Table, name: str) -> ir.Table:
    """Return an in-memory Arrow table as a table of the backend, registered under ``name``."""
    if engine_name(con) == "duckdb":
        con.con.register(name, table)  # a view over the Arrow data, visible to plain SQL as well
        return con.table(name)
    return ibis.memtable(table)


def materialize(con: BaseBackend, expr: ir.Table, name: str) -> ir.Table:
    """Return ``expr`` computed once and kept (a DuckDB temporary table, or a persisted Spark DataFrame).

    DuckDB gets plain SQL because Ibis 12's drop/replace statements do not parse in DuckDB 2.0.
    """
    if engine_name(con) == "duckdb":
        # What Ibis runs before executing an expression: registers in-memory tables (memtables) and UDFs.
        con._run_pre_execute_hooks(expr)
        con.raw_sql(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {duckdb_sql(con, expr)}')
        return con.table(name)
    return expr.cache()


def duckdb_sql(con: BaseBackend, expr: ir.Table) -> str:
    """Return DuckDB SQL for ``expr`` with every CTE that only reads rows marked ``NOT MATERIALIZED``.

    Ibis names each sub-expression used twice as a CTE, and DuckDB (since 1.3) stores every CTE read twice in
    full before the query goes on. For a CTE that merely scans, filters and computes per-row values (the union of
    the input files, the sales rows of the books) reading the source again is much cheaper than storing millions
    of rows: 7 s of 25 s when validating 20 M invoice rows. CTEs that group, join, deduplicate or rank stay
    materialized, so costly work is still done once.
    """
    query = con.compiler.to_sqlglot(expr)
    for cte in query.find_all(sge.CTE):
        body = cte.this
        costly = body.find(sge.Group, sge.Join, sge.Window, sge.AggFunc, sge.Distinct, sge.Order, sge.Limit, sge.CTE)
        deduplicating = any(u.args.get("distinct") for u in body.find_all(sge.Union))
        if costly is None and not deduplicating:
            cte.set("materialized", False)
    return query.sql(dialect="duckdb")


def release(con: BaseBackend, table: ir.Table, name: str) -> None:
    """Free what :func:`materialize` kept."""
    if engine_name(con) == "duckdb":
        con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')
    else:
        table.release()


def to_arrow(con: BaseBackend, expr: ir.Table) -> pa.Table:
    """Return the result of an expression as an Arrow table."""
    return con.to_pyarrow(expr)


def count_rows(con: BaseBackend, expr: ir.Table) -> int:
    """Return the number of rows of an expression, counted by the engine."""
    return int(to_arrow(con, expr.count().as_table()).column(0)[0].as_py())


def write_parquet(con: BaseBackend, expr: ir.Table, path: str | Path) -> str | Path:
    """Write the result of an expression as Parquet by the engine itself and return where it went.

    DuckDB writes one file; Spark writes from its executors to a directory of part files under ``path`` (Spark's
    layout, which DuckDB, pyarrow and pandas read as one table), so nothing passes through the driver.
    """
    if "://" not in str(path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    if engine_name(con) == "duckdb":
        con.to_parquet(expr, str(path))
    else:
        con.to_parquet(expr, str(path), mode="overwrite")
    return path
