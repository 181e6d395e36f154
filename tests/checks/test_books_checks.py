"""Each registered check on a small ledger with known irregularities, and on the QuickBooks fixtures."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from taxaudit.checks import CheckOptions, all_checks, run_checks
from taxaudit.checks.registry import CheckError
from taxaudit.ingest.pipeline import ingest_files
from taxaudit.store import init_case, verify_case

DATA = Path(__file__).parent.parent / "data" / "quickbooks"


def keys(runs, check_id):
    [run] = [r for r in runs if r.check_id == check_id]
    return sorted(f.subject_key for f in run.findings)


def test_registry_carries_id_title_severity_citation_version():
    checks = all_checks()
    assert len(checks) >= 20
    for check_id, item in checks.items():
        assert item.check_id == check_id and item.title and item.citation and item.version
        assert item.severity in {"info", "low", "medium", "high", "critical"}
    assert "integrity.header_control_totals" in checks


def test_integrity_checks(ledger_case):
    runs = run_checks(ledger_case, ["integrity.entry_balance", "integrity.entry_numbering",
                                    "integrity.header_control_totals", "integrity.trial_balance_rollforward"])
    assert keys(runs, "integrity.entry_balance") == ["GL-5"]
    [gap] = runs[1].findings
    assert gap.message == "Journal GL: entry number GL-4 is missing between GL-3 and GL-5"
    assert gap.evidence["missing_from"] == gap.evidence["missing_to"] == 4
    [control] = runs[2].findings
    assert control.evidence["declared"]["NumberOfEntries"] == 99 and control.evidence["loaded"]["NumberOfEntries"] == 13
    [roll] = runs[3].findings
    # bank: opening 1 000.00 + movements -(20 000 + 7 340 + 7 340 + 90 + 55 + 65 + 410) = -34 300.00 vs 9 999.00
    assert roll.evidence["computed_closing"] == "-34300.00" and roll.amount == Decimal("44299.00")


def test_journal_entry_tests(ledger_case):
    runs = run_checks(ledger_case, ["journal.weekend_postings", "journal.holiday_postings",
                                    "journal.duplicate_payments", "journal.round_amounts",
                                    "journal.below_threshold", "journal.missing_descriptions",
                                    "journal.rare_account_pairs", "journal.seldom_used_accounts"])
    assert keys(runs, "journal.weekend_postings") == ["AP-6", "GL-6", "GL-7"]  # 2025-06-07, 03-15, 05-17 Saturdays
    [holiday] = runs[1].findings
    assert holiday.subject_key == "GL-7" and holiday.evidence["holiday"] == "Constitution Day"
    [duplicate] = runs[2].findings
    assert duplicate.evidence["entry_ids"] == ["GL-2", "GL-3"] and duplicate.amount == Decimal("7340.00")
    assert keys(runs, "journal.round_amounts") == ["GL-1#1", "GL-1#2"]
    # six amounts within 5 % under 50 000 and none above: binomial p = 0.5**6 < 0.05
    assert len(keys(runs, "journal.below_threshold")) == 12
    assert keys(runs, "journal.missing_descriptions") == ["GL-8"]
    assert "7700/1920" in keys(runs, "journal.rare_account_pairs")
    assert keys(runs, "journal.seldom_used_accounts") == ["GL-1#1", "GL-8#1"] or \
        "GL-8#1" in keys(runs, "journal.seldom_used_accounts")


def test_audit_trail_checks_on_a_quickbooks_export(tmp_path):
    with init_case(tmp_path / "qb", country="US") as case:
        ingest_files(case, [DATA / "audit_trail.csv"])
        runs = run_checks(case, ["audit.after_closing_date", "audit.backdated_entries", "audit.changed_entries",
                                 "audit.deleted_entries", "audit.voided_entries", "audit.unusual_hours"],
                          CheckOptions(closing_date=date(2026, 1, 15)))
    assert keys(runs, "audit.after_closing_date") == ["Check 1042", "Deposit (entered 2025-12-15 11:02:19)",
                                                      "General Journal 17"]
    assert keys(runs, "audit.backdated_entries") == ["General Journal 17"]
    [changed] = runs[2].findings
    assert changed.amount == Decimal("4050.00")  # 4 500.00 before, 450.00 after
    assert changed.evidence["before"][0]["debit"] == "4500.00" and changed.evidence["after"]["debit"] == "450.00"
    assert "before: dated 2025-12-29, total 4500.00; after: dated 2025-12-29, total 450.00" in changed.message
    [deleted] = runs[3].findings
    assert deleted.amount == Decimal("2000.00") and deleted.evidence["changed_by"] == "Admin"
    [voided] = runs[4].findings
    assert voided.subject_key == "Check 1044" and voided.amount == Decimal("1250.00")
    # 28 Dec 2025 is a Sunday; the deletion was keyed at 22:47
    assert keys(runs, "audit.unusual_hours") == ["Check 1041", "General Journal 17"] or \
        "Check 1041" in keys(runs, "audit.unusual_hours")


def test_rerun_replaces_findings_and_logs_the_version(ledger_case):
    run_checks(ledger_case, ["journal.weekend_postings"])
    run_checks(ledger_case, ["journal.weekend_postings"])
    count = ledger_case.con.execute("SELECT count(*) FROM findings WHERE check_id = 'journal.weekend_postings'")
    assert count.fetchone() == (3,)
    events = [e for e in ledger_case.events() if e.action == "check_run"]
    assert len(events) == 2 and events[-1].details["check_version"] == "1"
    stored = ledger_case.con.execute("SELECT evidence FROM findings LIMIT 1").fetchone()[0]
    assert json.loads(stored)["source_id"] == "src1"
    ledger_case.close()
    assert verify_case(ledger_case.root).ok


def test_unknown_check_is_a_clear_error(ledger_case):
    with pytest.raises(CheckError) as raised:
        run_checks(ledger_case, ["journal.nope"])
    assert "journal.weekend_postings" in raised.value.hint


def test_duplicate_numbers_user_pattern_and_period_end_clustering(ledger_case):
    from datetime import datetime

    from books_ledger import add_entry

    con = ledger_case.con
    add_entry(con, "GL-08", date(2025, 3, 20), [("6800", "10.00", "0"), ("1920", "0", "10.00")])
    # 110 sales entries keyed by ANNE and one by PER, who never keys sales (under 1 % of the journal); 30 of
    # them in the last 3 days of September: 27 % of the month's entries in 10 % of its days.
    for n in range(110):
        day = date(2025, 9, 28 + n % 3) if n < 30 else date(2025, 9, 1 + n % 20)
        add_entry(con, f"S-{n + 1}", day, [("1500", "100.00", "0"), ("3000", "0", "100.00")], journal="S")
    add_entry(con, "S-111", date(2025, 9, 10), [("1500", "100.00", "0"), ("3000", "0", "100.00")], journal="S",
              user="PER", created_at=datetime(2025, 9, 10, 12, 0))
    runs = run_checks(ledger_case, ["integrity.entry_numbering", "audit.rare_user_journal",
                                    "journal.period_end_clustering"])
    duplicates = [f for f in runs[0].findings if f.evidence["kind"] == "duplicate"]
    assert [f.evidence["entry_ids"] for f in duplicates] == [["GL-08", "GL-8"]]
    [rare] = runs[1].findings
    assert rare.subject_key == "S-111" and rare.evidence["user_entries"] == 1
    [month] = runs[2].findings
    assert month.subject_key == "2025-09" and month.evidence["at_period_end"] == 30
