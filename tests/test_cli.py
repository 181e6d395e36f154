"""The CLI as a user meets it: --json shapes, exit codes, one clear message and no traceback on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taxaudit.cli import main
from tests.conftest import DATA


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_json_and_sql(tmp_path: Path, small_saft: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = str(tmp_path / "c")
    assert run(capsys, "case", "init", case, "--country", "NO")[0] == 0
    code, out, _ = run(capsys, "ingest", str(small_saft), "--case", case, "--json")
    assert code == 0
    [source] = json.loads(out)["sources"]
    for key in ("source_id", "sha256", "format", "format_version", "rows_read", "rows_loaded", "rows_quarantined",
                "entries", "lines", "total_debit", "total_credit"):
        assert key in source
    assert source["format"] == "saft" and source["total_debit"] == source["total_credit"]
    assert isinstance(source["total_debit"], str) and "." in source["total_debit"]
    code, out, _ = run(capsys, "ingest", str(small_saft), "--case", case, "--json")
    assert json.loads(out)["sources"][0]["already_present"] is True
    code, out, _ = run(capsys, "sql", "--case", case, "SELECT count(*) AS n FROM journal_entries", "--json")
    assert code == 0 and json.loads(out)["rows"] == [{"n": source["entries"]}]
    code, out, _ = run(capsys, "case", "verify", case, "--json")
    assert code == 0
    assert json.loads(out) == {"ok": True, "events": 3, "first_break": None, "evidence_files": 1}


def test_verify_exits_non_zero_on_a_break(tmp_path: Path, small_saft: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "c"
    run(capsys, "case", "init", str(case))
    run(capsys, "ingest", str(small_saft), "--case", str(case), "--json")
    log = case / "custody.jsonl"
    log.write_text("".join(log.read_text().splitlines(keepends=True)[:-1]))
    code, out, _ = run(capsys, "case", "verify", str(case), "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["first_break"]["seq"] == 3


def test_sql_is_read_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = str(tmp_path / "c")
    run(capsys, "case", "init", case)
    code, out, err = run(capsys, "sql", "--case", case, "DELETE FROM sources", "--json")
    assert code != 0 and json.loads(out)["error"] == "QueryError" and "read-only" in err
    code, _, err = run(capsys, "sql", "--case", case, "SELECT * FROM read_text('/etc/hostname')")
    assert code != 0 and "Traceback" not in err


@pytest.mark.parametrize("content", [b"<AuditFile xmlns='urn:StandardAuditFile-Taxation-Financial:NO'><Hea",
                                     b"\x00\x01binary junk"])
def test_bad_file_gives_one_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes) -> None:
    case = str(tmp_path / "c")
    run(capsys, "case", "init", case)
    bad = tmp_path / "bad.xml"
    bad.write_bytes(content)
    code, out, err = run(capsys, "ingest", str(bad), "--case", case)
    assert code == 2
    assert err.startswith("taxaudit: error:") and "What to do:" in err and "Traceback" not in err
    assert out == ""


def test_missing_case_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ingest", str(DATA / "csv" / "generic_lines.csv"), "--case", str(tmp_path / "none"))
    assert code == 2 and "taxaudit case init" in err
    run(capsys, "case", "init", str(tmp_path / "c"))
    code, _, err = run(capsys, "ingest", str(tmp_path / "nope.xml"), "--case", str(tmp_path / "c"))
    assert code == 2 and "no such file" in err


def test_csv_ingest_from_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = str(tmp_path / "c")
    run(capsys, "case", "init", case)
    code, out, _ = run(capsys, "ingest", str(DATA / "csv" / "1c_postings_cp1251.csv"), "--case", case,
                       "--mapping", "1c-postings", "--json")
    source = json.loads(out)["sources"][0]
    assert code == 0 and source["rows_quarantined"] == 2 and source["total_debit"] == "305500.50"
