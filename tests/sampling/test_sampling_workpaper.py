"""The sampling workpaper: conclusion sentences and the HTML/XLSX files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from taxaudit.sampling.attribute import evaluate_attribute, plan_attribute
from taxaudit.sampling.stratified import StratumResult, project_errors
from taxaudit.sampling.workpaper import Workpaper, conclusion, write_workpaper


def test_attribute_conclusions() -> None:
    plan = plan_attribute(0.95, 0.05).to_dict()
    assert "does not exceed the tolerable rate of 5.00%" in conclusion(plan, evaluate_attribute(59, 0, 0.95).to_dict())
    assert "does not support reliance" in conclusion(plan, evaluate_attribute(59, 2, 0.95).to_dict())


def test_stratified_conclusion_states_the_seed_000_projection() -> None:
    projection = project_errors([StratumResult("partial", 1041, 37, 18), StratumResult("other", 2382, 46, 0)], 0.90)
    assert conclusion(None, projection.to_dict()) == (
        "18 errors in a sample of 83 project to 506 of 3,423 items (90% interval 366 to 647).")


def test_mus_conclusion() -> None:
    evaluation = {"method": "mus", "confidence": 0.95, "bound": "stringer", "projected_misstatement": "9166.67",
                  "upper_misstatement_limit": "38001.33", "tolerable_misstatement": Decimal("30000")}
    assert conclusion(None, evaluation).endswith("above the tolerable misstatement of 30,000.00: the recorded amount "
                                                 "is not supported.")


def test_files_are_written(tmp_path: Path) -> None:
    rows = [{"selection_order": 1, "key": "A<script>", "amount": Decimal("10.00"), "deviation": "0"}]
    paper = Workpaper("FOIA review", plan_attribute(0.95, 0.05).to_dict(), {"seed": 7}, rows,
                      evaluate_attribute(59, 0, 0.95).to_dict(), "examiner 1")
    html_path, xlsx_path = write_workpaper(paper, tmp_path / "wp.html")
    html = html_path.read_text(encoding="utf-8")
    assert "A&lt;script&gt;" in html and "<script>" not in html
    assert "Conclusion" in html and "seed" in html
    assert load_workbook(xlsx_path).sheetnames == ["Conclusion", "Plan", "Draw", "Evaluation", "Selection"]


def test_variables_conclusion_names_the_rev_proc_amount() -> None:
    evaluation = {"method": "variables", "confidence": 0.95, "point_estimate": 9500.0, "book_value": "10000.00",
                  "misstatement_point_estimate": 500.0, "misstatement_lower": 0.0, "misstatement_upper": 1165.5,
                  "rev_proc_2011_42": {"relative_precision": 0.07, "amount": 9500.0, "basis": "point estimate"}}
    text = conclusion(None, evaluation)
    assert text.startswith("Estimated audited total 9,500.00 against a book value of 10,000.00")
    assert text.endswith("Under Rev. Proc. 2011-42 (relative precision 7.00%) the amount to use is 9,500.00 "
                         "(point estimate).")
    assert conclusion(None, None) == "The sample has not been evaluated yet."
