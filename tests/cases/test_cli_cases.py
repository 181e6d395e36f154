"""The CLI over the case stage: every command with --json, errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import GOOD_LINES, write_return

from taxaudit.cli import main
from taxaudit.store import init_case


def run(capsys, *args: str) -> tuple[int, dict]:
    code = main(list(args))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith(("{", "[")) else {}


def test_deadline_json_shape(capsys) -> None:
    code, data = run(capsys, "case", "deadline", "--rule", "us.foia_response", "--from", "2024-06-18", "--json")
    assert code == 0
    assert list(data)[:5] == ["rule", "from", "due", "working_days", "citation"]
    assert (data["due"], data["working_days"]) == ("2024-07-18", 20)


def test_bad_deadline_input_is_a_clear_error(capsys) -> None:
    code, data = run(capsys, "case", "deadline", "--rule", "ru.explanations", "--from", "28.04.2025", "--json")
    assert (code, data["error"], data["where"]) == (2, "DeadlineError", "--from")
    code, data = run(capsys, "case", "deadline", "--json")
    assert code == 2 and "--rule" in data["hint"]


def test_desk_audit_through_the_cli(capsys, tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    init_case(case_dir, country="RU").close()
    broken = dict(GOOD_LINES, s3_118=GOOD_LINES["s3_118"] - 1000)
    xml = write_return(tmp_path, "r.xml", broken)
    code, load = run(capsys, "returns", "load", str(xml), "--case", str(case_dir), "--json")
    assert code == 0 and load["period"] == "2025-Q1"
    code, listed = run(capsys, "returns", "list", "--case", str(case_dir), "--json")
    assert [r["source_id"] for r in listed["returns"]] == [load["source_id"]]
    code, ratios = run(capsys, "ratios", "--case", str(case_dir), "--json")
    assert code == 0 and ratios["failed"] >= 1
    code, opened = run(capsys, "case", "open", "--case", str(case_dir), "--json")
    assert opened["state"] == "received" and opened["subject"] == load["source_id"]
    code, status = run(capsys, "case", "advance", "run_checks", "--case", str(case_dir), "--on", "2025-04-28",
                       "--json")
    assert status["state"] == "checks_done"
    code, error = run(capsys, "case", "advance", "decide", "--case", str(case_dir), "--on", "2025-04-28", "--json")
    assert code == 2 and error["error"] == "LifecycleError"
    code, status = run(capsys, "case", "advance", "send_request", "--case", str(case_dir), "--on", "2025-04-28",
                       "--by-post", "--json")
    request = next(d for d in status["deadlines"] if d["rule"] == "ru.explanations")
    # Sent Mon 28 Apr 2025 by post: deemed received on the 6th working day (29, 30 Apr, 5, 6, 7,
    # 12 May) Mon 12 May; five working days for explanations: 13-16, 19 May.
    assert (request["received"], request["due"]) == ("2025-05-12", "2025-05-19")
    code, listing = run(capsys, "case", "deadline", "--case", str(case_dir), "--on", "2025-05-13", "--json")
    assert {d["rule"] for d in listing["deadlines"]} == {"ru.desk_audit_term_vat", "ru.explanations"}
    code, all_status = run(capsys, "case", "status", "--case", str(case_dir), "--json")
    assert all_status["flows"][0]["next_actions"] == ["receive_answer", "mark_overdue", "extend_audit"]
    assert main(["case", "status", "--case", str(case_dir)]) == 0
    assert main(["ratios", "--case", str(case_dir)]) == 0
