"""The estimate stage's tables in the case store: recorded rejections of the books, and estimates made.

A best-judgment assessment is lawful only after the books have been rejected as unreliable (CST v. H.M. Esufall,
[1973] INSC 84: "the courts will have to first see whether the accounts maintained by the assessee were rightly
rejected"), so the rejection, its reason and its legal authority are recorded in the case and in its custody
chain before any extrapolation runs.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from taxaudit.estimate.errors import BooksNotRejectedError, EstimateError
from taxaudit.store.case import Case
from taxaudit.store.custody import canonical_json, current_actor

TABLES = (
    """CREATE TABLE IF NOT EXISTS estimate_book_rejections (
        rejection_id VARCHAR PRIMARY KEY,
        recorded_at TIMESTAMP NOT NULL,
        recorded_by VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        authority VARCHAR NOT NULL,
        period_start DATE,
        period_end DATE
    )""",
    """CREATE TABLE IF NOT EXISTS estimates (
        estimate_id VARCHAR PRIMARY KEY,
        method VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        created_by VARCHAR NOT NULL,
        amount DECIMAL(18,2),
        result JSON NOT NULL,
        result_sha256 VARCHAR NOT NULL
    )""",
)


@dataclass(frozen=True)
class BookRejection:
    """A recorded decision that the taxpayer's books are unreliable, with its reason and legal authority."""

    rejection_id: str
    recorded_at: datetime
    recorded_by: str
    reason: str
    authority: str
    period_start: date | None
    period_end: date | None

    def covers(self, start: date, end: date) -> bool:
        """Return True when the rejection has no period or its period includes ``start`` .. ``end``."""
        return (self.period_start is None or self.period_start <= start) and (
            self.period_end is None or end <= self.period_end)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def ensure_tables(case: Case) -> None:
    """Create the stage's tables if they do not exist (read-only cases are left alone)."""
    if case.read_only:
        return
    for statement in TABLES:
        case.con.execute(statement)


def reject_books(case: Case, reason: str, authority: str, *, period_start: date | None = None,
                 period_end: date | None = None) -> BookRejection:
    """Record that the books are rejected, why, and under which authority; log ``books_rejected`` in custody."""
    reason, authority = (reason or "").strip(), (authority or "").strip()
    if not reason or not authority:
        raise EstimateError("both a reason and a legal authority are needed to reject the books",
                            hint='give --reason "what makes the books unreliable" and --authority "the provision"')
    if period_start and period_end and period_end < period_start:
        raise EstimateError("the rejection period ends before it starts", hint="swap --period-start/--period-end")
    ensure_tables(case)
    rejection = BookRejection(uuid.uuid4().hex[:12], datetime.now(UTC).replace(tzinfo=None), current_actor(),
                              reason, authority, period_start, period_end)
    with case.unit_of_work() as work:
        case.con.execute("INSERT INTO estimate_book_rejections VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [rejection.rejection_id, rejection.recorded_at, rejection.recorded_by, reason, authority,
                          period_start, period_end])
        work.log("books_rejected", rejection.rejection_id, None, reason=reason, authority=authority,
                 period_start=period_start, period_end=period_end)
    return rejection


def book_rejections(case: Case) -> list[BookRejection]:
    """Return every recorded rejection of the books, oldest first."""
    if not _has_table(case, "estimate_book_rejections"):
        return []
    rows = case.con.execute(
        "SELECT rejection_id, recorded_at, recorded_by, reason, authority, period_start, period_end "
        "FROM estimate_book_rejections ORDER BY recorded_at").fetchall()
    return [BookRejection(*row) for row in rows]


def require_books_rejected(case: Case, start: date, end: date) -> BookRejection:
    """Return the rejection covering ``start`` .. ``end``, or raise :class:`BooksNotRejectedError` saying how to
    record one (the legal precondition of a best-judgment assessment)."""
    rejections = book_rejections(case)
    for rejection in reversed(rejections):
        if rejection.covers(start, end):
            return rejection
    found = (f" ({len(rejections)} recorded rejection(s) do not cover {start}..{end})" if rejections else "")
    raise BooksNotRejectedError(
        "a best-judgment estimate needs the books to have been rejected first, and this case records no "
        f"rejection{found}",
        where=str(case.root),
        hint=(f'record it with: taxaudit estimate reject-books --case {case.root} --reason "why the books are '
              'unreliable" --authority "the legal provision, e.g. MP General Sales Tax Act 1958 s. 18(4)"'
              + (f" --period-start {start} --period-end {end}" if rejections else "")),
    )


def result_sha256(result: dict[str, Any]) -> str:
    """Return the SHA-256 of an estimate's canonical JSON (decimals as exact strings)."""
    return hashlib.sha256(canonical_json(result).encode("utf-8")).hexdigest()


def save_estimate(case: Case, method: str, result: dict[str, Any], amount: Decimal | None) -> tuple[str, str]:
    """Store an estimate's full result, log ``estimate_made`` with its hash, and return (estimate_id, sha256)."""
    ensure_tables(case)
    estimate_id = f"est-{uuid.uuid4().hex[:10]}"
    text = canonical_json(result)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with case.unit_of_work() as work:
        case.con.execute("INSERT INTO estimates VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [estimate_id, method, datetime.now(UTC).replace(tzinfo=None), current_actor(), amount, text,
                          sha])
        work.log("estimate_made", estimate_id, sha, method=method, amount=amount)
    return estimate_id, sha


def load_estimate(case: Case, estimate_id: str) -> dict[str, Any]:
    """Return a stored estimate (id, method, created_at, amount, result as parsed JSON, sha256)."""
    row = None
    if _has_table(case, "estimates"):
        row = case.con.execute(
            "SELECT estimate_id, method, created_at, created_by, amount, result, result_sha256 FROM estimates "
            "WHERE estimate_id = ?", [estimate_id]).fetchone()
    if row is None:
        known = []
        if _has_table(case, "estimates"):
            known = [r[0] for r in case.con.execute("SELECT estimate_id FROM estimates ORDER BY created_at").fetchall()]
        raise EstimateError(f"no estimate {estimate_id!r} in this case", where=str(case.root),
                            hint=("known estimates: " + ", ".join(known)) if known
                            else "make one first, e.g. taxaudit estimate extrapolate --case DIR ...")
    return {"estimate_id": row[0], "method": row[1], "created_at": row[2], "created_by": row[3], "amount": row[4],
            "result": json.loads(row[5]), "sha256": row[6]}


def _has_table(case: Case, name: str) -> bool:
    return bool(case.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0])
