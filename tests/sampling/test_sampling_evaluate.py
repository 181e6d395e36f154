"""Evaluation from results files: column checks, value parsing and the dispatch to each method."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from taxaudit.sampling.errors import SamplingError
from taxaudit.sampling.evaluate import (
    attribute_from_rows,
    mus_from_rows,
    read_results,
    stratified_from_rows,
    variables_from_rows,
)
from taxaudit.sampling.plan import parse_strata, plan


def _rows(deviations: list[str]) -> list[dict[str, str]]:
    return [{"deviation": d} for d in deviations]


def test_attribute_rows_count_yes_no_values() -> None:
    result = attribute_from_rows(_rows(["yes", "0", "1", "", "no", "x"]), 0.95)
    assert (result["n"], result["deviations"]) == (6, 3)


def test_mus_rows_evaluate_with_top_stratum_and_conclusion() -> None:
    rows = [
        {"amount": "9000.00", "audited_amount": "8000.00", "sampling_interval": "8000.00", "hits": "1"},
        {"amount": "2400.00", "audited_amount": "1200.00", "sampling_interval": "8000.00", "hits": "1"},
        {"amount": "500.00", "audited_amount": "500.00", "sampling_interval": "8000.00", "hits": "1"},
    ]
    # 3.0 x 8,000 + 0.5 x 8,000 + 0.75 x 0.5 x 8,000 + 1,000 (top stratum, actual) = 32,000.
    result = mus_from_rows(rows, 0.95, factors="aicpa", tolerable_misstatement=Decimal("30000"))
    assert result["top_stratum_misstatement"] == Decimal("1000.00")
    assert result["upper_misstatement_limit"] == Decimal("32000.00")
    assert result["misstatements_found"] == 2
    assert result["conclusion_supported"] is False


def test_variables_rows_by_stratum() -> None:
    rows = [{"stratum": "a", "stratum_population": "100", "stratum_book_value": "10000.00", "amount": b,
             "audited_amount": a} for b, a in [("100", "90"), ("50", "50"), ("200", "200"), ("80", "70")]]
    result = variables_from_rows(rows, 0.95, estimator="difference")
    assert result["point_estimate"] == Decimal("9500.00")
    assert result["misstatement_point_estimate"] == Decimal("500.00")
    assert result["sides"] == 1 and result["distribution"] == "t"


@pytest.mark.parametrize(("function", "rows", "message"), [
    (attribute_from_rows, [{"flag": "1"}], "lack column"),
    (attribute_from_rows, [{"deviation": "maybe"}], "not yes/no"),
    (mus_from_rows, [{"amount": "1", "audited_amount": "x", "sampling_interval": "5"}], "not a number"),
    (stratified_from_rows, [{"deviation": "1", "stratum": "a", "stratum_population": "ten"}], "whole number"),
    (variables_from_rows, [{"amount": "1", "audited_amount": "1"}], "stratum_book_value"),
])
def test_bad_results_say_what_and_where(function, rows, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SamplingError, match=message) as info:
        function(rows, 0.95)
    assert info.value.where is not None


def test_unknown_mus_bound() -> None:
    rows = [{"amount": "1.00", "audited_amount": "1.00", "sampling_interval": "5.00"}]
    with pytest.raises(SamplingError, match="unknown MUS bound"):
        mus_from_rows(rows, 0.95, bound="poisson")


def test_read_results_files(tmp_path: Path) -> None:
    with pytest.raises(SamplingError, match="not found"):
        read_results(tmp_path / "none.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("deviation\n", encoding="utf-8")
    with pytest.raises(SamplingError, match="no rows"):
        read_results(empty)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("deviation,note\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(SamplingError, match="UTF-8"):
        read_results(latin)


def test_plan_dispatch_and_strata_parsing() -> None:
    assert plan("attribute", confidence=0.95, tolerable_rate=0.05)["n"] == 59
    assert parse_strata("a:10:1.5, b:20:0") == [("a", 10, 1.5), ("b", 20, 0.0)]
    with pytest.raises(SamplingError, match="name:size:value"):
        parse_strata("a:10")
    with pytest.raises(SamplingError, match="non-numeric"):
        parse_strata("a:ten:1")
    with pytest.raises(SamplingError, match="unknown sampling method"):
        plan("judgmental", confidence=0.95)


def test_mus_rows_use_the_selection_top_stratum_flag() -> None:
    # Interval BV/n = 100.004 is written as 100.00; an item of exactly 100.00 was below the interval when drawn
    # (not top stratum), so its misstatement must be projected, not taken at face value.
    row = {"amount": "100.00", "audited_amount": "50.00", "sampling_interval": "100.00", "top_stratum": "False"}
    result = mus_from_rows([row], 0.95, factors="aicpa")
    assert result["top_stratum_misstatement"] == Decimal("0.00")
    assert result["projected_misstatement"] == Decimal("50.00")
    flagged = mus_from_rows([{**row, "top_stratum": "True"}], 0.95, factors="aicpa")
    assert flagged["top_stratum_misstatement"] == Decimal("50.00")


def test_stratified_rows_project_error_amounts_as_money() -> None:
    rows = [{"stratum": "a", "stratum_population": "100", "deviation": d, "amount": b, "audited_amount": a}
            for d, b, a in [("1", "50.00", "40.00"), ("0", "20.00", "20.00"), ("1", "30.00", "0.00"),
                            ("0", "10.00", "10.00")]]
    result = stratified_from_rows(rows, 0.90)
    assert result["point_estimate"] == pytest.approx(50.0)  # 2 of 4 errors, N = 100
    assert result["amount"]["point_estimate"] == Decimal("1000.00")  # 100 x (10 + 30) / 4
