"""The legal precondition, the custody trail, the basis-of-estimate document and the CLI's JSON output."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from taxaudit.cli import main
from taxaudit.estimate.document import issue_document
from taxaudit.estimate.errors import BooksNotRejectedError, EstimateError
from taxaudit.estimate.records import book_rejections, load_estimate, reject_books, require_books_rejected
from taxaudit.store import init_case, open_case, verify_case
from taxaudit.store.case import sha256_file

ESUFALL = ["--observed", "31,171.28", "--window-start", "1960-09-01", "--window-end", "1960-09-19",
           "--period-start", "1959-11-01", "--period-end", "1960-10-20"]


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main([*args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


@pytest.fixture
def esufall_case(tmp_path: Path) -> Path:
    init_case(tmp_path / "esufall", country="IN", title="CST v. H.M. Esufall").close()
    return tmp_path / "esufall"


def test_extrapolation_refuses_until_books_rejected(esufall_case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, error = run_json(capsys, "estimate", "extrapolate", "--case", str(esufall_case), *ESUFALL)
    assert code != 0
    assert error["error"] == "BooksNotRejectedError"
    assert "taxaudit estimate reject-books --case" in error["hint"] and "--authority" in error["hint"]
    code, rejection = run_json(capsys, "estimate", "reject-books", "--case", str(esufall_case), "--reason",
                               "bill book 1-19 Sep 1960: Rs 31,171.28 of sales outside the books", "--authority",
                               "MP General Sales Tax Act 1958, s. 18(4)(d) and s. 19(1)")
    assert code == 0 and rejection["authority"].startswith("MP General")
    code, result = run_json(capsys, "estimate", "extrapolate", "--case", str(esufall_case), *ESUFALL,
                            "--assessed", "state=2,50,000", "--assessed", "central=1,00,000")
    assert code == 0
    assert result["central"] == "582410.76" and result["observed"] == "31171.28"
    assert result["comparisons"][0]["ratio_to_central"] == "0.4293"
    assert result["book_rejection"] == rejection["rejection_id"]
    events = [event.action for event in open_case(esufall_case, read_only=True).events()]
    assert events[-2:] == ["books_rejected", "estimate_made"]
    assert verify_case(esufall_case).ok


def test_rejection_period_must_cover_the_assessment(tmp_path: Path) -> None:
    from datetime import date

    with init_case(tmp_path / "c", country="IN") as case:
        reject_books(case, "reason", "authority", period_start=date(1960, 1, 1), period_end=date(1960, 12, 31))
        with pytest.raises(BooksNotRejectedError) as error:
            require_books_rejected(case, date(1959, 11, 1), date(1960, 10, 20))
        assert "--period-start 1959-11-01" in error.value.hint
        with pytest.raises(EstimateError, match="reason and a legal authority"):
            reject_books(case, "  ", "authority")
        with pytest.raises(EstimateError, match="ends before"):
            reject_books(case, "r", "a", period_start=date(1961, 1, 1), period_end=date(1960, 1, 1))
        assert len(book_rejections(case)) == 1
        with pytest.raises(EstimateError, match="no estimate"):
            load_estimate(case, "est-missing")


def test_document_written_and_logged_with_hashes(esufall_case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_json(capsys, "estimate", "reject-books", "--case", str(esufall_case), "--reason", "bill book",
             "--authority", "s. 18(4)")
    _, result = run_json(capsys, "estimate", "extrapolate", "--case", str(esufall_case), *ESUFALL,
                         "--seasonality", "0.2", "--assessed", "state=250000")
    with open_case(esufall_case) as case:
        with pytest.raises(EstimateError, match="nexus"):
            issue_document(case, result["estimate_id"], "  ")
        written = issue_document(case, result["estimate_id"], "Same daily rate over 355 days; additions below it.",
                                 examiner="STO Indore", pdf=False)
        html = written[0].path.read_text(encoding="utf-8")
        events = case.events()
    assert "582\u2009410.76" in html and "statement of nexus" in html
    assert "<svg" in html and "s. 18(4)" in html
    issued = [event for event in events if event.action == "document_issued"]
    assert issued[-1].sha256 == sha256_file(written[0].path)
    assert issued[-1].details["estimate_id"] == result["estimate_id"]


def test_document_pdf_via_cli(esufall_case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_json(capsys, "method-change", "481a", "--year-of-change", "1992", "--accrued-income", "250000",
                            "--uncollectible", "50000", "--accrued-expenses", "75000", "--recurring-items", "5000",
                            "--case", str(esufall_case))
    assert code == 0
    code, docs = run_json(capsys, "estimate", "document", "--case", str(esufall_case), "--estimate",
                          result["estimate_id"], "--nexus", "Schedule A of Form 3115 (Rev. Nov. 1992).")
    assert code == 0 and [d["kind"] for d in docs["documents"]] == ["html", "pdf"]
    pdf = Path(docs["documents"][1]["path"])
    assert pdf.read_bytes().startswith(b"%PDF") and docs["documents"][1]["sha256"] == sha256_file(pdf)
    assert verify_case(esufall_case).ok


def test_481a_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_json(capsys, "method-change", "481a", "--year-of-change", "1992", "--accrued-income", "250000",
                            "--uncollectible", "50000", "--accrued-expenses", "75000", "--recurring-items", "5000")
    assert code == 0
    assert result["adjustment"] == "120000.00"
    assert result["spread"] == [{"year": year, "amount": "20000.00"} for year in range(1992, 1998)]
    assert "Rev. Proc. 92-20" in result["citation"]
    code, today = run_json(capsys, "method-change", "481a", "--year-of-change", "2024", "--accrued-income", "40000",
                           "--elect-de-minimis")
    assert today["spread"] == [{"year": 2024, "amount": "40000.00"}] and "7.03(3)" in today["citation"]
    code, other = run_json(capsys, "method-change", "481a", "--year-of-change", "2024", "--component",
                           "inventory=-8000")
    assert other["spread"] == [{"year": 2024, "amount": "-8000.00"}]


def test_timing_and_gross_receipts_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_json(capsys, "method-change", "timing", "--year-of-change", "1992", "--filed", "1992-08-01")
    assert code == 0 and result["status"] == "late_within_relief" and result["due_date"] == "1992-06-29"
    assert "301.9100-1" in result["citation"]
    code, result = run_json(capsys, "method-change", "gross-receipts", "--tax-year", "2024", "--receipts", "29000000",
                            "--receipts", "30000000", "--receipts", "32000000")
    assert result["average"] == "30333333.33" and result["meets"] is False


def test_indirect_cli_with_items_and_case(books_case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(books_case.root)
    books_case.close()
    code, result = run_json(capsys, "estimate", "bank-deposits", "--case", root, "--bank-account", "1920",
                            "--bank-account", "1930", "--period-start", "2024-01-01", "--period-end", "2024-12-31",
                            "--reported", "15000")
    assert code == 0 and result["understatement"] == "8000.00" and result["estimate_id"].startswith("est-")
    items = tmp_path / "nw.csv"
    items.write_text("item_id,category,description,amount\nliving,nondeductible,living,30000\n", encoding="utf-8")
    code, result = run_json(capsys, "estimate", "net-worth", "--case", root, "--items", str(items),
                            "--asset-account", "1920", "--liability-account", "2350", "--reported", "1000")
    assert code == 0 and result["lines"][6]["label"] == "Increase in net worth"
    assert result["understatement"] == "16650.00"
    code, result = run_json(capsys, "estimate", "markup", "--cost-of-sales", "29236", "--markup", "0.665")
    assert code == 0 and result["lines"][2]["amount"] == "48677.94" and "estimate_id" not in result
    code, result = run_json(capsys, "estimate", "markup", "--cost-of-sales", "100", "--gross-margin", "0.40")
    assert result["lines"][2]["amount"] == "166.67"
    code, result = run_json(capsys, "estimate", "source-application", "--case", root, "--asset-account", "1920")
    assert result["understatement"] == "-4350.00"
    assert verify_case(root).ok


@pytest.mark.parametrize(
    "args",
    [
        ["estimate", "markup", "--cost-of-sales", "12,3x", "--markup", "0.1"],
        ["estimate", "markup", "--cost-of-sales", "100", "--markup", "abc"],
        ["method-change", "timing", "--year-of-change", "2024", "--filed", "31/12/2024"],
        ["method-change", "481a", "--year-of-change", "2024", "--component", "novalue"],
        ["estimate", "bank-deposits", "--bank-account", "1920"],
    ],
)
def test_cli_bad_input_exits_nonzero_with_json_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, error = run_json(capsys, *args)
    assert code != 0 and error["hint"]


def test_turnover_ratio_from_the_books_and_a_sunday_weekend(books_case, capsys: pytest.CaptureFixture[str]) -> None:
    """Revenue account 3000 records 12,000 in February and 3,000 in May 2024 (fixture): the window's share."""
    from datetime import date

    from taxaudit.estimate.turnover import recorded_turnover

    root = str(books_case.root)
    assert recorded_turnover(books_case.con, ["3000"], date(2024, 2, 1), date(2024, 2, 29)) == Decimal("12000.00")
    with pytest.raises(EstimateError, match="no postings"):
        recorded_turnover(books_case.con, ["3000"], date(2023, 1, 1), date(2023, 1, 31))
    books_case.close()
    run_json(capsys, "estimate", "reject-books", "--case", root, "--reason", "cash sales not booked",
             "--authority", "skatteforvaltningsloven § 12-2 (skjønnsfastsetting)")
    code, result = run_json(capsys, "estimate", "extrapolate", "--case", root, "--observed", "3000",
                            "--window-start", "2024-02-01", "--window-end", "2024-02-29", "--period-start",
                            "2024-01-01", "--period-end", "2024-12-31", "--basis", "turnover_ratio",
                            "--revenue-account", "3000", "--weekend", "6")
    assert code == 0
    assert result["central"] == "3750.00"  # 3,000 x 15,000 / 12,000
    assert result["window_units"] == 12000 and result["period_units"] == 15000
    assert result["rate_per_unit"] == "0.2500"
    working = next(s for s in result["scenarios"] if s["name"] == "working_days")
    assert "Sunday" in " ".join(result["notes"]) and "Saturday" not in " ".join(result["notes"])
    assert Decimal(working["amount"]) > 0
    code, error = run_json(capsys, "estimate", "extrapolate", "--case", root, "--observed", "1", "--window-start",
                           "2024-02-01", "--window-end", "2024-02-02", "--period-start", "2024-01-01", "--period-end",
                           "2024-12-31", "--weekend", "7")
    assert code != 0 and "Monday" in error["what"]


def test_human_output_and_daily_sample(esufall_case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The table views run too, and a file of daily amounts gives the confidence band."""
    root = str(esufall_case)
    assert main(["estimate", "reject-books", "--case", root, "--reason", "bill book", "--authority", "s. 18(4)"]) == 0
    daily = tmp_path / "daily.txt"
    daily.write_text("\n".join(["1640.59"] * 18 + ["1640.66"]) + "\n", encoding="utf-8")
    assert main(["estimate", "extrapolate", "--case", root, *ESUFALL, "--daily", str(daily),
                 "--assessed", "state=2,50,000"]) == 0
    out = capsys.readouterr().out
    assert "582410.76" in out and "confidence_low" in out and "42.93 %" in out
    for args in (["method-change", "481a", "--year-of-change", "1992", "--accrued-income", "250000"],
                 ["method-change", "timing", "--year-of-change", "1992", "--filed", "1992-10-01"],
                 ["method-change", "gross-receipts", "--tax-year", "1992", "--receipts", "4000000"],
                 ["estimate", "markup", "--cost-of-sales", "29236", "--markup", "0.665"]):
        assert main(args) == 0
    out = capsys.readouterr().out
    assert "LATE" in out and "48677.94" in out and "meets the threshold 5000000.00" in out
    assert main(["estimate", "extrapolate", "--case", root, *ESUFALL, "--daily", str(tmp_path / "none.txt")]) != 0
