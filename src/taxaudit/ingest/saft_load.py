"""Load staged SAF-T rows into the case, deciding duplicate TransactionIDs across the whole file in DuckDB.

The parser keeps no per-entry state (so its memory stays flat for any file size): each staged entry carries its
ordinal in the file and its XPath, each staged line its entry's ordinal and its position. Here the first
occurrence of a TransactionID is loaded and every later one goes to quarantine, line by line, with the XPath of
both occurrences — all in SQL over the staged Parquet files, inside the ingest's transaction.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from taxaudit.ingest.loader import COLUMNS, Loader

DUPLICATE_REASON = "SAF-T requires TransactionID to be unique in the file"


@dataclass
class StagedPart:
    """Staged files of one part of the file and how its ordinals and locators map to the whole file."""

    files: dict[str, Path]
    ordinal_offset: int = 0
    journal_offset: int = 0  # journals before this part; its first journal continues journal ``journal_offset``
    transaction_offset: int = 0  # transactions of that continued journal before this part
    renumber: bool = False


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _entries_select(part: StagedPart) -> str:
    source = f"read_parquet({_literal(part.files['journal_entries'])})"
    if not part.renumber:
        return f"SELECT * REPLACE (ordinal + {part.ordinal_offset} AS ordinal) FROM {source}"
    j = "CAST(regexp_extract(locator, 'Journal\\[(\\d+)\\]', 1) AS BIGINT)"
    t = "CAST(regexp_extract(locator, 'Transaction\\[(\\d+)\\]', 1) AS BIGINT)"
    whole = (f"'/AuditFile/GeneralLedgerEntries/Journal[' || CASE WHEN {j} = 1 THEN {part.journal_offset} "
             f"ELSE {part.journal_offset} + {j} - 1 END || ']/Transaction[' || CASE WHEN {j} = 1 THEN "
             f"{part.transaction_offset} + {t} ELSE {t} END || ']'")
    return f"SELECT * REPLACE (ordinal + {part.ordinal_offset} AS ordinal, {whole} AS locator) FROM {source}"


@dataclass
class Excluded:
    entries: int = 0
    lines: int = 0
    debit_cents: int = 0
    credit_cents: int = 0
    examples: list[str] = field(default_factory=list)


def load_parts(loader: Loader, parts: list[StagedPart]) -> Excluded:
    """Load every staged table of ``parts`` under ``loader.source_id``; quarantine duplicate transactions.

    Returns what was excluded as duplicates, already subtracted from the loader's counters and totals.
    """
    con = loader.con
    for part in parts:
        for table, path in part.files.items():
            if table not in ("journal_entries", "journal_lines"):
                loader.load_parquet(table, path)
    with_entries = [p for p in parts if "journal_entries" in p.files]
    if not with_entries:
        return Excluded()
    entries_sql = " UNION ALL ".join(_entries_select(p) for p in with_entries)
    lines_sql = " UNION ALL ".join(
        f"SELECT * REPLACE (ordinal + {p.ordinal_offset} AS ordinal) "
        f"FROM read_parquet({_literal(p.files['journal_lines'])})" for p in with_entries)
    con.execute(f"CREATE OR REPLACE TEMP VIEW taxaudit_staged_entries AS {entries_sql}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW taxaudit_staged_lines AS {lines_sql}")
    entry_columns = ", ".join(name for name, _ in COLUMNS["journal_entries"])
    line_columns = ", ".join(name for name, _ in COLUMNS["journal_lines"])
    [(repeats,)] = con.execute(
        "SELECT count(*) - count(DISTINCT entry_id) FROM taxaudit_staged_entries").fetchall()
    if not repeats:  # the usual case: two streaming bulk inserts, no join, memory stays within the pool
        try:
            con.execute(f"INSERT INTO journal_entries (source_id, {entry_columns}) SELECT ?, {entry_columns} "
                        "FROM taxaudit_staged_entries", [loader.source_id])
            con.execute(f"INSERT INTO journal_lines (source_id, {line_columns}) SELECT ?, {line_columns} "
                        "FROM taxaudit_staged_lines", [loader.source_id])
        finally:
            with suppress(duckdb.Error):
                con.execute("DROP VIEW IF EXISTS taxaudit_staged_entries")
                con.execute("DROP VIEW IF EXISTS taxaudit_staged_lines")
        return Excluded()
    con.execute("""
        CREATE OR REPLACE TEMP TABLE taxaudit_duplicates AS
        SELECT e.ordinal, e.entry_id, e.locator, f.first_locator
        FROM taxaudit_staged_entries e
        JOIN (SELECT entry_id, min(ordinal) AS first_ordinal, arg_min(locator, ordinal) AS first_locator
              FROM taxaudit_staged_entries
              WHERE entry_id IN (SELECT entry_id FROM taxaudit_staged_entries GROUP BY entry_id HAVING count(*) > 1)
              GROUP BY entry_id) f USING (entry_id)
        WHERE e.ordinal > f.first_ordinal
    """)
    try:
        con.execute(f"INSERT INTO journal_entries (source_id, {entry_columns}) SELECT ?, {entry_columns} "
                    "FROM taxaudit_staged_entries ANTI JOIN taxaudit_duplicates USING (ordinal) ORDER BY ordinal",
                    [loader.source_id])
        con.execute(f"INSERT INTO journal_lines (source_id, {line_columns}) SELECT ?, {line_columns} "
                    "FROM taxaudit_staged_lines ANTI JOIN taxaudit_duplicates USING (ordinal) "
                    "ORDER BY ordinal, position", [loader.source_id])
        con.execute(
            "INSERT INTO quarantine (source_id, locator, reason_code, reason, raw) "
            "SELECT ?, d.locator || '/Line[' || l.position || ']', 'duplicate_key', "
            "'transaction: TransactionID ' || d.entry_id || ' appears twice (first at ' || d.first_locator || '); "
            f"{DUPLICATE_REASON}', to_json(struct_pack(account_id := l.account_id, party_id := l.party_id, "
            "debit := l.debit, credit := l.credit, description := l.description)) "
            "FROM taxaudit_staged_lines l JOIN taxaudit_duplicates d USING (ordinal) ORDER BY l.ordinal, l.position",
            [loader.source_id])
        row = con.execute(
            "SELECT count(DISTINCT d.ordinal), count(l.ordinal), coalesce(CAST(sum(l.debit) * 100 AS BIGINT), 0), "
            "coalesce(CAST(sum(l.credit) * 100 AS BIGINT), 0) "
            "FROM taxaudit_duplicates d LEFT JOIN taxaudit_staged_lines l USING (ordinal)").fetchone()
    finally:
        with suppress(duckdb.Error):  # after a failure the transaction is aborted; the first error is the one to see
            con.execute("DROP VIEW IF EXISTS taxaudit_staged_entries")
            con.execute("DROP VIEW IF EXISTS taxaudit_staged_lines")
            con.execute("DROP TABLE IF EXISTS taxaudit_duplicates")
    excluded = Excluded(*row)
    if excluded.lines:
        loader.loaded["journal_lines"] = loader.loaded.get("journal_lines", 0) - excluded.lines
        loader.loaded["journal_entries"] = loader.loaded.get("journal_entries", 0) - excluded.entries
        loader.quarantined += excluded.lines
        loader.quarantine_reasons["duplicate_key"] = loader.quarantine_reasons.get("duplicate_key", 0) + excluded.lines
        totals = loader.totals
        totals.entries -= excluded.entries
        totals.lines -= excluded.lines
        totals.debit_cents -= excluded.debit_cents
        totals.credit_cents -= excluded.credit_cents
    return excluded
