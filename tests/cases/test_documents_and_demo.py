"""Requests and acts (HTML/PDF, ru/en): contents, refusals naming the article 88 grounds checked, custody; and
the demo step on a fresh case."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from case_helpers import GOOD_LINES, write_return

from taxaudit.cases.demo import run_demo_step
from taxaudit.cases.documents import issue_document
from taxaudit.cases.errors import DocumentRefused
from taxaudit.cases.lifecycle import advance, open_flow
from taxaudit.cases.ratios import evaluate_ratios
from taxaudit.ingest.returns import load_return
from taxaudit.store import init_case, verify_case
from taxaudit.store.case import Case, sha256_file

BROKEN = dict(GOOD_LINES, s3_010_base=Decimal(1250000), s3_010=Decimal(250000))


def audited(case: Case, tmp_path: Path, lines: dict) -> str:
    load = load_return(case, write_return(tmp_path, "r.xml", lines))
    evaluate_ratios(case)
    flow_id = open_flow(case, "ru_desk_audit", subject=load.source_id, on=date(2025, 4, 25)).flow_id
    advance(case, flow_id, "run_checks", on=date(2025, 4, 28))
    return flow_id


def test_request_for_explanations_pdf_states_the_discrepancy_and_deadline(case: Case, tmp_path: Path) -> None:
    flow_id = audited(case, tmp_path, BROKEN)
    issued = issue_document(case, flow_id, "explanations", on=date(2025, 4, 28), languages=("ru",))
    assert issued.due == date(2025, 5, 7)
    assert issued.number == "КНП-1/ТП-1"
    pdf_file = next(f for f in issued.files if f["path"].endswith(".pdf"))
    assert sha256_file(case.root / pdf_file["path"]) == pdf_file["sha256"]
    document = pdfium.PdfDocument(case.root / pdf_file["path"])
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    document.close()
    assert "07.05.2025" in text and "ТРЕБОВАНИЕ" in text and "280" in text.replace("\u2009", "")
    event = case.events()[-1]
    assert (event.action, event.subject, event.details["due"]) == ("document_issued", issued.document_id,
                                                                    "2025-05-07")


def test_request_for_documents_refused_without_a_ground_names_every_ground(case: Case, tmp_path: Path) -> None:
    flow_id = audited(case, tmp_path, BROKEN)
    with pytest.raises(DocumentRefused) as refusal:
        issue_document(case, flow_id, "documents", on=date(2025, 4, 28), pdf=False)
    for paragraph in ("ст. 88 п. 6", "ст. 88 п. 8 ", "ст. 88 п. 8.1", "ст. 88 п. 8.3", "ст. 88 п. 8.7"):
        assert paragraph in refusal.value.what
    assert case.events()[-1].action == "document_refused"
    assert not list(case.reports_dir.glob("*documents*"))


def test_request_for_documents_before_the_checks_is_refused(case: Case, tmp_path: Path) -> None:
    load = load_return(case, write_return(tmp_path, "r.xml", BROKEN))
    flow_id = open_flow(case, "ru_desk_audit", subject=load.source_id, on=date(2025, 4, 25)).flow_id
    with pytest.raises(DocumentRefused, match="state 'received'"):
        issue_document(case, flow_id, "explanations", on=date(2025, 4, 28), pdf=False)


def test_request_for_documents_on_a_refund_without_discrepancies(case: Case, tmp_path: Path) -> None:
    refund = dict(GOOD_LINES, s3_120=Decimal(300000), s3_190=Decimal(305000), s3_200=Decimal(0),
                  s3_210=Decimal(75000), s1_040=Decimal(0), s1_050=Decimal(75000))
    flow_id = audited(case, tmp_path, refund)
    assert case.con.execute("SELECT count(*) FROM findings").fetchone()[0] == 0
    advance(case, flow_id, "send_document_request", on=date(2025, 4, 28))
    issued = issue_document(case, flow_id, "documents", on=date(2025, 4, 28), pdf=False)
    assert issued.due == date(2025, 5, 16)


def test_request_for_documents_with_a_refund_ground(case: Case, tmp_path: Path) -> None:
    refund = dict(BROKEN, s3_120=Decimal(350000), s3_190=Decimal(355000), s3_200=Decimal(0),
                  s3_210=Decimal(125000), s1_040=Decimal(0), s1_050=Decimal(125000))
    flow_id = audited(case, tmp_path, refund)
    issued = issue_document(case, flow_id, "documents", on=date(2025, 4, 28), languages=("ru", "en"), pdf=False)
    assert issued.due == date(2025, 5, 16)  # ten working days (ст. 93 п. 3)
    assert [g["ground"] for g in issued.grounds if g["applies"]] == ["art88.p8.vat_refund"]
    html = (case.root / issued.files[0]["path"]).read_text(encoding="utf-8")
    assert "документы, подтверждающие правомерность налоговых вычетов" in html
    assert "не применяется" in html


def test_act_and_refusals(case: Case, tmp_path: Path) -> None:
    flow_id = audited(case, tmp_path, GOOD_LINES)
    with pytest.raises(DocumentRefused, match="no discrepancy"):
        issue_document(case, flow_id, "explanations", on=date(2025, 7, 2), pdf=False)
    with pytest.raises(DocumentRefused, match="state 'checks_done'"):
        issue_document(case, flow_id, "act", on=date(2025, 7, 2), pdf=False)
    with pytest.raises(DocumentRefused, match="unknown document kind"):
        issue_document(case, flow_id, "letter", on=date(2025, 7, 2), pdf=False)
    with pytest.raises(DocumentRefused, match="language"):
        issue_document(case, flow_id, "act", on=date(2025, 7, 2), languages=("de",), pdf=False)


def test_demo_step_on_a_fresh_case(tmp_path: Path) -> None:
    with init_case(tmp_path / "demo", country="RU") as case:
        result = run_demo_step(case, pdf=False)
        assert result["ratios"]["failed"] == ["vat.s3.total_tax"]
        assert result["request"]["due"] == date(2025, 5, 7)
        assert "ст. 88 п. 8.1" in result["documents_request_refused"]
        # Act sent by post Wed 2 Jul 2025, deemed received Thu 10 Jul; one month -> Sun 10 Aug -> Mon 11 Aug.
        assert result["act"]["due"] == date(2025, 8, 11)
        assert result["state"] == "act_delivered"
        findings = case.con.execute("SELECT count(*) FROM findings").fetchone()[0]
        assert findings == 1
    assert verify_case(tmp_path / "demo").ok
