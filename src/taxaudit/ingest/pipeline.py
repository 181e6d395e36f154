"""Ingest files into a case: evidence copy, format detection, parse, load, quarantine, custody events.

All files of one call are ingested in a single transaction: a fatal error in any of them (not XML, hostile
XML, unreadable encoding, wrong mapping) leaves the case exactly as it was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import duckdb

from taxaudit.errors import IngestError
from taxaudit.ingest.loader import Loader
from taxaudit.model.finding import Finding, insert_findings
from taxaudit.model.money import fmt
from taxaudit.store.case import Case
from taxaudit.store.custody import current_actor

Progress = Callable[[str, int, int], None]


@dataclass
class IngestOptions:
    """What the user asked for: format, CSV mapping, XSD validation."""

    format: str = "auto"
    mapping: str | None = None
    validate: bool = False
    schema: str | None = None
    memory_limit: str = field(default_factory=lambda: os.environ.get("TAXAUDIT_INGEST_MEMORY", "128MB"))


@dataclass
class ParseOutcome:
    """What a format parser reports besides the rows it gave the loader."""

    format_version: str | None
    rows_read: int
    rows_loaded: int | None = None  # when one source row fills several table rows (e.g. a CSV posting)
    header: dict[str, Any] | None = None
    findings: list[Finding] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


class FormatModule(Protocol):
    NAME: str

    def sniff(self, head: bytes) -> bool: ...

    def parse(self, path: Path, loader: Loader, options: IngestOptions,
              progress: Callable[[int], None]) -> ParseOutcome: ...


@dataclass
class IngestResult:
    """One source's outcome, as printed by ``taxaudit ingest --json``."""

    source_id: str
    sha256: str
    path: str
    format: str
    format_version: str | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    entries: int
    lines: int
    total_debit: Decimal
    total_credit: Decimal
    already_present: bool = False
    findings: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id, "sha256": self.sha256, "path": self.path, "format": self.format,
            "format_version": self.format_version, "rows_read": self.rows_read, "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined, "entries": self.entries, "lines": self.lines,
            "total_debit": fmt(self.total_debit), "total_credit": fmt(self.total_credit),
            "already_present": self.already_present, "findings": self.findings,
            "quarantine_reasons": self.quarantine_reasons,
        }


def format_modules() -> dict[str, FormatModule]:
    """Return the registered format modules by name, in sniffing order."""
    from taxaudit.ingest import csv_ledger, quickbooks, saft

    return {"saft": saft, "iif": quickbooks.IIF, "qb_audit_trail": quickbooks.AUDIT_TRAIL, "csv": csv_ledger}


def detect_format(path: Path, options: IngestOptions, name: str | None = None) -> str:
    """Return the format name for a file: the one asked for, or the first module whose sniffer accepts it."""
    modules = format_modules()
    if options.format != "auto":
        if options.format not in modules:
            raise IngestError(f"unknown format {options.format!r}", where=str(path),
                              hint=f"use one of: auto, {', '.join(modules)}")
        return options.format
    if options.mapping:
        return "csv"
    with path.open("rb") as handle:
        head = handle.read(65536)
    for name, module in modules.items():
        if module.sniff(head):
            return name
    raise IngestError(
        "cannot tell what format this file is",
        where=name or str(path),
        hint="give --format explicitly; CSV ledgers need --mapping FILE (see README, 'CSV mappings')",
    )


def _existing_source(case: Case, sha256: str) -> IngestResult | None:
    row = case.con.execute(
        "SELECT source_id, path, format, format_version, rows_read, rows_loaded, rows_quarantined FROM sources "
        "WHERE sha256 = ?", [sha256]).fetchone()
    if row is None:
        return None
    source_id = row[0]
    entries, lines, debit, credit = case.con.execute(
        "SELECT (SELECT count(*) FROM journal_entries WHERE source_id = $1), count(*), "
        "coalesce(sum(debit), 0), coalesce(sum(credit), 0) FROM journal_lines WHERE source_id = $1",
        [source_id]).fetchone()
    return IngestResult(source_id, sha256, row[1], row[2], row[3], row[4], row[5], row[6], entries, lines,
                        Decimal(debit), Decimal(credit), already_present=True)


def _ingest_one(case: Case, path: Path, options: IngestOptions, progress: Progress, work: Any) -> IngestResult:
    if not path.is_file():
        raise IngestError("no such file", where=str(path), hint="check the path")
    sha256, evidence, created = case.store_evidence(path)
    existing = _existing_source(case, sha256)
    if existing is not None:
        if created:  # never let a re-ingest silently restore evidence that went missing: verify must see it
            evidence.chmod(0o644)
            evidence.unlink()
        return existing
    if created:
        work.on_rollback.append(lambda: (evidence.chmod(0o644), evidence.unlink()))
    source_id = sha256[:16]
    fmt_name = detect_format(evidence, options, str(path))
    module = format_modules()[fmt_name]
    size = evidence.stat().st_size
    label = path.name
    case.con.execute(
        "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, 0, 0, 0, ?)",
        [source_id, str(path.resolve()), path.name, sha256, size, fmt_name,
         datetime.now(UTC).replace(tzinfo=None), current_actor(),
         json.dumps({"format": options.format, "mapping": options.mapping, "validate": options.validate})],
    )
    loader = Loader(case.con, source_id, case.root / ".staging" / source_id, source_name=path.name)
    progress(label, 0, size)
    try:
        outcome = module.parse(evidence, loader, options, lambda done: progress(label, done, size))
    except BaseException:
        loader.close()
        raise
    loader.flush()
    progress(label, size, size)
    rows_loaded = loader.rows_loaded() if outcome.rows_loaded is None else outcome.rows_loaded
    if outcome.rows_read != rows_loaded + loader.quarantined:
        raise RuntimeError(  # a parser bug, never a user error: refuse to record an inconsistent load
            f"{fmt_name} parser read {outcome.rows_read} rows but loaded {rows_loaded} and quarantined "
            f"{loader.quarantined}")
    case.con.execute(
        "UPDATE sources SET format_version = ?, rows_read = ?, rows_loaded = ?, rows_quarantined = ? "
        "WHERE source_id = ?", [outcome.format_version, outcome.rows_read, rows_loaded, loader.quarantined, source_id])
    if outcome.header:
        header = {"source_id": source_id, **outcome.header}
        columns = ", ".join(header)
        case.con.execute(f"INSERT INTO source_headers ({columns}) VALUES ({', '.join('?' * len(header))})",
                         list(header.values()))
    insert_findings(case.con, outcome.findings)
    totals = loader.totals
    work.log("source_added", path.name, sha256, source_id=source_id, path=str(path.resolve()), size_bytes=size,
             format=fmt_name, format_version=outcome.format_version)
    work.log("rows_loaded", source_id, sha256, rows_read=outcome.rows_read, rows_loaded=rows_loaded,
             by_table=dict(loader.loaded), entries=totals.entries, lines=totals.lines,
             total_debit=fmt(totals.debit), total_credit=fmt(totals.credit), **outcome.details)
    if loader.quarantined:
        work.log("rows_quarantined", source_id, sha256, rows_quarantined=loader.quarantined,
                 reasons=dict(loader.quarantine_reasons))
    for finding in outcome.findings:
        work.log("finding_raised", finding.check_id, None, finding_id=finding.finding_id, severity=finding.severity,
                 message=finding.message)
    return IngestResult(source_id, sha256, str(path), fmt_name, outcome.format_version, outcome.rows_read, rows_loaded,
                        loader.quarantined, totals.entries, totals.lines, totals.debit, totals.credit,
                        findings=len(outcome.findings), quarantine_reasons=dict(loader.quarantine_reasons))


def ingest_files(case: Case, paths: Sequence[str | Path], options: IngestOptions | None = None,
                 progress: Progress | None = None) -> list[IngestResult]:
    """Ingest every file into the case in one transaction and return one result per file.

    A file whose SHA-256 is already in the case is a no-op (``already_present``). Every source row is either
    loaded or quarantined with a locator and reason: ``rows_read == rows_loaded + rows_quarantined``.
    """
    options = options or IngestOptions()
    progress = progress or (lambda label, done, total: None)
    results: list[IngestResult] = []
    # Bulk loads then stay within a bounded buffer pool (DuckDB spills to its temp folder beyond it).
    case.con.execute(f"SET memory_limit = '{options.memory_limit}'")
    try:
        with case.unit_of_work() as work:
            for raw in paths:
                results.append(_ingest_one(case, Path(raw), options, progress, work))
    except duckdb.OutOfMemoryException as exc:
        raise IngestError(
            f"the database ran out of its {options.memory_limit} working memory while loading: {exc}",
            where=", ".join(str(p) for p in paths),
            hint="nothing was loaded; allow more with TAXAUDIT_INGEST_MEMORY=512MB (or more) and ingest again",
        ) from exc
    finally:
        case.con.execute("RESET memory_limit")
    return results
