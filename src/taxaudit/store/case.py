"""Open and create case directories: ``case.duckdb``, ``evidence/``, ``custody.jsonl``, ``reports/``."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from taxaudit.errors import CaseError
from taxaudit.model.schema import SCHEMA_VERSION, create_statements
from taxaudit.store.custody import CustodyLog, Event, current_actor

DB_NAME = "case.duckdb"
LOG_NAME = "custody.jsonl"
EVIDENCE_DIR = "evidence"
REPORTS_DIR = "reports"
CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class UnitOfWork:
    """Events staged inside one database transaction; they reach the log only if it commits."""

    items: list[tuple[str, str, str | None, dict[str, Any]]] = field(default_factory=list)
    on_rollback: list[Any] = field(default_factory=list)
    committed: list[Event] = field(default_factory=list)  # the events as written, once the unit has committed

    def log(self, action: str, subject: str, sha256: str | None = None, **details: Any) -> None:
        """Stage a custody event (action, subject, optional file hash, details)."""
        self.items.append((action, subject, sha256, details))


class Case:
    """An open case directory. Use :func:`init_case` or :func:`open_case` to get one."""

    def __init__(self, root: Path, *, read_only: bool = False) -> None:
        self.root = root
        self.read_only = read_only
        self.custody = CustodyLog(root / LOG_NAME)
        config = {"enable_external_access": False} if read_only else {}
        try:
            self.con = duckdb.connect(str(root / DB_NAME), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            raise CaseError(
                f"cannot open the case database: {exc}",
                where=str(root / DB_NAME),
                hint="close any other taxaudit process working on this case and try again",
            ) from exc

    @property
    def evidence_dir(self) -> Path:
        return self.root / EVIDENCE_DIR

    @property
    def reports_dir(self) -> Path:
        return self.root / REPORTS_DIR

    def evidence_path(self, sha256: str) -> Path:
        return self.evidence_dir / sha256

    def country(self) -> str | None:
        """Return the case's country code (ISO 3166 alpha-2), if recorded."""
        rows = self.con.execute("SELECT country FROM case_info").fetchall()  # fetchall: leave no open result
        return rows[0][0] if rows else None

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """Run a block in one database transaction and append its custody events atomically with it.

        The events are appended (and fsynced) before COMMIT and the database records the new chain head in
        the same transaction; if anything fails the transaction is rolled back, the log truncated to its
        previous size and every registered rollback action run, leaving the case exactly as it was.
        """
        if self.read_only:
            raise CaseError("this case was opened read-only", where=str(self.root))
        work = UnitOfWork()
        self.con.execute("BEGIN TRANSACTION")
        log_size: int | None = None
        try:
            yield work
            events = self.custody.make_events(work.items) if work.items else []
            if events:
                self.con.execute("DELETE FROM custody_head")
                self.con.execute("INSERT INTO custody_head VALUES (?, ?)", [events[-1].seq, events[-1].hash])
                log_size = self.custody.append(events)
            self.con.execute("COMMIT")
            work.committed = events
        except BaseException:
            with suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            if log_size is not None:
                self.custody.truncate(log_size)
            for undo in reversed(work.on_rollback):
                undo()
            raise

    def record(self, action: str, subject: str, sha256: str | None = None, **details: Any) -> Event:
        """Log one custody event on its own (e.g. a report written) and return it."""
        with self.unit_of_work() as work:
            work.log(action, subject, sha256, **details)
        return work.committed[-1]

    def events(self) -> list[Event]:
        """Return every event of the custody log (unverified; use :func:`verify_case` to check it)."""
        import json

        return [Event(**json.loads(text)) for _, text in self.custody.read_raw() if text]

    def store_evidence(self, source: Path) -> tuple[str, Path, bool]:
        """Copy a file into ``evidence/`` named by its SHA-256 and made read-only.

        Returns (sha256, evidence path, created) where ``created`` is False when the same bytes were
        already held. The copy is hashed while it is written, so the hash names exactly the bytes kept.
        """
        self.evidence_dir.mkdir(exist_ok=True)
        temp = self.evidence_dir / f".incoming-{uuid.uuid4().hex}"
        digest = hashlib.sha256()
        try:
            with source.open("rb") as src, temp.open("wb") as dst:
                while block := src.read(CHUNK):
                    digest.update(block)
                    dst.write(block)
                dst.flush()
                os.fsync(dst.fileno())
            sha = digest.hexdigest()
            target = self.evidence_path(sha)
            if target.exists():
                temp.unlink()
                return sha, target, False
            os.chmod(temp, 0o444)
            os.replace(temp, target)
            return sha, target, True
        finally:
            if temp.exists():
                temp.unlink()


def _is_case(root: Path) -> bool:
    return (root / DB_NAME).is_file() and (root / LOG_NAME).exists()


def init_case(directory: str | os.PathLike[str], *, country: str | None = None, title: str | None = None) -> Case:
    """Create a new case directory with the canonical tables and an opening custody event."""
    root = Path(directory)
    if _is_case(root):
        raise CaseError("a case already exists here", where=str(root), hint="open it, or choose another directory")
    if root.exists() and any(root.iterdir()):
        raise CaseError(
            "the directory exists and is not empty",
            where=str(root),
            hint="give a new or empty directory for the case",
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / EVIDENCE_DIR).mkdir()
    (root / REPORTS_DIR).mkdir()
    (root / LOG_NAME).touch()
    case = Case(root)
    try:
        for statement in create_statements():
            case.con.execute(statement)
        case_id = uuid.uuid4().hex
        with case.unit_of_work() as work:
            case.con.execute(
                "INSERT INTO case_info VALUES (?, ?, ?, ?, ?)",
                [case_id, datetime.now(UTC).replace(tzinfo=None), SCHEMA_VERSION, country, title],
            )
            work.log("case_created", case_id, None, country=country, title=title,
                     schema_version=SCHEMA_VERSION, by=current_actor())
    except BaseException:
        case.close()
        shutil.rmtree(root, ignore_errors=True)
        raise
    return case


def open_case(directory: str | os.PathLike[str], *, read_only: bool = False) -> Case:
    """Open an existing case directory; raise :class:`CaseError` with a hint when it is not one."""
    root = Path(directory)
    if not _is_case(root):
        raise CaseError(
            "not a taxaudit case directory (no case.duckdb and custody.jsonl)",
            where=str(root),
            hint=f"create one with: taxaudit case init {root}",
        )
    case = Case(root, read_only=read_only)
    # Stages added after a case was created may bring new canonical tables; create them on open.
    if not read_only:
        for statement in create_statements():
            case.con.execute(statement)
    return case
