"""The demo plants known irregularities; every one must be found by the check the answer key names."""

from __future__ import annotations

import json

from taxaudit.demo import run_demo
from taxaudit.store import open_case

PLANTED = {"weekend_posting", "numbering_gap", "unbalanced_entry", "backdated_entry", "entered_after_closing",
           "changed_after_closing", "changed_entry", "deleted_entry", "voided_entry", "duplicate_payment",
           "benford_distortion"}


def test_demo_finds_every_planted_irregularity_and_writes_the_report(tmp_path, record_property):
    summary = run_demo(tmp_path / "demo", seed=42)
    checks = summary["checks"]
    assert checks["planted_missed"] == []
    assert checks["planted"] == checks["planted_found"] == len(PLANTED)
    # Findings not planted: the synthetic company also posts on Norwegian public holidays, keys some purchase
    # invoices on Saturdays and pays rent in round 45 000.00. Recorded, not asserted, as the issue asks.
    record_property("other_findings", checks["other_findings"])
    print(f"other findings: {checks['other_findings']} of {checks['findings']}")
    assert summary["audit_trail"]["rows_quarantined"] == 0 and summary["custody"]["ok"]
    with open_case(tmp_path / "demo", read_only=True) as case:
        kinds = {row[0] for row in case.con.execute("SELECT DISTINCT status FROM journal_entries").fetchall()}
        assert {"posted", "changed", "deleted", "voided"} <= kinds
        actions = [e.action for e in case.events()]
    assert actions.count("report_written") == 2 and actions.count("check_run") >= 20
    html = (tmp_path / "demo" / "reports" / "books-report.html").read_text(encoding="utf-8")
    assert "Invoice SALG-2025-000100" in html and "<svg" in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert json.loads(json.dumps(summary, default=str))["report"]["xlsx"].endswith("books-report.xlsx")
