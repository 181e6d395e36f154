"""Monetary-unit sampling: AICPA confidence factors and sample sizes, Stringer and cell bounds."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxaudit.sampling.errors import SamplingError
from taxaudit.sampling.mus import Misstatement, cell_bound, confidence_factor, plan_mus, stringer_bound


def test_aicpa_confidence_factors() -> None:
    # AICPA Audit Sampling Guide, App. C, Table C-3 (MUS confidence factors for overstatements):
    # 5 % risk of incorrect acceptance: 3.00, 4.75, 6.30, 7.76, 9.16; 10 %: 2.31, 3.89, 5.33, 6.69, 8.00.
    assert [confidence_factor(k, 0.95, "aicpa") for k in range(5)] == [3.00, 4.75, 6.30, 7.76, 9.16]
    assert [confidence_factor(k, 0.90, "aicpa") for k in range(5)] == [2.31, 3.89, 5.33, 6.69, 8.00]
    assert confidence_factor(0, 0.95) == pytest.approx(2.995732, abs=1e-6)  # -ln(0.05)


@pytest.mark.parametrize(("confidence", "ratio", "tolerable", "n"), [
    # AICPA App. C, Table C-1 as transcribed in jfa tests/testthat/test-validation-appendix-c.R:
    # rows = risk of incorrect acceptance and ratio of expected to tolerable misstatement, columns = tolerable
    # misstatement as a fraction of the population.
    (0.95, 0.0, 0.05, 60), (0.95, 0.0, 0.10, 30), (0.95, 0.0, 0.01, 300), (0.95, 0.0, 0.02, 150),
    (0.95, 0.1, 0.05, 74), (0.95, 0.2, 0.05, 93), (0.95, 0.5, 0.05, 231), (0.95, 0.3, 0.10, 60),
    (0.90, 0.0, 0.05, 47), (0.90, 0.2, 0.05, 69), (0.90, 0.0, 0.02, 116), (0.90, 0.5, 0.01, 799),
    (0.80, 0.0, 0.05, 33), (0.70, 0.0, 0.05, 25),
])
def test_table_c1_sample_sizes(confidence: float, ratio: float, tolerable: float, n: int) -> None:
    book = D("1000000")
    tolerable_misstatement = book * D(str(tolerable))
    plan = plan_mus(book, tolerable_misstatement, confidence, tolerable_misstatement * D(str(ratio)))
    assert plan.n == n
    assert plan.sampling_interval == (book / n).quantize(D("0.01"))


def test_sample_sizes_match_fsaudit_poisson() -> None:
    # FSaudit tests/testthat/test-musPois.R: book value 1,000,000 (50 items of about 20,000), performance
    # materiality 100,000: expected error 0 -> 30, 20,000 -> 47. (For 30,000 FSaudit gives 61 and AICPA's rule
    # 60: FSaudit sizes for a Stringer evaluation of whole 100 % taints, we follow Table C-1's Poisson rule.)
    assert plan_mus(D("1000000"), D("100000"), 0.95).n == 30
    assert plan_mus(D("1000000"), D("100000"), 0.95, D("20000")).n == 47


HARDER = [Misstatement(D(b), D(a)) for b, a in
          [("1500", "1000"), ("2400", "1200"), ("8200", "7500"), ("6000", "5400"), ("9000", "8000")]]


def test_stringer_textbook_harder_company() -> None:
    # Published exercise (Harder Company, PPS sampling of accounts receivable): book value $720,000, n = 90
    # (interval $8,000), 5 % risk of incorrect acceptance, factor 3.0, incremental changes 1.75, 1.55, 1.46, 1.40.
    # Worked by hand with the AICPA factors: items of $8,200 and $9,000 are at or above the interval (top
    # stratum, actual misstatement 700 + 1,000); taints 50 %, 33.3 %, 10 % are projected over $8,000:
    #   basic precision 3.0 x 8,000 = 24,000.00
    #   projected 8,000 x (0.5 + 0.3333 + 0.1) + 1,700 = 9,166.67
    #   incremental 8,000 x (0.75 x 0.5 + 0.55 x 0.3333 + 0.46 x 0.1) = 4,834.67
    #   UML 38,001.33 > tolerable $30,000: the balance is not supported.
    result = stringer_bound(HARDER, D("8000"), 0.95, factors="aicpa", tolerable_misstatement=D("30000"))
    assert result.basic_precision == D("24000.00")
    assert result.projected_misstatement == D("9166.67")
    assert result.incremental_allowance == D("4834.67")
    assert result.top_stratum_misstatement == D("1700.00")
    assert result.upper_misstatement_limit == D("38001.33")


def test_stringer_textbook_jordan_thomas() -> None:
    # Published exercise (Jordan Thomas, accounts receivable): interval $12,300, 5 % risk, tolerable $65,000;
    # basic allowance 12,300 x 3.0 = 36,900 (as in the published answer). By hand: $15,000 item is top stratum
    # (2,500 actual); taints 60 % and 33.3 %: projected 2,500 + 7,380 + 4,100 = 13,980; incremental
    # 12,300 x (0.75 x 0.6 + 0.55 x 0.3333) = 7,790; UML 58,670 <= 65,000.
    items = [Misstatement(D("15000"), D("12500")), Misstatement(D("10000"), D("4000")),
             Misstatement(D("3000"), D("2000"))]
    result = stringer_bound(items, D("12300"), 0.95, factors="aicpa")
    assert result.basic_precision == D("36900.00")
    assert result.projected_misstatement == D("13980.00")
    assert result.incremental_allowance == D("7790.00")
    assert result.upper_misstatement_limit == D("58670.00")


def test_stringer_poisson_matches_fsaudit_and_idea() -> None:
    # FSaudit (Hoogduin & Boersma) tests/testthat/test-MusEval.R, "MUS stringer evaluation poisson match":
    # 145 sampling units from a population of 13,500,000; the only misstatements are 100 -> 0, 250 -> 200 and
    # 400 -> 384 (taints 100 %, 20 %, 4 %). FSaudit reports basic precision 278,914, allowances 69,653.55,
    # 10,277.31 and 1,705.14 and an upper bound of 475,998.28; it rounds each Poisson bound up to a whole unit,
    # which accounts for the difference below one unit per factor.
    items = [Misstatement(D("100"), D("0")), Misstatement(D("250"), D("200")), Misstatement(D("400"), D("384"))]
    result = stringer_bound(items, D("13500000") / 145, 0.95)
    assert result.basic_precision == pytest.approx(D("278914"), abs=D("1"))
    assert result.projected_misstatement == D("115448.28")
    assert result.incremental_allowance == pytest.approx(D("69653.55") + D("10277.31") + D("1705.14"), abs=D("1"))
    assert result.upper_misstatement_limit == pytest.approx(D("475998.28"), abs=D("2"))


def test_stringer_binomial_zero_errors_matches_jfa() -> None:
    # jfa tests/testthat/test-evaluation.R f3-v0.1.0-t7: stringer.binomial with no errors in n = 60 gives
    # ub = 0.04870291 of the population value.
    book = D("600000")
    result = stringer_bound([], book / 60, 0.95, factors="binomial", n=60)
    assert float(result.upper_misstatement_limit / book) == pytest.approx(0.04870291, abs=1e-7)


def test_understatements_are_reported_not_netted() -> None:
    items = [*HARDER, Misstatement(D("500"), D("700"))]
    result = stringer_bound(items, D("8000"), 0.95, factors="aicpa")
    assert result.understatements == D("-200.00")
    assert result.upper_misstatement_limit == D("38001.33")


def test_cell_bound_equals_stringer_for_full_taints_and_is_lower_otherwise() -> None:
    full = [Misstatement(D("100"), D("0")), Misstatement(D("250"), D("0"))]
    assert cell_bound(full, D("1000"), 0.95).upper_misstatement_limit == pytest.approx(
        stringer_bound(full, D("1000"), 0.95).upper_misstatement_limit, abs=D("0.02"))
    assert (cell_bound(HARDER, D("8000"), 0.95).upper_misstatement_limit
            < stringer_bound(HARDER, D("8000"), 0.95).upper_misstatement_limit)


taints = st.lists(st.integers(1, 100), min_size=0, max_size=8)


@settings(max_examples=60, deadline=None)
@given(percent=taints, extra=st.integers(1, 100))
def test_bounds_monotone_in_errors_and_confidence(percent: list[int], extra: int) -> None:
    items = [Misstatement(D("100"), D(100 - p)) for p in percent]
    more = [*items, Misstatement(D("100"), D(100 - extra))]
    for bound in (stringer_bound, cell_bound):
        base = bound(items, D("1000"), 0.90).upper_misstatement_limit
        assert bound(more, D("1000"), 0.90).upper_misstatement_limit >= base
        assert bound(items, D("1000"), 0.95).upper_misstatement_limit >= base
    assert (cell_bound(items, D("1000"), 0.95).upper_misstatement_limit
            <= stringer_bound(items, D("1000"), 0.95).upper_misstatement_limit + D("0.01"))


@settings(max_examples=30, deadline=None)
@given(confidence=st.sampled_from([0.80, 0.90, 0.95, 0.99]), ratio=st.sampled_from([0.02, 0.05, 0.1]))
def test_zero_errors_gives_the_planning_bound(confidence: float, ratio: float) -> None:
    book = D("5000000")
    plan = plan_mus(book, book * D(str(ratio)), confidence)
    result = stringer_bound([], book / plan.n, confidence)
    assert result.upper_misstatement_limit <= book * D(str(ratio))
    assert result.upper_misstatement_limit == result.basic_precision


def test_bad_mus_inputs() -> None:
    with pytest.raises(SamplingError, match="expected misstatement"):
        plan_mus(D("1000"), D("50"), 0.95, D("60"))
    with pytest.raises(SamplingError, match="book value"):
        plan_mus(D("0"), D("50"), 0.95)
    with pytest.raises(SamplingError, match="interval"):
        stringer_bound([], D("0"), 0.95)
    with pytest.raises(SamplingError, match="separately"):
        stringer_bound([Misstatement(D("-5"), D("0"))], D("10"), 0.95)
    with pytest.raises(SamplingError, match="sample size"):
        confidence_factor(1, 0.95, "binomial")
