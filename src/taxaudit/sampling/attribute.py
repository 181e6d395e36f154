"""Attribute sampling: sample sizes and upper/lower deviation-rate limits (binomial, Poisson, hypergeometric).

The binomial sample sizes reproduce the AICPA Audit Sampling Guide, Appendix A (Tables A-1 and A-2); the
evaluation limits reproduce Tables A-3 and A-4 (exact Clopper-Pearson limits). The planning rule is the one the
R package jfa uses (``planning()``): the smallest n whose exact upper limit, with ``ceil(n * expected)``
deviations allowed, does not exceed the tolerable rate. We compute ``ceil(n * expected)`` in exact decimal
arithmetic, so a cell such as 90 %/5 %/3.5 % gives the AICPA's 200 where float arithmetic gives 423.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

import numpy as np
from scipy import stats

from taxaudit.sampling._checks import check_confidence, check_count, check_rate
from taxaudit.sampling.errors import SamplingError

Likelihood = Literal["binomial", "poisson", "hypergeometric"]
LIKELIHOODS: tuple[str, ...] = ("binomial", "poisson", "hypergeometric")
MAX_SAMPLE = 20_000
BLOCK = 256


@dataclass(frozen=True)
class AttributePlan:
    """A planned attribute sample: size ``n`` and the deviations it tolerates (``allowed_deviations``)."""

    method: str
    likelihood: str
    n: int
    allowed_deviations: float
    confidence: float
    tolerable_rate: float
    expected_rate: float
    population_size: int | None
    expected_upper_limit: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class AttributeLimits:
    """Evaluated attribute sample: point rate and its lower/upper limits at ``confidence``."""

    method: str
    likelihood: str
    n: int
    deviations: int
    confidence: float
    alternative: str
    point_estimate: float
    lower: float
    upper: float
    population_size: int | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _exact(value: float) -> Fraction:
    # The decimal text of the rate the user typed, not its binary float neighbour.
    return Fraction(Decimal(repr(float(value))))


def allowed_deviations(n: int, expected: float) -> int:
    """Return ``ceil(n * expected)`` computed exactly, or ``expected`` itself when it is a count (>= 1)."""
    if expected >= 1:
        return math.ceil(expected)
    return math.ceil(n * _exact(expected))


def binomial_upper(n: int, deviations: int, confidence: float) -> float:
    """Return the exact one-sided binomial (Clopper-Pearson) upper limit on the deviation rate."""
    if deviations >= n:
        return 1.0
    return float(stats.beta.ppf(confidence, deviations + 1, n - deviations))


def binomial_lower(n: int, deviations: int, confidence: float) -> float:
    """Return the exact one-sided binomial (Clopper-Pearson) lower limit on the deviation rate."""
    if deviations <= 0:
        return 0.0
    return float(stats.beta.ppf(1.0 - confidence, deviations, n - deviations + 1))


def poisson_upper(n: int, deviations: float, confidence: float) -> float:
    """Return the Poisson upper limit on the rate: the gamma quantile ``G(conf; k + 1) / n`` (AICPA, jfa)."""
    return float(stats.gamma.ppf(confidence, deviations + 1.0)) / n


def poisson_lower(n: int, deviations: float, confidence: float) -> float:
    """Return the Poisson lower limit on the rate: ``G(1 - conf; k) / n`` (0 when no deviations)."""
    if deviations <= 0:
        return 0.0
    return float(stats.gamma.ppf(1.0 - confidence, deviations)) / n


def hypergeometric_upper(population_size: int, n: int, deviations: int, confidence: float) -> float:
    """Return the exact hypergeometric upper limit K/N: the largest K with P(X <= k | K) > 1 - confidence.

    Same convention as jfa's ``evaluation(method = "hypergeometric")`` (N = 1000, n = 57, k = 0 gives 0.049).
    """
    alpha = 1.0 - confidence
    low, high = deviations, population_size - (n - deviations)
    # P(X <= k | K) falls as K grows; binary search for the last K still above alpha.
    while low < high:
        mid = (low + high + 1) // 2
        if stats.hypergeom.cdf(deviations, population_size, mid, n) > alpha:
            low = mid
        else:
            high = mid - 1
    return low / population_size


def hypergeometric_lower(population_size: int, n: int, deviations: int, confidence: float) -> float:
    """Return the exact hypergeometric lower limit K/N: the smallest K with P(X >= k | K) > 1 - confidence."""
    if deviations <= 0:
        return 0.0
    alpha = 1.0 - confidence
    low, high = deviations, population_size - (n - deviations)
    while low < high:
        mid = (low + high) // 2
        if stats.hypergeom.sf(deviations - 1, population_size, mid, n) > alpha:
            high = mid
        else:
            low = mid + 1
    return low / population_size


def _upper(likelihood: str, n: int, k: float, confidence: float, population_size: int | None) -> float:
    if likelihood == "binomial":
        return binomial_upper(n, int(k), confidence)
    if likelihood == "poisson":
        return poisson_upper(n, k, confidence)
    assert population_size is not None
    return hypergeometric_upper(population_size, n, int(k), confidence)


def _check_likelihood(likelihood: str, population_size: int | None) -> None:
    if likelihood not in LIKELIHOODS:
        raise SamplingError(f"unknown likelihood {likelihood!r}", where="likelihood",
                            hint="use one of: " + ", ".join(LIKELIHOODS))
    if likelihood == "hypergeometric" and not population_size:
        raise SamplingError("the hypergeometric model needs the population size", where="population_size",
                            hint="give --population-size N, or use the binomial model for a large population")


def _allowed_array(n: np.ndarray, expected: float) -> np.ndarray:
    if expected >= 1:
        return np.full(n.shape, math.ceil(expected), dtype=np.int64)
    ratio = _exact(expected)
    return -((-n * ratio.numerator) // ratio.denominator)


def _first_passing(likelihood: str, n: np.ndarray, confidence: float, tolerable_rate: float, expected_rate: float,
                   population_size: int | None) -> AttributePlan | None:
    alpha = 1.0 - confidence
    if likelihood == "poisson":
        k = np.full(n.shape, float(expected_rate)) if expected_rate >= 1 else n * float(_exact(expected_rate))
        passing = stats.gamma.ppf(confidence, k + 1.0) / n <= tolerable_rate
    else:
        k = _allowed_array(n, expected_rate)
        if likelihood == "binomial":
            tail = stats.binom.cdf(k, n, tolerable_rate)
        else:
            assert population_size is not None
            errors_at_tolerable = math.ceil(population_size * _exact(tolerable_rate))
            tail = stats.hypergeom.cdf(k, population_size, errors_at_tolerable, n)
        passing = (k < n) & (tail <= alpha)
    hits = np.flatnonzero(passing)
    if hits.shape[0] == 0:
        return None
    size, allowed = int(n[hits[0]]), k[hits[0]]
    allowed_value = float(allowed) if likelihood == "poisson" else int(allowed)
    return AttributePlan("attribute", likelihood, size, allowed_value, confidence, tolerable_rate, expected_rate,
                         population_size, _upper(likelihood, size, allowed_value, confidence, population_size))


def plan_attribute(
    confidence: float,
    tolerable_rate: float,
    expected_rate: float = 0.0,
    likelihood: Likelihood = "binomial",
    population_size: int | None = None,
) -> AttributePlan:
    """Return the minimum attribute sample size (AICPA Audit Sampling Guide, App. A; jfa ``planning()``).

    ``expected_rate`` below 1 is a rate (deviations allowed = ``ceil(n * rate)`` for binomial and
    hypergeometric, ``n * rate`` for Poisson as in AICPA Table C-1); 1 or more is a number of deviations.
    """
    check_confidence(confidence)
    check_rate(tolerable_rate, "tolerable_rate", allow_zero=False)
    _check_likelihood(likelihood, population_size)
    if expected_rate < 0 or (expected_rate < 1 and expected_rate >= tolerable_rate):
        raise SamplingError(
            f"expected rate {expected_rate} must be below the tolerable rate {tolerable_rate}",
            where="expected_rate", hint="a sample cannot show a rate below tolerable when as many errors are expected")
    if population_size is not None:
        check_count(population_size, "population_size", minimum=1)
    alpha = 1.0 - confidence
    limit = min(population_size if (likelihood == "hypergeometric" and population_size) else MAX_SAMPLE, MAX_SAMPLE)
    # With replacement (binomial, Poisson) any n below ln(alpha)/ln(1 - T) fails even with no deviations allowed,
    # so the scan starts there; it runs in vectorised blocks because the allowed deviations jump with n and the
    # condition is not monotone. Sampling without replacement (hypergeometric) can need fewer, so it starts at 1.
    first = 1
    if likelihood != "hypergeometric":
        first = max(1, math.floor(math.log(alpha) / math.log1p(-tolerable_rate)) - 1)
    for block in range(first, limit + 1, BLOCK):
        n = np.arange(block, min(block + BLOCK, limit + 1), dtype=np.int64)
        found = _first_passing(likelihood, n, confidence, tolerable_rate, expected_rate, population_size)
        if found is not None:
            return found
    raise SamplingError(
        f"no sample size up to {limit} meets the tolerable rate",
        where="plan", hint="raise the tolerable rate, lower the expected rate or the confidence, or test 100 percent")


def evaluate_attribute(
    n: int,
    deviations: int,
    confidence: float,
    likelihood: Likelihood = "binomial",
    population_size: int | None = None,
    alternative: Literal["less", "two.sided"] = "less",
) -> AttributeLimits:
    """Return the deviation-rate point estimate and exact limits (AICPA App. A Tables A-3/A-4; Clopper-Pearson).

    ``alternative="less"`` gives the one-sided upper limit at ``confidence`` (lower = 0); ``"two.sided"``
    splits the risk, giving limits at ``(1 + confidence) / 2`` on each side.
    """
    check_confidence(confidence)
    check_count(n, "n", minimum=1)
    check_count(deviations, "deviations")
    _check_likelihood(likelihood, population_size)
    if deviations > n:
        raise SamplingError(f"{deviations} deviations in a sample of {n}", where="deviations",
                            hint="the number of deviations cannot exceed the sample size")
    if population_size is not None and n > population_size:
        raise SamplingError(f"sample size {n} exceeds population size {population_size}", where="n")
    if alternative not in ("less", "two.sided"):
        raise SamplingError(f"unknown alternative {alternative!r}", hint="use 'less' or 'two.sided'")
    side = confidence if alternative == "less" else (1.0 + confidence) / 2.0
    if likelihood == "binomial":
        upper, lower = binomial_upper(n, deviations, side), binomial_lower(n, deviations, side)
    elif likelihood == "poisson":
        upper, lower = poisson_upper(n, deviations, side), poisson_lower(n, deviations, side)
    else:
        assert population_size is not None
        upper = hypergeometric_upper(population_size, n, deviations, side)
        lower = hypergeometric_lower(population_size, n, deviations, side)
    if alternative == "less":
        lower = 0.0
    return AttributeLimits("attribute", likelihood, n, deviations, confidence, alternative, deviations / n,
                           lower, upper, population_size)
