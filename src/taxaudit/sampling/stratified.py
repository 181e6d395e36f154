"""Stratified attribute samples: sample size with finite-population correction and projection of errors.

A deviation is a 0/1 value, so the projected number of errors is the mean-per-unit estimate of the total of
that indicator (Cochran, *Sampling Techniques*, 3rd ed., sec. 5.8, proportions in stratified sampling) and the
error amount is the mean-per-unit estimate of the error amounts; both use the separate-stratum variance with
the finite-population correction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from taxaudit.sampling._checks import check_rate
from taxaudit.sampling.errors import SamplingError
from taxaudit.sampling.variables import (
    Allocation,
    Distribution,
    Estimate,
    StratumDesign,
    StratumSample,
    VariablesPlan,
    estimate_total,
    plan_variables,
)


@dataclass(frozen=True)
class AttributeStratum:
    """A stratum for planning an attribute sample: size and the error rate expected within it."""

    name: str
    population_size: int
    expected_rate: float


@dataclass(frozen=True)
class StratumResult:
    """Results of one stratum: population size, sample size, errors found and (optionally) error amounts."""

    name: str
    population_size: int
    sample_size: int
    errors: int
    error_amounts: Sequence[float] | None = None  # None: amounts not recorded; [] recorded, no errors


@dataclass(frozen=True)
class StratifiedProjection:
    """Projected number (and amount) of errors in the population with confidence limits."""

    errors: Estimate
    amount: Estimate | None
    population_size: int
    sample_size: int
    errors_found: int

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data.update(method="stratified-attribute", point_estimate=self.errors.point_estimate,
                    lower=self.errors.lower, upper=self.errors.upper, confidence=self.errors.confidence)
        if self.errors_found == 0:
            # With no errors the sample variance is zero and a normal or t interval collapses to 0-0.
            data["note"] = ("no errors were found, so the variance-based interval is 0 to 0; state an exact upper "
                            "limit instead (sample evaluate --method attribute)")
        return data


def _bernoulli_sd(stratum: AttributeStratum) -> float:
    p = check_rate(stratum.expected_rate, f"expected rate of {stratum.name}")
    big_n = stratum.population_size
    # S_h^2 = N_h/(N_h - 1) p q: the population variance of a 0/1 variable (Cochran eq. 3.3).
    return math.sqrt(p * (1 - p) * big_n / (big_n - 1)) if big_n > 1 else 0.0


def plan_stratified_attribute(
    strata: Sequence[AttributeStratum],
    precision: float,
    confidence: float,
    *,
    allocation: Allocation = "neyman",
    sides: int = 2,
    minimum_per_stratum: int = 0,
) -> VariablesPlan:
    """Return the sample size estimating the population error rate within ±``precision`` (Cochran sec. 5.8).

    With one stratum this is Cochran's n = n0 / (1 + (n0 - 1)/N), n0 = z^2 p q / E^2.
    """
    check_rate(precision, "precision", allow_zero=False)
    big_n = sum(s.population_size for s in strata)
    designs = [StratumDesign(s.name, s.population_size, _bernoulli_sd(s)) for s in strata]
    plan = plan_variables(designs, precision * big_n, confidence, allocation=allocation, sides=sides,
                          minimum_per_stratum=minimum_per_stratum)
    return VariablesPlan("stratified-attribute", plan.n, plan.n_by_stratum, plan.allocation, confidence, precision,
                         plan.unrounded_n)


def project_errors(
    results: Sequence[StratumResult],
    confidence: float,
    *,
    sides: int = 2,
    distribution: Distribution = "normal",
) -> StratifiedProjection:
    """Return the projected number and amount of errors with limits (separate-stratum estimator with FPC)."""
    if not results:
        raise SamplingError("no stratum results to project", hint="give one row per stratum")
    indicator: list[StratumSample] = []
    amounts: list[StratumSample] = []
    for r in results:
        if not 0 <= r.errors <= r.sample_size:
            raise SamplingError(f"stratum {r.name!r}: {r.errors} errors in a sample of {r.sample_size}",
                                where=f"stratum {r.name}", hint="errors must be between 0 and the sample size")
        flags = [1.0] * r.errors + [0.0] * (r.sample_size - r.errors)
        indicator.append(StratumSample(r.name, r.population_size, flags))
        if r.error_amounts is not None:
            if len(r.error_amounts) > r.sample_size:
                raise SamplingError(f"stratum {r.name!r} has more error amounts than sampled items",
                                    where=f"stratum {r.name}")
            values = list(r.error_amounts) + [0.0] * (r.sample_size - len(r.error_amounts))
            amounts.append(StratumSample(r.name, r.population_size, values))
    errors = estimate_total(indicator, confidence, "mpu", sides=sides, distribution=distribution)
    amount = None
    if amounts:
        if len(amounts) != len(results):
            raise SamplingError("error amounts are given for some strata but not all",
                                hint="give error amounts for every stratum (an empty list when it had no errors)")
        amount = estimate_total(amounts, confidence, "mpu", sides=sides, distribution=distribution)
    return StratifiedProjection(errors, amount, sum(r.population_size for r in results),
                                sum(r.sample_size for r in results), sum(r.errors for r in results))
