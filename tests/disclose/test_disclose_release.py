"""Case-level redaction, consistency review of the whole case file, and release packages."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from disclose_fixtures import DIF_SCORE, REQUESTER_SSN, THIRD_PARTY, THIRD_PARTY_SSN
from pdfminer.high_level import extract_text

from taxaudit.disclose.authorization import add_authorization
from taxaudit.disclose.consistency import list_findings, override_finding, review_consistency
from taxaudit.disclose.errors import AuthorizationError, DisclosureError, RedactionError, ReleaseBlockedError
from taxaudit.disclose.package import build_release_package
from taxaudit.disclose.pdf_layout import analyze_pdf, union
from taxaudit.disclose.redact import ManualBox, list_redactions, redact_document
from taxaudit.disclose.register import DisclosureRequest, add_request
from taxaudit.store import Case, verify_case
from taxaudit.store.case import sha256_file

RELEASE_DAY = date(2026, 12, 10)


def box_of(path: Path, page: int, text: str) -> tuple[float, float, float, float]:
    """Return the box around the first occurrence of ``text`` on ``page`` (as a reviewer would draw it)."""
    layout = analyze_pdf(path)[page - 1]
    for line in layout.lines:
        at = line.text.find(text)
        if at >= 0:
            glyphs = [g for g in line.glyphs[at:at + len(text)] if g is not None]
            return union([layout.glyphs[g].bbox for g in glyphs])
    raise AssertionError(f"{text!r} not on page {page}")


def kinds(findings: list) -> set[str]:
    return {f.kind for f in findings}


def test_redacting_keeps_the_original_as_evidence_and_logs_both_hashes(case: Case, request_: DisclosureRequest,
                                                                       letter_pdf: Path) -> None:
    result = redact_document(case, request_.request_id, letter_pdf, names=[THIRD_PARTY], reviewer="kim")
    assert result.kind == "pdf" and result.pages == 2 and len(result.redactions) == 7
    assert case.evidence_path(result.source_sha256).read_bytes() == letter_pdf.read_bytes()
    assert sha256_file(result.redacted_path) == result.redacted_sha256
    added, event = case.events()[-2:]
    assert event.action == "document_redacted" and event.sha256 == result.redacted_sha256
    assert event.details["source_sha256"] == result.source_sha256
    assert added.action == "source_added" and added.sha256 == result.source_sha256
    assert THIRD_PARTY_SSN not in extract_text(result.redacted_path)
    assert all("value" not in r for r in result.to_dict()["redactions"])


def test_an_inconsistent_case_file_is_caught_and_blocks_release(case: Case, request_: DisclosureRequest,
                                                                letter_pdf: Path, workpaper_pdf: Path) -> None:
    rid = request_.request_id
    redact_document(case, rid, letter_pdf, names=[THIRD_PARTY])
    redact_document(case, rid, workpaper_pdf, use_rules=False)  # the caseworker forgot the workpaper
    findings = review_consistency(case, rid)
    assert kinds(findings) == {"redacted_elsewhere_in_clear", "protected_in_clear"}
    clear = [f for f in findings if f.kind == "redacted_elsewhere_in_clear"]
    assert {"document": "workpaper.pdf", "page": 1} in clear[0].pages
    assert {"document": "exam_report.pdf", "page": 1} in clear[0].pages
    assert all(THIRD_PARTY_SSN not in f.message for f in findings)  # values are masked in findings
    with pytest.raises(ReleaseBlockedError, match="consistency finding"):
        build_release_package(case, rid, on=RELEASE_DAY, pdf_letter=False)
    # Redacting the workpaper properly resolves every finding.
    redact_document(case, rid, workpaper_pdf, names=[THIRD_PARTY])
    assert review_consistency(case, rid) == []
    assert {f.status for f in list_findings(case, rid)} == {"resolved"}


def test_mixed_exemptions_missing_codes_and_over_redaction_are_findings(case: Case, request_: DisclosureRequest,
                                                                        letter_pdf: Path,
                                                                        workpaper_pdf: Path) -> None:
    rid = request_.request_id
    redact_document(case, rid, letter_pdf, names=[THIRD_PARTY], manual=[
        ManualBox(2, box_of(letter_pdf, 2, "DIF Score"), "(b)(7)(E)", "over-cautious"),
    ])
    redact_document(case, rid, workpaper_pdf, use_rules=False, manual=[
        ManualBox(1, box_of(workpaper_pdf, 1, THIRD_PARTY_SSN), "(b)(6)", "privacy"),
        ManualBox(1, box_of(workpaper_pdf, 1, THIRD_PARTY), None, "forgot the code"),
    ])
    findings = review_consistency(case, rid)
    assert kinds(findings) == {"mixed_exemptions", "no_exemption", "over_redaction"}
    mixed = next(f for f in findings if f.kind == "mixed_exemptions")
    assert "(b)(3)/6103(a)" in mixed.message and "(b)(6)" in mixed.message
    over = next(f for f in findings if f.kind == "over_redaction")
    assert "2023-10-055" in over.message


def test_release_package_with_overrides_manifest_letter_and_log(case: Case, request_: DisclosureRequest,
                                                                letter_pdf: Path, workpaper_pdf: Path) -> None:
    rid = request_.request_id
    redact_document(case, rid, letter_pdf, names=[THIRD_PARTY])
    redact_document(case, rid, workpaper_pdf, use_rules=False, manual=[
        ManualBox(1, box_of(workpaper_pdf, 1, THIRD_PARTY_SSN), "(b)(6)", "privacy"),
        ManualBox(1, box_of(workpaper_pdf, 1, THIRD_PARTY), "(b)(7)(C)", "third party"),
    ])
    (finding,) = review_consistency(case, rid)
    assert finding.kind == "mixed_exemptions"
    with pytest.raises(DisclosureError, match="needs a reason"):
        override_finding(case, rid, finding.key, "  ", by="lead")
    override_finding(case, rid, finding.key, "(b)(6) also applies; both codes are correct", by="lead")
    release = build_release_package(case, rid, on=RELEASE_DAY, signer="A. Caseworker")
    directory = release.directory
    assert release.closure_code == "partially denied"
    assert release.exemptions == {"(b)(3)/6103(a)": 3, "(b)(6)": 1, "(b)(7)(C)": 2, "(b)(7)(E)": 3}
    manifest = json.loads((directory / "manifest.json").read_text())
    listed = {f["path"] for f in manifest["files"]}
    assert listed == {"documents/exam_report.redacted.pdf", "documents/workpaper.redacted.pdf",
                      "redaction_log.csv", "redaction_log.json", "response_letter.html", "response_letter.pdf"}
    for entry in manifest["files"]:
        assert sha256_file(directory / entry["path"]) == entry["sha256"]
    assert manifest["overrides"][0]["reason"].startswith("(b)(6) also applies")
    log_text = (directory / "redaction_log.csv").read_text() + (directory / "redaction_log.json").read_text()
    for secret in (THIRD_PARTY_SSN, THIRD_PARTY, DIF_SCORE):
        assert secret not in log_text
    rows = list(csv.DictReader((directory / "redaction_log.csv").open()))
    assert len(rows) == 9 and {r["exemption"] for r in rows} == set(release.exemptions)
    letter = (directory / "response_letter.html").read_text()
    assert "5 U.S.C. § 552(b)(7)(E)" in letter and "552(b)(3) in conjunction with 26 U.S.C. § 6103(a)" in letter
    assert "appeal" in letter and "A. Caseworker" in letter
    assert (directory / "response_letter.pdf").read_bytes().startswith(b"%PDF-")
    for released in (directory / "documents").iterdir():
        assert THIRD_PARTY_SSN not in extract_text(released)
    event = case.events()[-1]
    assert event.action == "release_made" and event.sha256 == release.manifest_sha256
    case.close()
    verified = verify_case(case.root)
    assert verified.ok and verified.evidence_files == 2  # both originals are checked by `case verify`


def test_release_to_a_third_party_without_valid_authorization_is_refused(case: Case, letter_pdf: Path) -> None:
    request = add_request(case, request_type="6103c", requester="Smith & Co CPA", records_sought="exam file",
                          received=date(2026, 11, 2), taxpayer="Jane Roe", taxpayer_tax_id=REQUESTER_SSN,
                          matter="1040", periods=["2023"])
    redact_document(case, request.request_id, letter_pdf, names=[THIRD_PARTY])
    add_authorization(case, form="8821", taxpayer_tax_id=REQUESTER_SSN, representative="Smith & Co CPA",
                      matters=["1040"], periods=["2023"], signed=date(2026, 1, 5), received=date(2026, 1, 20),
                      expires=date(2026, 6, 30))
    with pytest.raises(AuthorizationError, match="expired"):
        build_release_package(case, request.request_id, on=RELEASE_DAY, pdf_letter=False)
    assert not (case.reports_dir / "disclose" / request.request_id / "release-001").exists()


def test_text_documents_are_redacted_and_checked_too(case: Case, request_: DisclosureRequest,
                                                     tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text(f"Call with {THIRD_PARTY} ({THIRD_PARTY_SSN}).\nDIF Score: 812\n", encoding="utf-8")
    result = redact_document(case, request_.request_id, note, names=[THIRD_PARTY])
    assert result.redacted_path.read_text() == ("Call with [REDACTED (b)(7)(C)] ([REDACTED (b)(3)/6103(a)]).\n"
                                                "DIF Score: [REDACTED (b)(7)(E)]\n")
    assert [r["line_no"] for r in list_redactions(case, request_.request_id)] == [1, 1, 2]
    assert review_consistency(case, request_.request_id) == []


def test_bad_documents_and_boxes_are_refused(case: Case, request_: DisclosureRequest, letter_pdf: Path,
                                             tmp_path: Path) -> None:
    binary = tmp_path / "scan.bin"
    binary.write_bytes(b"\xff\xd8\xff\xe0 not text")
    with pytest.raises(RedactionError, match="neither a PDF nor UTF-8"):
        redact_document(case, request_.request_id, binary)
    with pytest.raises(RedactionError, match="unknown exemption code"):
        redact_document(case, request_.request_id, letter_pdf, manual=[ManualBox(1, (1, 1, 5, 5), "(b)(9)", "x")])
    with pytest.raises(DisclosureError, match="does not exist"):
        redact_document(case, request_.request_id, tmp_path / "missing.pdf")
    with pytest.raises(DisclosureError, match="no documents"):
        review_consistency(case, request_.request_id)


def test_third_party_names_come_from_the_parties_table_except_the_requesters(case: Case,
                                                                             request_: DisclosureRequest,
                                                                             letter_pdf: Path) -> None:
    from taxaudit.disclose.redact import third_party_names

    case.con.execute("INSERT INTO parties (source_id, party_id, role, name, tax_id) VALUES "
                     "('S1', 'P1', 'other', ?, ?), ('S1', 'P2', 'customer', ?, ?)",
                     [THIRD_PARTY, THIRD_PARTY_SSN, "Jane  Roe", REQUESTER_SSN])
    names = third_party_names(case, request_)
    assert names == [THIRD_PARTY]
    result = redact_document(case, request_.request_id, letter_pdf, names=names)
    text = extract_text(result.redacted_path)
    assert THIRD_PARTY not in text and "Jane Roe" in text
