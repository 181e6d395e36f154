"""The custody chain: every kind of tampering named in the foundation issue is detected, at the right event."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import pytest

from taxaudit.ingest import ingest_files
from taxaudit.store import init_case, open_case, verify_case
from taxaudit.store.custody import event_hash


@pytest.fixture
def ingested(tmp_path: Path, small_saft: Path) -> Path:
    directory = tmp_path / "case"
    with init_case(directory, country="NO") as case:
        ingest_files(case, [small_saft])
        case.record("report_written", "reports/x.html", None, note="a later event")
    return directory


def lines_of(directory: Path) -> list[str]:
    return (directory / "custody.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)


def write_lines(directory: Path, lines: list[str]) -> None:
    (directory / "custody.jsonl").write_text("".join(lines), encoding="utf-8")


def test_intact_case_verifies(ingested: Path) -> None:
    result = verify_case(ingested)
    assert result.ok
    assert result.first_break is None
    # case_created, source_added, rows_loaded, report_written
    assert result.events == 4
    assert result.evidence_files == 1


def test_events_are_chained_and_hashed(ingested: Path) -> None:
    events = [json.loads(line) for line in lines_of(ingested)]
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert events[0]["prev_hash"] == "0" * 64
    for before, after in itertools.pairwise(events):
        assert after["prev_hash"] == before["hash"]
    assert all(event_hash(e) == e["hash"] for e in events)
    assert [e["action"] for e in events] == ["case_created", "source_added", "rows_loaded", "report_written"]


def test_changed_evidence_is_detected(ingested: Path) -> None:
    [evidence] = [p for p in (ingested / "evidence").iterdir()]
    assert not os.access(evidence, os.W_OK) or os.geteuid() == 0  # read-only (root may still write)
    assert evidence.stat().st_mode & 0o222 == 0
    evidence.chmod(0o644)
    with evidence.open("r+b") as handle:
        handle.seek(200)
        handle.write(b"X")
    result = verify_case(ingested)
    assert not result.ok
    assert result.first_break.seq == 2
    assert "changed" in result.first_break.reason


def test_removed_evidence_is_detected(ingested: Path) -> None:
    [evidence] = list((ingested / "evidence").iterdir())
    evidence.chmod(0o644)
    evidence.unlink()
    result = verify_case(ingested)
    assert (result.ok, result.first_break.seq) == (False, 2)
    assert "missing" in result.first_break.reason


def test_edited_line_is_detected(ingested: Path) -> None:
    lines = lines_of(ingested)
    event = json.loads(lines[2])
    event["details"]["rows_loaded"] += 1
    lines[2] = json.dumps(event, sort_keys=True, separators=(",", ":")) + "\n"
    write_lines(ingested, lines)
    result = verify_case(ingested)
    assert (result.ok, result.first_break.seq) == (False, 3)
    assert "edited" in result.first_break.reason


def test_removed_middle_line_is_detected(ingested: Path) -> None:
    lines = lines_of(ingested)
    write_lines(ingested, lines[:1] + lines[2:])
    result = verify_case(ingested)
    assert (result.ok, result.first_break.seq) == (False, 2)
    assert "removed" in result.first_break.reason


def test_removed_last_line_is_detected(ingested: Path) -> None:
    write_lines(ingested, lines_of(ingested)[:-1])
    result = verify_case(ingested)
    assert (result.ok, result.first_break.seq) == (False, 4)
    assert "removed from the end" in result.first_break.reason


def test_inserted_line_is_detected(ingested: Path) -> None:
    lines = lines_of(ingested)
    forged = json.loads(lines[1])
    forged["action"] = "source_added"
    forged["subject"] = "forged.xml"
    forged["hash"] = event_hash(forged)
    write_lines(ingested, [*lines[:2], json.dumps(forged) + "\n", *lines[2:]])
    result = verify_case(ingested)
    assert (result.ok, result.first_break.seq) == (False, 3)


def test_reordered_lines_are_detected(ingested: Path) -> None:
    lines = lines_of(ingested)
    lines[1], lines[2] = lines[2], lines[1]
    write_lines(ingested, lines)
    result = verify_case(ingested)
    assert (result.ok, result.first_break.seq) == (False, 2)
    assert "reordered" in result.first_break.reason


def test_rehashed_forgery_still_breaks_the_chain(ingested: Path) -> None:
    """Editing an event and recomputing its own hash is caught by the next event's prev_hash."""
    lines = lines_of(ingested)
    event = json.loads(lines[1])
    event["subject"] = "another-file.xml"
    event["hash"] = event_hash(event)
    lines[1] = json.dumps(event) + "\n"
    write_lines(ingested, lines)
    result = verify_case(ingested)
    assert (result.ok, result.first_break.seq) == (False, 3)
    assert "does not chain" in result.first_break.reason


def test_failed_unit_of_work_leaves_log_and_database_unchanged(tmp_path: Path) -> None:
    with init_case(tmp_path / "c") as case:
        before = (tmp_path / "c" / "custody.jsonl").read_bytes()
        with pytest.raises(RuntimeError), case.unit_of_work() as work:
            case.con.execute("INSERT INTO return_lines VALUES ('s', 'VAT', '2025-01', '010', 1.00)")
            work.log("something", "x")
            raise RuntimeError("boom")
        assert (tmp_path / "c" / "custody.jsonl").read_bytes() == before
        assert case.con.execute("SELECT count(*) FROM return_lines").fetchone() == (0,)
    assert verify_case(tmp_path / "c").ok


def test_open_case_explains_what_is_wrong(tmp_path: Path) -> None:
    from taxaudit.errors import CaseError

    with pytest.raises(CaseError) as info:
        open_case(tmp_path / "nowhere")
    assert "taxaudit case init" in info.value.message


def test_record_returns_the_event_as_the_log_holds_it(tmp_path: Path) -> None:
    from datetime import date
    from decimal import Decimal

    case = init_case(tmp_path / "c")
    event = case.record("report_written", "r.html", None, total=Decimal("1.10"), on=date(2025, 5, 7), n=(1, 2))
    assert event == case.events()[-1]
    assert event.details == {"total": "1.10", "on": "2025-05-07", "n": [1, 2]}
    case.close()
    assert verify_case(tmp_path / "c").ok
