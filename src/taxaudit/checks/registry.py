"""The check registry: each check is a registered function ``(case, options) -> Iterable[Finding]``.

A check carries an id, title, severity, citation and version. Running a check replaces that check's earlier
findings in the case and logs a ``check_run`` custody event with the check version and the options used, in
one unit of work, so a finding can always be traced to the code and parameters that produced it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa

from taxaudit.errors import TaxauditError
from taxaudit.model.finding import Finding
from taxaudit.store.case import Case


class CheckError(TaxauditError):
    """A check id is unknown or a check cannot run on this case."""


@dataclass(frozen=True)
class CheckOptions:
    """Thresholds of the journal-entry and audit-trail tests; the defaults are the examiner's usual starting point.

    ``closing_date``: the books' closing date; when None each source's period end plus ``closing_grace_days``.
    """

    closing_date: date | None = None
    closing_grace_days: int = 30
    backdate_days: int = 30
    round_unit: Decimal = Decimal("1000")
    round_minimum: Decimal = Decimal("10000")
    approval_thresholds: tuple[Decimal, ...] = (Decimal("10000"), Decimal("50000"), Decimal("100000"))
    below_threshold_margin: Decimal = Decimal("0.05")
    duplicate_window_days: int = 7
    rare_pair_max: int = 2
    seldom_account_max: int = 3
    business_hours: tuple[int, int] = (6, 20)
    rare_user_share: float = 0.01
    period_end_days: int = 3
    benford_minimum: Decimal = Decimal("10")
    benford_rows_per_digit: int = 25
    benford_minimum_count: int = 500
    max_findings: int = 500

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=str))


CheckFunction = Callable[[Case, CheckOptions], Iterable[Finding]]


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: what it is called, how serious a hit is, what authority it rests on."""

    check_id: str
    title: str
    severity: str
    citation: str
    version: str
    function: CheckFunction = field(repr=False)

    def finding(self, message: str, *, subject_table: str | None, subject_key: str | None,
                amount: Decimal | None = None, evidence: dict[str, Any] | None = None,
                severity: str | None = None) -> Finding:
        """Return a Finding stamped with this check's id, citation and version."""
        return Finding(self.check_id, severity or self.severity, message, subject_table, subject_key, amount,
                       self.citation, evidence or {}, self.version)


REGISTRY: dict[str, CheckSpec] = {}


def check(check_id: str, *, title: str, severity: str, citation: str,
          version: str = "1") -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as check ``check_id``."""

    def decorate(function: CheckFunction) -> CheckFunction:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id} is registered twice")
        REGISTRY[check_id] = CheckSpec(check_id, title, severity, citation, version, function)
        return function

    return decorate


def all_checks() -> dict[str, CheckSpec]:
    """Return every registered check by id, importing the check modules on first use."""
    from taxaudit.checks import audit_trail, benford, integrity, journal  # noqa: F401  (registers the checks)

    return dict(sorted(REGISTRY.items()))


def spec(check_id: str) -> CheckSpec:
    """Return the registered check ``check_id`` or raise CheckError naming the known ids."""
    checks = all_checks()
    if check_id not in checks:
        raise CheckError(f"unknown check {check_id!r}", hint=f"use one of: {', '.join(checks)}")
    return checks[check_id]


@dataclass
class CheckRun:
    """The outcome of one check on a case."""

    check_id: str
    version: str
    findings: list[Finding]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "version": self.version, "findings": len(self.findings),
                "seconds": round(self.seconds, 3)}


_FINDINGS_SCHEMA = pa.schema([
    ("finding_id", pa.string()), ("check_id", pa.string()), ("check_version", pa.string()),
    ("severity", pa.string()), ("subject_table", pa.string()), ("subject_key", pa.string()),
    ("amount", pa.decimal128(18, 2)), ("message", pa.string()), ("citation", pa.string()),
    ("evidence", pa.string()), ("created_at", pa.timestamp("us")),
])


def store_findings(con: Any, findings: Sequence[Finding]) -> None:
    """Insert findings in one Arrow batch (a finding id that repeats keeps its last occurrence)."""
    if not findings:
        return
    rows = {f.finding_id: f.row() for f in findings}
    columns = list(zip(*rows.values(), strict=True))
    table = pa.table([pa.array(col, type=typ) for col, typ in zip(columns, _FINDINGS_SCHEMA.types, strict=True)],
                     schema=_FINDINGS_SCHEMA)
    con.register("taxaudit_findings_batch", table)
    try:
        con.execute("INSERT OR REPLACE INTO findings SELECT * FROM taxaudit_findings_batch")
    finally:
        con.unregister("taxaudit_findings_batch")


def run_checks(case: Case, only: Sequence[str] | None = None, options: CheckOptions | None = None,
               progress: Callable[[str, int, int], None] | None = None) -> list[CheckRun]:
    """Run the selected checks (all when ``only`` is empty), replacing their findings; return one run per check."""
    options = options or CheckOptions()
    checks = all_checks()
    selected = [spec(check_id) for check_id in only] if only else list(checks.values())
    runs: list[CheckRun] = []
    prepare_run(case)
    for number, item in enumerate(selected):
        if progress:
            progress(item.check_id, number, len(selected))
        started = time.perf_counter()
        with case.unit_of_work() as work:
            findings = list(item.function(case, options))
            case.con.execute("DELETE FROM findings WHERE check_id = ?", [item.check_id])
            store_findings(case.con, findings)
            work.log("check_run", item.check_id, None, check_version=item.version, findings=len(findings),
                     options=options.to_dict())
        runs.append(CheckRun(item.check_id, item.version, findings, time.perf_counter() - started))
    if progress:
        progress("", len(selected), len(selected))
    return runs


def sql_findings(case: Case, check_id: str, sql: str, params: Sequence[Any] = (),
                 severity: Callable[[dict[str, Any]], str] | None = None) -> list[Finding]:
    """Return one finding per row of ``sql`` for check ``check_id``.

    The query yields ``subject_table, subject_key, amount, message, evidence`` (evidence a JSON text) and does
    all the work in DuckDB, so Python only wraps the hits.
    """
    item = REGISTRY[check_id]
    if "@ENTRY_TOTALS@" in sql and not case.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'taxaudit_entry_totals'"
    ).fetchall()[0][0]:
        prepare_run(case)  # a check called on its own, outside run_checks
    for name, fragment in SQL_FRAGMENTS.items():
        sql = sql.replace(f"@{name}@", f"({fragment})")
    rows = case.con.execute(sql, list(params)).fetchall()
    out = []
    for subject_table, subject_key, amount, message, evidence in rows:
        payload = json.loads(evidence) if isinstance(evidence, str) else (evidence or {})
        out.append(item.finding(message, subject_table=subject_table, subject_key=subject_key,
                                amount=None if amount is None else Decimal(amount), evidence=payload,
                                severity=severity(payload) if severity else None))
    return out


# Lines of entries still in the books: a deleted or voided entry is reported by the audit-trail checks and must
# not also count as a posting, a balance or a Benford observation.
LIVE_LINES = """
    SELECT l.*, e.journal_id, e.posting_date, e.created_at, e.created_by, e.description AS entry_description
    FROM journal_lines l JOIN journal_entries e USING (source_id, entry_id)
    WHERE e.status NOT IN ('deleted', 'voided')
"""
LIVE_ENTRIES = "SELECT * FROM journal_entries WHERE status NOT IN ('deleted', 'voided')"
# Named SQL fragments a check's query may use as @NAME@ (substituted as a parenthesised subquery or expression).
SQL_FRAGMENTS = {
    "LIVE_LINES": LIVE_LINES,
    "LIVE_ENTRIES": LIVE_ENTRIES,
    "LINE_AMOUNT": "greatest(debit, credit)",
    # Debit/credit totals and line count per entry, computed once per run_checks (see prepare_run).
    "ENTRY_TOTALS": "SELECT * FROM taxaudit_entry_totals",
    # Lines of live entries when only line columns are needed: an anti-join against the few deleted or voided
    # entries is far cheaper on a large ledger than joining every line to its entry.
    "LIVE_LINE_ROWS": "SELECT * FROM journal_lines ANTI JOIN (SELECT source_id, entry_id FROM journal_entries "
                      "WHERE status IN ('deleted', 'voided')) USING (source_id, entry_id)",
}


def prepare_run(case: Case) -> None:
    """Materialise per-entry totals in a temporary table shared by the checks of one run (one pass over the
    lines instead of one per check)."""
    case.con.execute("CREATE OR REPLACE TEMP TABLE taxaudit_entry_totals AS "
                     "SELECT source_id, entry_id, sum(debit) AS debit, sum(credit) AS credit, count(*) AS lines "
                     "FROM journal_lines GROUP BY source_id, entry_id")
