"""Classical variables estimation (Cochran, Sampling Techniques, 3rd ed., ch. 5-6) and allocation."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from taxaudit.sampling.errors import SamplingError
from taxaudit.sampling.variables import (
    StratumDesign,
    StratumSample,
    allocate,
    estimate_total,
    plan_variables,
)

BOOK = [100.0, 50.0, 200.0, 80.0]
AUDITED = [90.0, 50.0, 200.0, 70.0]


def test_difference_estimator_by_hand() -> None:
    # N = 100, book total 10,000; differences -10, 0, 0, -10: mean -5, s^2 = 100/3.
    # Total = 10,000 + 100 x (-5) = 9,500; Var = 100^2 x (1 - 4/100) x (100/3) / 4 = 80,000.
    stratum = StratumSample("a", 100, AUDITED, BOOK, 10_000.0)
    result = estimate_total([stratum], 0.95, "difference", sides=1)
    assert result.point_estimate == pytest.approx(9500.0)
    assert result.standard_error == pytest.approx(math.sqrt(80_000))
    assert result.lower == pytest.approx(9500 - stats.t.ppf(0.95, 3) * math.sqrt(80_000))


def test_ratio_estimator_by_hand() -> None:
    ratio = sum(AUDITED) / sum(BOOK)
    residual_variance = sum((y - ratio * x) ** 2 for y, x in zip(AUDITED, BOOK, strict=True)) / 3
    result = estimate_total([StratumSample("a", 100, AUDITED, BOOK, 10_000.0)], 0.95, "ratio")
    assert result.point_estimate == pytest.approx(ratio * 10_000)
    assert result.standard_error ** 2 == pytest.approx(100**2 * 0.96 * residual_variance / 4)


def test_mean_per_unit_is_design_unbiased_with_unbiased_variance() -> None:
    # Enumerate every simple random sample of 3 from 6 units: the MPU estimator averages to the true total and
    # its variance estimator (with FPC) averages to the estimator's true variance (Cochran theorems 2.1, 2.4).
    values = [12.0, 7.5, 30.0, 0.0, 18.25, 9.0]
    samples = list(itertools.combinations(values, 3))
    estimates = [estimate_total([StratumSample("a", 6, list(s))], 0.9, "mpu") for s in samples]
    totals = [e.point_estimate for e in estimates]
    mean_total = sum(totals) / len(totals)
    assert mean_total == pytest.approx(sum(values))
    true_variance = sum((t - mean_total) ** 2 for t in totals) / len(totals)
    assert sum(e.standard_error ** 2 for e in estimates) / len(estimates) == pytest.approx(true_variance)


def test_stratified_error_amount_projection() -> None:
    # Error amounts are a mean-per-unit estimate over the sample (zeros for items without error): stratum A
    # (N = 100, n = 4, errors 10 and 30) projects 100 x 40 / 4 = 1,000; stratum B (N = 50, n = 2, none) 0.
    from taxaudit.sampling.stratified import StratumResult, project_errors

    result = project_errors([StratumResult("A", 100, 4, 2, [10.0, 30.0]), StratumResult("B", 50, 2, 0, [])], 0.95)
    assert result.errors.point_estimate == pytest.approx(50.0)
    assert result.amount is not None and result.amount.point_estimate == pytest.approx(1000.0)
    values = [10.0, 30.0, 0.0, 0.0]
    mean = sum(values) / 4
    variance = 100**2 * (1 - 4 / 100) * sum((v - mean) ** 2 for v in values) / 3 / 4
    assert result.amount.standard_error == pytest.approx(math.sqrt(variance))


def test_zero_errors_projection_carries_a_note() -> None:
    from taxaudit.sampling.stratified import StratumResult, project_errors

    result = project_errors([StratumResult("A", 100, 10, 0)], 0.90).to_dict()
    assert (result["lower"], result["upper"]) == (0.0, 0.0)
    assert "exact upper limit" in result["note"]


def test_certainty_stratum_adds_no_variance_and_no_degrees_of_freedom() -> None:
    full = StratumSample("top", 3, [500.0, 400.0, 300.0])
    sampled = StratumSample("rest", 50, [10.0, 12.0, 8.0, 11.0])
    result = estimate_total([full, sampled], 0.95, "mpu")
    assert result.strata[0].variance == 0.0 and result.strata[0].certainty
    assert result.degrees_of_freedom == 3
    assert result.point_estimate == pytest.approx(1200 + 50 * 10.25)


def test_single_stratum_size_is_cochran_with_fpc() -> None:
    # n0 = (z S N / A)^2 with N = 2,000, S = 120, A = 20,000, z(95 % two-sided) = 1.96; n = n0 / (1 + n0 / N).
    z = stats.norm.ppf(0.975)
    n0 = (z * 120 * 2000 / 20_000) ** 2
    plan = plan_variables([StratumDesign("all", 2000, 120.0)], 20_000, 0.95)
    assert plan.unrounded_n == pytest.approx(n0 / (1 + n0 / 2000))
    assert plan.n == math.ceil(n0 / (1 + n0 / 2000))


def test_neyman_needs_no_more_than_proportional() -> None:
    strata = [StratumDesign("large", 400, 900.0), StratumDesign("small", 3600, 40.0)]
    neyman = plan_variables(strata, 200_000, 0.95, allocation="neyman")
    proportional = plan_variables(strata, 200_000, 0.95, allocation="proportional")
    assert neyman.n < proportional.n
    assert neyman.n_by_stratum["large"] > proportional.n_by_stratum["large"]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 500), sizes=st.lists(st.integers(1, 400), min_size=1, max_size=6),
       how=st.sampled_from(["proportional", "neyman"]))
def test_allocation_never_exceeds_a_stratum(n: int, sizes: list[int], how: str) -> None:
    strata = [StratumDesign(f"s{i}", size, float(i + 1)) for i, size in enumerate(sizes)]
    result = allocate(min(n, sum(sizes)), strata, how)  # type: ignore[arg-type]
    assert all(0 <= result[s.name] <= s.population_size for s in strata)


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(0, 1000, allow_nan=False), min_size=2, max_size=20),
       low=st.sampled_from([0.8, 0.9]), high=st.sampled_from([0.95, 0.99]))
def test_interval_widens_with_confidence(values: list[float], low: float, high: float) -> None:
    stratum = [StratumSample("a", 1000, values)]
    narrow, wide = estimate_total(stratum, low, "mpu"), estimate_total(stratum, high, "mpu")
    assert wide.upper >= narrow.upper and wide.lower <= narrow.lower


def test_bad_variables_inputs() -> None:
    with pytest.raises(SamplingError, match="no sampled items"):
        estimate_total([StratumSample("a", 10, [])], 0.95)
    with pytest.raises(SamplingError, match="only 2"):
        estimate_total([StratumSample("a", 2, [1.0, 2.0, 3.0])], 0.95)
    with pytest.raises(SamplingError, match="book value for every"):
        estimate_total([StratumSample("a", 10, [1.0, 2.0], [1.0], 5.0)], 0.95, "difference")
    with pytest.raises(SamplingError, match="unknown estimator"):
        estimate_total([StratumSample("a", 10, [1.0, 2.0])], 0.95, "regression")  # type: ignore[arg-type]
    with pytest.raises(SamplingError, match="one sampled item"):
        estimate_total([StratumSample("a", 10, [1.0])], 0.95)
    with pytest.raises(SamplingError, match="positive amount"):
        plan_variables([StratumDesign("a", 10, 1.0)], 0, 0.95)


def _sample_with_moments(n: int, sums: dict[str, float]) -> tuple[list[float], list[float]]:
    """Return n (book, audited) pairs whose sums, sums of squares and cross-products equal ``sums`` exactly.

    The estimators depend on the sample only through these sufficient statistics, so a published example that
    prints them can be replayed without its raw data: whiten random points, then give them the target moments.
    """
    import numpy as np

    mean = np.array([sums["x"], sums["y"]]) / n
    cov = np.array([[sums["xx"] - sums["x"] ** 2 / n, sums["xy"] - sums["x"] * sums["y"] / n],
                    [sums["xy"] - sums["x"] * sums["y"] / n, sums["yy"] - sums["y"] ** 2 / n]]) / (n - 1)
    z = np.random.default_rng(0).standard_normal((n, 2))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)
    points = z @ np.linalg.cholesky(cov).T + mean
    return points[:, 0].tolist(), points[:, 1].tolist()


def test_inventory_example_from_data_analytics_for_auditors() -> None:
    # FSaudit tests/testthat/test-dafa-cvs.R (Hoogduin, "Data Analytics for Auditors", paragraphs 4.1-4.4):
    # inventory of N = 3,500 items, book value 7,360,816; a sample of 400 with sum(bv) 863,201.37,
    # sum(av) 864,212.48, sum(bv^2) 3,586,086,982, sum(av^2) 3,649,977,984, sum(bv*av) 3,550,437,464.
    # Published 95 % two-sided results (t, 399 df, FPC): MPU 7,561,859 +/- 684,415; difference 7,369,663
    # +/- 188,467.44; ratio 7,369,438 +/- 188,530.
    book, audited = _sample_with_moments(400, {"x": 863201.37, "y": 864212.48, "xx": 3586086982,
                                               "yy": 3649977984, "xy": 3550437464})
    stratum = StratumSample("inventory", 3500, audited, book, 7_360_816.0)
    mpu = estimate_total([stratum], 0.95, "mpu")
    assert mpu.point_estimate == pytest.approx(7_561_859, rel=1e-6)
    assert mpu.precision == pytest.approx(684_415, rel=1e-6)
    difference = estimate_total([stratum], 0.95, "difference")
    assert difference.point_estimate == pytest.approx(7_369_663, rel=1e-6)
    assert difference.precision == pytest.approx(188_467.44, rel=1e-5)
    ratio = estimate_total([stratum], 0.95, "ratio")
    assert ratio.point_estimate == pytest.approx(7_369_438, rel=1e-6)
    assert ratio.precision == pytest.approx(188_530, rel=1e-6)
