"""Seed 000: TIGTA report 2023-10-055 (FY 2023 mandatory review of FOIA compliance).

Published: a stratified statistical sample of 83 from 3,423 FOIA requests, planned at 90 % confidence, 11 %
overall expected error rate ("a 35 percent projected error rate for partial denials" and 0 % for denials, no
records and imperfect requests) and ±4 % precision; 18 exceptions; projected 506 requests with a 90 % interval of
366 to 647.

What the seed leaves out: the size of each stratum, the sample allocated to each, and in which strata the 18
exceptions fell. These tests show (1) the documented inputs do not give 83 for a simple random sample (158) nor
for an optimally allocated stratified one (35); (2) the published projection is reproduced exactly, and only by,
the design "1,041 partial denials with 37 sampled and all 18 exceptions, 2,382 other requests with 46 sampled and
none", evaluated with the separate-stratum estimator, FPC, sample variance (n - 1) and the normal 90 % two-sided
multiplier 1.645; that design also matches the stated 11 % (0.35 x 1,041 / 3,423 = 10.6 %).
"""

from __future__ import annotations

import pytest

from taxaudit.sampling.stratified import AttributeStratum, StratumResult, plan_stratified_attribute, project_errors

POPULATION = 3423
SAMPLE = 83
EXCEPTIONS = 18


def _rounded(n1: int, big_n1: int) -> tuple[int, int, int]:
    result = project_errors([StratumResult("partial denials", big_n1, n1, EXCEPTIONS),
                             StratumResult("other", POPULATION - big_n1, SAMPLE - n1, 0)], 0.90)
    e = result.errors
    return round(e.point_estimate), round(e.lower), round(e.upper)


def test_documented_inputs_do_not_give_83_for_a_simple_random_sample() -> None:
    # n0 = 1.645^2 x 0.11 x 0.89 / 0.04^2 = 165.6; with FPC n = n0 / (1 + (n0 - 1)/3423) = 158.
    plan = plan_stratified_attribute([AttributeStratum("all", POPULATION, 0.11)], 0.04, 0.90)
    assert plan.n == 158
    assert plan.unrounded_n == pytest.approx(157.95, abs=0.01)


def test_reconstructed_strata_need_35_so_83_includes_an_unstated_allocation() -> None:
    # Neyman allocation puts the whole ±4 % budget on the only stratum expected to have errors: 35 of the 1,041
    # partial denials. The other 48 of 83 (46 in our reconstruction) follow from a minimum per stratum the
    # report does not state.
    plan = plan_stratified_attribute([AttributeStratum("partial denials", 1041, 0.35),
                                      AttributeStratum("other", 2382, 0.0)], 0.04, 0.90)
    assert plan.n_by_stratum == {"partial denials": 35, "other": 0}


def test_published_projection_reproduced_by_the_reconstructed_design() -> None:
    result = project_errors([StratumResult("partial denials", 1041, 37, 18), StratumResult("other", 2382, 46, 0)],
                            0.90)
    assert result.errors.point_estimate == pytest.approx(506.43, abs=0.01)
    assert result.errors.lower == pytest.approx(366.35, abs=0.01)
    assert result.errors.upper == pytest.approx(646.51, abs=0.01)
    assert _rounded(37, 1041) == (506, 366, 647)
    assert pytest.approx(0.106, abs=0.001) == 0.35 * 1041 / POPULATION  # "averaged 11 percent overall"


def test_the_reconstruction_is_the_only_integer_design_that_fits() -> None:
    # Search every split of the 83 with all exceptions in one stratum whose projection rounds to 506.
    candidates = [(n1, big_n1) for n1 in range(EXCEPTIONS, SAMPLE - 1) for big_n1 in range(n1, POPULATION - SAMPLE)
                  if round(EXCEPTIONS * big_n1 / n1) == 506]
    fits = {c for c in candidates if _rounded(*c) == (506, 366, 647)}
    assert fits == {(37, 1041)}


def test_unweighted_projection_is_not_the_published_one() -> None:
    # 18/83 x 3,423 = 742: outside the published interval, so the sample was not self-weighting.
    assert round(EXCEPTIONS / SAMPLE * POPULATION) == 742 > 647
