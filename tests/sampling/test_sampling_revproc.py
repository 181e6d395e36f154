"""The Rev. Proc. 2011-42 choice of sampling estimate (rule data in sampling/rules/rev_proc_2011_42.yaml)."""

from __future__ import annotations

import pytest

from taxaudit.sampling.errors import SamplingError
from taxaudit.sampling.revproc import load_rule, tax_estimate
from taxaudit.sampling.variables import Estimate, StratumEstimate


def _estimate(point: float, precision: float, *, certainty_total: float = 0.0) -> Estimate:
    strata = [StratumEstimate("sampled", 1000, 100, point - certainty_total, 1.0, False)]
    if certainty_total:
        strata.append(StratumEstimate("top", 10, 10, certainty_total, 0.0, True))
    return Estimate("difference", point, precision / 1.66, point - precision, point + precision, 0.95, 1, "t", 99,
                    strata)


def test_rule_is_data_with_citation_and_dates() -> None:
    rule = load_rule()
    assert "Rev. Proc. 2011-42" in rule["citation"]
    assert (rule["point_estimate_up_to"], rule["adjusted_point_estimate_up_to"]) == (0.10, 0.15)
    assert str(rule["effective_from"]) == "2011-08-19"


def test_relative_precision_up_to_ten_percent_uses_the_point_estimate() -> None:
    result = tax_estimate(_estimate(100_000, 10_000), "higher")
    assert (result.amount, result.basis) == (100_000, "point estimate")


def test_ten_to_fifteen_percent_moves_by_the_excess_precision() -> None:
    # Precision 12,000 on 100,000: the excess over 10 % of the point estimate is 2,000. A deduction claimed
    # (higher benefits the taxpayer) becomes 98,000; an amount adding to tax becomes 102,000.
    assert tax_estimate(_estimate(100_000, 12_000), "higher").amount == pytest.approx(98_000)
    assert tax_estimate(_estimate(100_000, 12_000), "lower").amount == pytest.approx(102_000)


def test_above_fifteen_percent_uses_the_least_advantageous_limit() -> None:
    assert tax_estimate(_estimate(100_000, 20_000), "higher").amount == 80_000
    assert tax_estimate(_estimate(100_000, 20_000), "lower").amount == 120_000


def test_fully_tested_strata_are_left_out_of_the_denominator() -> None:
    # 6,000 on a total of 100,000 is 6 %, but half the total comes from a 100 % stratum: 6,000 / 50,000 = 12 %.
    result = tax_estimate(_estimate(100_000, 6_000, certainty_total=50_000), "higher")
    assert result.relative_precision == pytest.approx(0.12)
    assert result.amount == pytest.approx(100_000 - (6_000 - 5_000))


def test_rule_needs_a_one_sided_95_percent_estimate() -> None:
    two_sided = Estimate("mpu", 100.0, 1.0, 98.0, 102.0, 0.95, 2, "t", 10, [])
    with pytest.raises(SamplingError, match="1-sided 95%"):
        tax_estimate(two_sided, "higher")
    with pytest.raises(SamplingError, match="higher"):
        tax_estimate(_estimate(100, 5), "more")  # type: ignore[arg-type]
