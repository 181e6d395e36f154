"""Every ground of НК РФ ст. 88 on which documents may be requested, each shown applying and not applying."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import GOOD_LINES, write_return

from taxaudit.cases.errors import DocumentRefused
from taxaudit.cases.grounds import check_grounds
from taxaudit.cases.ratios import evaluate_ratios
from taxaudit.ingest.returns import load_return
from taxaudit.store.case import Case

GROUNDS = ["art88.p6.benefits", "art88.p8.vat_refund", "art88.p8_1.contradictions", "art88.p8_3.late_amendment",
           "art88.p8_7.contributions"]


def json_return(tmp_path: Path, name: str, **fields) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(fields, ensure_ascii=False), encoding="utf-8")
    return path


def applying(case: Case, source_id: str) -> dict[str, bool]:
    return {check.ground: check.applies for check in check_grounds(case, source_id)}


def test_consistent_vat_return_has_no_ground_and_all_are_checked(case: Case, good_return: Path) -> None:
    load = load_return(case, good_return)
    checks = check_grounds(case, load.source_id)
    assert [check.ground for check in checks] == GROUNDS
    assert not any(check.applies for check in checks)
    assert all(check.reason and check.citation.startswith("НК РФ ст. 88") for check in checks)


def test_p6_benefits_claimed(case: Case, tmp_path: Path) -> None:
    load = load_return(case, json_return(tmp_path, "b.json", return_type="RU-VAT", period="2025-Q1",
                                         filed_on="2025-04-25", lines={"s3_118": "10.00", "s7_010": "5000.00"}))
    assert applying(case, load.source_id)["art88.p6.benefits"] is True


def test_p8_vat_refund(case: Case, tmp_path: Path) -> None:
    lines = dict(GOOD_LINES, s3_120=Decimal(300000), s3_190=Decimal(305000), s3_200=Decimal(0),
                 s3_210=Decimal(75000), s1_040=Decimal(0), s1_050=Decimal(75000))
    load = load_return(case, write_return(tmp_path, "refund.xml", lines))
    checks = {check.ground: check for check in check_grounds(case, load.source_id)}
    assert checks["art88.p8.vat_refund"].applies
    assert "150000.00" in checks["art88.p8.vat_refund"].reason


def test_p8_1_contradictions_with_the_books(case: Case, good_return: Path) -> None:
    load = load_return(case, good_return)
    case.con.execute("INSERT INTO invoices (source_id, book, invoice_no, invoice_date, vat_amount) "
                     "VALUES ('books', 'sales', '1', DATE '2025-02-01', 300000)")
    evaluate_ratios(case)
    checks = {check.ground: check for check in check_grounds(case, load.source_id)}
    assert checks["art88.p8_1.contradictions"].applies
    assert "books.sales_book_vat" in checks["art88.p8_1.contradictions"].reason


@pytest.mark.parametrize(("filed_on", "payable", "expected"), [
    # Q1 2025 was due 25 Apr 2025; two years end 25 Apr 2027.
    (date(2027, 4, 26), 55000, True),    # late and lowers the tax 75 000 -> 55 000
    (date(2027, 4, 23), 55000, False),   # within two years
    (date(2027, 5, 10), 95000, False),   # late but raises the tax
])
def test_p8_3_late_amendment(case: Case, good_return: Path, tmp_path: Path, filed_on: date, payable: int,
                             expected: bool) -> None:
    load_return(case, good_return)
    deductions = Decimal(230000 - payable)
    lines = dict(GOOD_LINES, s3_120=deductions - 5000, s3_190=deductions, s3_200=Decimal(payable),
                 s1_040=Decimal(payable))
    load = load_return(case, write_return(tmp_path, "c.xml", lines, correction_no=1, filed_on=filed_on))
    assert applying(case, load.source_id)["art88.p8_3.late_amendment"] is expected


def test_p8_3_does_not_apply_to_an_original(case: Case, good_return: Path) -> None:
    load = load_return(case, good_return)
    reason = {c.ground: c.reason for c in check_grounds(case, load.source_id)}["art88.p8_3.late_amendment"]
    assert "original" in reason


def test_p8_7_contribution_reliefs(case: Case, tmp_path: Path) -> None:
    load = load_return(case, json_return(tmp_path, "rsv.json", return_type="RU-RSV", period="2025-Q1",
                                         filed_on="2025-04-25", lines={"base": "100.00", "reduced_tariff": "50.00"}))
    checks = {check.ground: check for check in check_grounds(case, load.source_id)}
    assert checks["art88.p8_7.contributions"].applies
    assert checks["art88.p8.vat_refund"].reason == "not a RU-VAT return"



def test_grounds_for_a_missing_return(case: Case) -> None:
    with pytest.raises(DocumentRefused, match="no return"):
        check_grounds(case, "nope")
