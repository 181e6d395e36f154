"""Load staged SAF-T rows into the case, deciding duplicate TransactionIDs across the whole file in DuckDB.

The parser keeps no per-entry state (so its memory stays flat for any file size): each staged entry carries its
ordinal in the file and its XPath, each staged line its entry's ordinal and its position. Here the first
occurrence of a TransactionID is loaded and every later one goes to quarantine, line by line, with the XPath of
both occurrences — all in SQL over the staged Parquet files, inside the ingest's transaction.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb

from taxaudit.ingest.loader import Loader

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


_TRANSACTION_XPATH = r"^/AuditFile/GeneralLedgerEntries/Journal\[(\d+)\]/Transaction\[(\d+)\](.*)$"


def whole_file_locator(part: StagedPart, column: str = "locator") -> str:
    """Return SQL renumbering a part's ``Journal[j]/Transaction[t]`` XPath to its position in the whole file.

    The part's first journal continues journal ``journal_offset`` (its transactions follow the
    ``transaction_offset`` already read); later journals follow it. Other locators are kept as they are.
    """
    if not part.renumber:
        return column
    j = f"CAST(regexp_extract({column}, '{_TRANSACTION_XPATH}', 1) AS BIGINT)"
    t = f"CAST(regexp_extract({column}, '{_TRANSACTION_XPATH}', 2) AS BIGINT)"
    rest = f"regexp_extract({column}, '{_TRANSACTION_XPATH}', 3)"
    return (f"CASE WHEN regexp_matches({column}, '{_TRANSACTION_XPATH}') THEN "
            f"'/AuditFile/GeneralLedgerEntries/Journal[' || CASE WHEN {j} = 1 THEN {part.journal_offset} "
            f"ELSE {part.journal_offset} + {j} - 1 END || ']/Transaction[' || CASE WHEN {j} = 1 THEN "
            f"{part.transaction_offset} + {t} ELSE {t} END || ']' || {rest} ELSE {column} END")


def _staged(part: StagedPart, table: str) -> str:
    """Return SQL selecting a part's staged table with whole-file ordinals and locators."""
    source = f"read_parquet({_literal(part.files[table])})"
    if table == "quarantine":
        return f"(SELECT * REPLACE ({whole_file_locator(part)} AS locator) FROM {source})"
    if table == "journal_entries":
        return (f"SELECT * REPLACE (ordinal + {part.ordinal_offset} AS ordinal, {whole_file_locator(part)} "
                f"AS locator) FROM {source}")
    return f"SELECT * REPLACE (ordinal + {part.ordinal_offset} AS ordinal) FROM {source}"


@dataclass
class Excluded:
    entries: int = 0
    lines: int = 0
    debit_cents: int = 0
    credit_cents: int = 0


def load_parts(loader: Loader, parts: list[StagedPart]) -> Excluded:
    """Load every staged table of ``parts`` under ``loader.source_id``; quarantine duplicate transactions.

    Returns what was excluded as duplicates, already subtracted from the loader's counters and totals.
    """
    con = loader.con
    for part in parts:
        for table, path in part.files.items():
            if table == "quarantine":
                loader.insert_from(table, _staged(part, table))
            elif table not in ("journal_entries", "journal_lines"):
                loader.load_parquet(table, path)
    with_entries = [p for p in parts if "journal_entries" in p.files]
    if not with_entries:
        return Excluded()
    entries_sql = " UNION ALL ".join(_staged(p, "journal_entries") for p in with_entries)
    lines_sql = " UNION ALL ".join(_staged(p, "journal_lines") for p in with_entries)
    con.execute(f"CREATE OR REPLACE TEMP VIEW taxaudit_staged_entries AS {entries_sql}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW taxaudit_staged_lines AS {lines_sql}")
    try:
        [(repeats,)] = con.execute(
            "SELECT count(*) - count(DISTINCT entry_id) FROM taxaudit_staged_entries").fetchall()
        if not repeats:  # the usual case: two streaming bulk inserts, no join, memory stays within the pool
            loader.insert_from("journal_entries", "taxaudit_staged_entries")
            loader.insert_from("journal_lines", "taxaudit_staged_lines")
            return Excluded()
        excluded = _load_with_duplicates(loader)
    finally:
        with suppress(duckdb.Error):  # after a failure the transaction is aborted; the first error is the one to see
            con.execute("DROP VIEW IF EXISTS taxaudit_staged_entries")
            con.execute("DROP VIEW IF EXISTS taxaudit_staged_lines")
            con.execute("DROP TABLE IF EXISTS taxaudit_duplicates")
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


def _load_with_duplicates(loader: Loader) -> Excluded:
    """Load the first occurrence of each TransactionID; quarantine every line of the later ones."""
    con = loader.con
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
    loader.insert_from("journal_entries",
                       "taxaudit_staged_entries ANTI JOIN taxaudit_duplicates USING (ordinal) ORDER BY ordinal")
    loader.insert_from("journal_lines", "taxaudit_staged_lines ANTI JOIN taxaudit_duplicates USING (ordinal) "
                                        "ORDER BY ordinal, position")
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
    return Excluded(*row)
