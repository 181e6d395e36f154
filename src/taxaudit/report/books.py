"""The books report: can these books be trusted, and where should the examiner look?

One self-contained HTML file (sources with SHA-256, findings grouped by check with counts, amounts and evidence
rows, inline SVG charts) and an XLSX workbook (a summary sheet and one sheet per check with its evidence rows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from taxaudit import __version__
from taxaudit.checks.benford import TESTS, Z_CRITICAL, BenfordResult, benford_test
from taxaudit.checks.registry import LIVE_ENTRIES, LIVE_LINES, CheckError, CheckOptions, all_checks
from taxaudit.report import charts
from taxaudit.report.html import render_html
from taxaudit.report.xlsx import add_table_sheet, new_workbook
from taxaudit.store.case import Case, sha256_file

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Account classes by the first digit of the account number (NS 4102 / most European charts); QuickBooks
# accounts without numbers fall back to their account type.
ACCOUNT_CLASSES = {"1": "1 assets", "2": "2 equity and liabilities", "3": "3 revenue", "4": "4 cost of goods",
                   "5": "5 payroll", "6": "6 operating expenses", "7": "7 other operating expenses",
                   "8": "8 financial items", "9": "9 other"}
EVIDENCE_KEYS = ("entry_id", "line_no", "account_id", "party_id", "entry_ids", "posting_date", "created_at",
                 "created_by", "changed_at", "changed_by", "debit_account", "credit_account", "month", "holiday",
                 "threshold", "digit", "z", "days_late", "closing_date")


@dataclass
class CheckSection:
    check_id: str
    title: str
    severity: str
    citation: str
    version: str | None
    ran: bool
    count: int = 0
    amount: Decimal | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)


def _evidence_summary(evidence: dict[str, Any], message: str) -> str:
    """Return the evidence keys a reader needs beyond the message (values the message already shows are left
    out)."""
    parts = []
    for key in EVIDENCE_KEYS:
        value = evidence.get(key)
        if value is None or value == "" or (not isinstance(value, list) and str(value)[:16] in message):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value[:8]) + (" …" if len(value) > 8 else "")
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)


def _sections(case: Case, evidence_rows: int) -> list[CheckSection]:
    registry = all_checks()
    ran = {event.subject for event in case.events() if event.action == "check_run"}
    stats = {row[0]: row[1:] for row in case.con.execute(
        "SELECT check_id, count(*), sum(amount), any_value(check_version), any_value(citation) "
        "FROM findings GROUP BY 1").fetchall()}
    sections = []
    for check_id in sorted(set(registry) | set(stats)):
        item = registry.get(check_id)
        count, amount, version, citation = stats.get(check_id, (0, None, None, None))
        section = CheckSection(check_id, item.title if item else check_id, item.severity if item else "medium",
                               item.citation if item else (citation or ""), item.version if item else version,
                               check_id in ran or check_id in stats, count, amount)
        if count:
            rows = case.con.execute(
                "SELECT severity, subject_table, subject_key, amount, message, evidence FROM findings "
                "WHERE check_id = ? ORDER BY amount DESC NULLS LAST, subject_key LIMIT ?",
                [check_id, evidence_rows]).fetchall()
            for severity, table, key, row_amount, message, evidence in rows:
                payload = json.loads(evidence) if evidence else {}
                section.rows.append({"severity": severity, "subject_table": table, "subject_key": key,
                                     "amount": row_amount, "message": message, "evidence": payload,
                                     "evidence_text": _evidence_summary(payload, message)})
        sections.append(section)
    sections.sort(key=lambda s: (s.count == 0, SEVERITY_ORDER.get(s.severity, 9), s.check_id))
    return sections


def _benford(case: Case) -> list[dict[str, Any]]:
    out = []
    for test in TESTS:
        try:
            result: BenfordResult = benford_test(case, test)
        except CheckError:
            continue
        labels = [str(row.digit) for row in result.rows]
        chart = charts.bars_with_expected(
            labels, [row.observed_share for row in result.rows], [row.expected_share for row in result.rows],
            title=f"Benford {test}-digit test", percent=True, label_every=1 if len(labels) <= 10 else 5,
            highlight=[row.z > Z_CRITICAL and row.observed_share > row.expected_share for row in result.rows])
        spikes = sorted((r for r in result.rows if r.z > Z_CRITICAL and r.observed_share > r.expected_share),
                        key=lambda r: r.z, reverse=True)[:5]
        out.append({"test": test, "result": result, "chart": chart, "spikes": spikes})
    return out


def _activity_charts(case: Case) -> dict[str, str]:
    con = case.con
    weekday = dict(con.execute(f"SELECT isodow(posting_date), count(*) FROM ({LIVE_ENTRIES}) "
                               "WHERE posting_date IS NOT NULL GROUP BY 1").fetchall())
    hour = dict(con.execute(f"SELECT hour(created_at), count(*) FROM ({LIVE_ENTRIES}) "
                            "WHERE created_at IS NOT NULL GROUP BY 1").fetchall())
    monthly = con.execute(f"""
        WITH l AS ({LIVE_LINES})
        SELECT strftime(date_trunc('month', l.posting_date), '%Y-%m') AS month,
               coalesce(CASE WHEN regexp_matches(coalesce(a.standard_account, ''), '^[1-9]')
                             THEN left(a.standard_account, 1) END,
                        CASE WHEN regexp_matches(l.account_id, '^[1-9]') THEN left(l.account_id, 1) END,
                        a.type, 'other') AS class,
               sum(l.debit) AS debit
        FROM l LEFT JOIN accounts a USING (source_id, account_id)
        WHERE l.posting_date IS NOT NULL GROUP BY ALL ORDER BY 1, 2""").fetchall()
    months = sorted({m for m, _, _ in monthly})
    classes = sorted({c for _, c, _ in monthly})
    table = {(m, c): float(v or 0) for m, c, v in monthly}
    series = [(ACCOUNT_CLASSES.get(c, c), [table.get((m, c), 0.0) for m in months]) for c in classes]
    out = {
        "weekday": charts.bars_with_expected(list(WEEKDAYS), [weekday.get(i + 1, 0) for i in range(7)], None,
                                             title="Entries by posting weekday", observed_name="entries",
                                             highlight=[False] * 5 + [True, True],
                                             highlight_name="weekend"),
        "monthly": charts.lines([m[2:] for m in months], series, title="Monthly debit totals by account class")
        if months else "",
    }
    if hour:
        out["hour"] = charts.bars_with_expected([f"{h:02d}" for h in range(24)], [hour.get(h, 0) for h in range(24)],
                                                None, title="Entries by hour keyed", observed_name="entries",
                                                label_every=2,
                                                highlight=[h < 6 or h >= 20 for h in range(24)],
                                                highlight_name="outside 06-20")
    return out


def books_report_data(case: Case, *, evidence_rows: int = 100) -> dict[str, Any]:
    """Return everything the books report shows: case, sources, sections per check, Benford tables, charts."""
    info = case.con.execute("SELECT case_id, title, country, created_at FROM case_info").fetchall()
    case_id, title, country, created = info[0] if info else (None, None, None, None)
    sources = [dict(zip(("file_name", "format", "format_version", "sha256", "rows_read", "rows_loaded",
                         "rows_quarantined", "imported_at"), row, strict=True))
               for row in case.con.execute(
                   "SELECT file_name, format, format_version, sha256, rows_read, rows_loaded, rows_quarantined, "
                   "imported_at FROM sources ORDER BY imported_at, file_name").fetchall()]
    totals = case.con.execute("SELECT count(*), coalesce(sum(debit), 0), coalesce(sum(credit), 0), "
                              "min(e.posting_date), max(e.posting_date) FROM journal_lines l "
                              "JOIN journal_entries e USING (source_id, entry_id)").fetchone()
    entries = case.con.execute("SELECT status, count(*) FROM journal_entries GROUP BY 1 ORDER BY 1").fetchall()
    sections = _sections(case, evidence_rows)
    return {
        "title": f"Books analytics — {title or case.root.name}",
        "benford_minimum_count": CheckOptions().benford_minimum_count,
        "case": {"case_id": case_id, "title": title, "country": country, "created_at": created,
                 "root": str(case.root)},
        "sources": sources,
        "ledger": {"lines": totals[0], "debit": totals[1], "credit": totals[2], "first": totals[3],
                   "last": totals[4], "entries_by_status": entries},
        "sections": sections,
        "with_findings": [s for s in sections if s.count],
        "total_findings": sum(s.count for s in sections),
        "benford": _benford(case),
        "charts": _activity_charts(case),
        "evidence_rows": evidence_rows,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "taxaudit_version": __version__,
    }


def _default_out(case: Case, suffix: str) -> Path:
    return case.reports_dir / f"books-report.{suffix}"


def write_books_html(case: Case, out: Path | None = None, *, evidence_rows: int = 100) -> Path:
    """Write the self-contained HTML books report and log it in the custody chain; return its path."""
    out = Path(out) if out else _default_out(case, "html")
    data = books_report_data(case, evidence_rows=evidence_rows)
    html = render_html("books.html.j2", data)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    case.record("report_written", out.name, sha256_file(out), format="html", path=str(out),
                findings=data["total_findings"])
    return out


def write_books_xlsx(case: Case, out: Path | None = None) -> Path:
    """Write the XLSX books report (summary sheet, sources, one sheet per check with evidence rows) and log it."""
    out = Path(out) if out else _default_out(case, "xlsx")
    data = books_report_data(case, evidence_rows=0)
    workbook = new_workbook()
    add_table_sheet(workbook, "Summary", ["check_id", "title", "severity", "findings", "amount", "ran", "citation"],
                    [[s.check_id, s.title, s.severity, s.count, s.amount, "yes" if s.ran else "no", s.citation]
                     for s in data["sections"]], money_columns=["amount"],
                    note=f"{data['title']} — generated {data['generated_at']} by taxaudit {__version__}")
    add_table_sheet(workbook, "Sources", ["file_name", "format", "format_version", "sha256", "rows_read",
                                          "rows_loaded", "rows_quarantined", "imported_at"],
                    [list(s.values()) for s in data["sources"]])
    keys = ["source_id", "entry_id", "line_no", "account_id", "party_id", "posting_date", "created_at", "created_by",
            "changed_at", "changed_by"]
    for section in data["with_findings"]:
        cursor = case.con.execute(
            "SELECT subject_key, severity, amount, message, evidence FROM findings WHERE check_id = ? "
            "ORDER BY amount DESC NULLS LAST, subject_key", [section.check_id])
        rows = []
        for subject_key, severity, amount, message, evidence in cursor.fetchall():
            payload = json.loads(evidence) if evidence else {}
            extra = {k: v for k, v in payload.items() if k not in keys}
            rows.append([subject_key, severity, amount, message, *[_scalar(payload.get(k)) for k in keys],
                         json.dumps(extra, ensure_ascii=False, default=str) if extra else None])
        add_table_sheet(workbook, section.check_id, ["subject_key", "severity", "amount", "message", *keys,
                                                     "other_evidence"],
                        rows, money_columns=["amount"], note=f"{section.title} — {section.citation}")
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out)
    case.record("report_written", out.name, sha256_file(out), format="xlsx", path=str(out),
                findings=data["total_findings"])
    return out


def _scalar(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value
