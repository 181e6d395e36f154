"""The books report and the check/benford/report commands on a case built from the QuickBooks fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from taxaudit.cli import main
from taxaudit.ingest.pipeline import ingest_files
from taxaudit.store import init_case

DATA = Path(__file__).parent.parent / "data" / "quickbooks"


@pytest.fixture()
def case_dir(tmp_path):
    root = tmp_path / "case"
    with init_case(root, country="US", title="Zoë's Café") as case:
        ingest_files(case, [DATA / "company.iif", DATA / "audit_trail.csv"])
    return root


def test_check_json_lists_findings_and_summary(case_dir, capsys):
    assert main(["check", "--case", str(case_dir), "--only", "integrity.entry_balance,audit.deleted_entries",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"] == {"integrity.entry_balance": 1, "audit.deleted_entries": 1}
    by_check = {f["check_id"]: f for f in out["findings"]}
    assert by_check["integrity.entry_balance"]["subject_key"] == "General Journal GJ7"
    assert by_check["integrity.entry_balance"]["amount"] == "5.00"  # 80.00 debit against 75.00 credit
    assert set(by_check["audit.deleted_entries"]) == {"check_id", "severity", "subject_key", "amount", "message",
                                                      "citation"}


def test_check_rejects_bad_options(case_dir, capsys):
    assert main(["check", "--case", str(case_dir), "--only", "no.such_check", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"] == "CheckError"
    assert main(["check", "--case", str(case_dir), "--closing-date", "31/12/2025"]) == 2


def test_benford_json_table(case_dir, capsys):
    assert main(["benford", "--case", str(case_dir), "--digits", "first", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [row["digit"] for row in out["digits"]] == list(range(1, 10))
    assert out["count"] == sum(row["observed"] for row in out["digits"])
    assert out["conformity"] in {"close conformity", "acceptable conformity", "marginally acceptable conformity",
                                 "nonconformity"}


def test_html_report_is_self_contained_and_logged(case_dir, capsys):
    assert main(["check", "--case", str(case_dir), "--json"]) == 0
    capsys.readouterr()
    assert main(["report", "--case", str(case_dir), "--format", "html", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    html = Path(out["path"]).read_text(encoding="utf-8")
    assert "Zoë&#39;s Café" in html or "Zoë's Café" in html
    for text in ("company.iif", "audit_trail.csv", "audit.deleted_entries", "Check 1042", "<svg"):
        assert text in html
    assert "<script" not in html and "src=\"http" not in html and "href=\"http" not in html


def test_xlsx_report_has_summary_and_a_sheet_per_check(case_dir, tmp_path, capsys):
    assert main(["check", "--case", str(case_dir), "--json"]) == 0
    out_file = tmp_path / "books.xlsx"
    assert main(["report", "--case", str(case_dir), "--format", "xlsx", "--out", str(out_file)]) == 0
    workbook = load_workbook(out_file)
    assert workbook.sheetnames[:2] == ["Summary", "Sources"]
    assert "audit.deleted_entries" in workbook.sheetnames
    sheet = workbook["audit.deleted_entries"]
    assert sheet.freeze_panes == "A3"  # a note row, then the bold header row stays visible
    header = [cell.value for cell in sheet[2]]
    assert header[:4] == ["subject_key", "severity", "amount", "message"]
    amount = sheet.cell(row=3, column=3)
    assert amount.value == 2000.0 and amount.number_format.startswith("#,##0.00")
