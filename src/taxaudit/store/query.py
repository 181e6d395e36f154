"""Read-only SQL over a case store."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import duckdb

from taxaudit.errors import QueryError
from taxaudit.store.case import open_case


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_query(directory: str | os.PathLike[str], query: str, params: list[Any] | None = None) -> QueryResult:
    """Return the columns and rows of one query run on a read-only connection without file access.

    The case database is opened read-only and DuckDB's external access is disabled, so the query can neither
    change the case nor read or write other files.
    """
    with open_case(directory, read_only=True) as case:
        try:
            cursor = case.con.execute(query, params or [])
        except duckdb.Error as exc:
            raise QueryError(f"the query failed: {exc}", where=query,
                             hint="check the SQL; the case is read-only here (use `taxaudit sql` for SELECTs)") from exc
        if cursor.description is None:
            return QueryResult([], [])
        return QueryResult([d[0] for d in cursor.description], cursor.fetchall())
