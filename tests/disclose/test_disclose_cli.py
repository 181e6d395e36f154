"""``taxaudit disclose …`` end to end with --json, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from disclose_fixtures import LETTER_PAGES, REQUESTER, REQUESTER_SSN, THIRD_PARTY, THIRD_PARTY_SSN, write_pdf
from pdfminer.high_level import extract_text

from taxaudit.cli import main
from taxaudit.store import init_case


def run(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> object:
    assert main(list(args)) == code
    out = capsys.readouterr().out
    return json.loads(out) if "--json" in args and out.strip() else out


def test_request_to_release_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init_case(tmp_path / "case").close()
    case = ["--case", str(tmp_path / "case")]
    letter = write_pdf(tmp_path / "letter.pdf", LETTER_PAGES)
    request = run(capsys, "disclose", "request", "add", *case, "--type", "6103c", "--requester", "Smith & Co CPA",
                  "--records", "2023 exam file", "--received", "2026-11-20", "--taxpayer", REQUESTER,
                  "--taxpayer-tax-id", REQUESTER_SSN, "--matter", "1040", "--period", "2023", "--json")
    rid = request["request_id"]
    listed = run(capsys, "disclose", "request", "list", *case, "--json")
    assert [r["request_id"] for r in listed] == [rid]
    refused = run(capsys, "disclose", "auth", "check", rid, *case, "--on", "2026-12-01", "--json", code=1)
    assert refused["allowed"] is False and refused["failures"][0]["condition"] == "on_file"
    run(capsys, "disclose", "auth", "add", *case, "--form", "8821", "--taxpayer-tax-id", REQUESTER_SSN,
        "--representative", "Smith & Co CPA", "--matter", "1040", "--period", "2023", "--signed", "2026-10-01",
        "--received", "2026-10-15", "--json")
    on_file = run(capsys, "disclose", "auth", "list", *case, "--taxpayer-tax-id", REQUESTER_SSN, "--json")
    assert [a["form"] for a in on_file] == ["8821"]
    allowed = run(capsys, "disclose", "auth", "check", rid, *case, "--on", "2026-12-01", "--json")
    assert allowed["allowed"] is True
    redacted = run(capsys, "disclose", "redact", rid, str(letter), *case, "--name", THIRD_PARTY,
                   "--box", "2:72,640,300,652:(b)(7)(E):closing line", "--json")
    assert len(redacted[0]["redactions"]) == 8
    assert THIRD_PARTY_SSN not in extract_text(redacted[0]["redacted_path"])
    assert run(capsys, "disclose", "review", "consistency", rid, *case, "--json") == []
    release = run(capsys, "disclose", "package", rid, *case, "--on", "2026-12-01", "--no-pdf", "--json")
    assert Path(release["directory"], "manifest.json").is_file()
    run(capsys, "disclose", "request", "close", rid, *case, "--closure", "partially denied", "--closed",
        "2026-12-02", "--json")
    sample = run(capsys, "disclose", "review", "sample", *case, "--size", "1", "--seed", "5", "--json")
    assert sample["request_ids"] == [rid]
    run(capsys, "disclose", "review", "record", sample["review_id"], rid, *case, "--error", "--kind",
        "improper_release", "--json")
    projection = run(capsys, "disclose", "review", "project", sample["review_id"], *case, "--json")
    assert projection["errors"] == 1 and projection["rate_upper"] == 1.0
    assert run(capsys, "case", "verify", str(tmp_path / "case"), "--json")["ok"] is True


def test_cli_errors_are_reported_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init_case(tmp_path / "case").close()
    case = ["--case", str(tmp_path / "case")]
    error = run(capsys, "disclose", "request", "add", *case, "--type", "foia", "--requester", "X", "--records",
                "r", "--received", "2026-02-30", "--json", code=2)
    assert error["error"] == "DisclosureError" and error["where"] == "--received"
    error = run(capsys, "disclose", "package", "REQ-missing", *case, "--json", code=2)
    assert "no request" in error["what"]
    letter = write_pdf(tmp_path / "letter.pdf", LETTER_PAGES)
    request = run(capsys, "disclose", "request", "add", *case, "--type", "foia", "--requester", REQUESTER,
                  "--records", "r", "--received", "2026-02-02", "--json")
    error = run(capsys, "disclose", "redact", request["request_id"], str(letter), *case, "--box", "1:oops",
                "--json", code=2)
    assert error["where"] == "--box"
