"""Classical variables sampling: sample sizes, allocation across strata, and stratified estimates of a total.

Estimators (Cochran, *Sampling Techniques*, 3rd ed., ch. 5-6; AICPA Audit Sampling Guide, ch. 7): mean-per-unit
``N_h * mean(y_h)``, difference ``B_h + N_h * mean(y_h - x_h)`` and separate ratio ``B_h * sum(y_h)/sum(x_h)``,
each with the finite-population correction ``(1 - n_h/N_h)`` in its variance and summed over strata (separate
estimator). Limits use Student's t with ``sum(n_h - 1)`` degrees of freedom, or the normal distribution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from scipy import stats

from taxaudit.sampling._checks import check_confidence
from taxaudit.sampling.errors import SamplingError

Estimator = Literal["mpu", "difference", "ratio"]
ESTIMATORS: tuple[str, ...] = ("mpu", "difference", "ratio")
Allocation = Literal["proportional", "neyman"]
Distribution = Literal["t", "normal"]


@dataclass(frozen=True)
class StratumDesign:
    """A stratum for planning: its size and the standard deviation expected within it."""

    name: str
    population_size: int
    standard_deviation: float


@dataclass(frozen=True)
class VariablesPlan:
    """A planned variables sample: total size and its allocation to strata."""

    method: str
    n: int
    n_by_stratum: dict[str, int]
    allocation: str
    confidence: float
    precision: float
    unrounded_n: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class StratumSample:
    """The audited sample of one stratum: population size, book total, and book/audited values of the items."""

    name: str
    population_size: int
    audited: Sequence[float]
    book: Sequence[float] = ()
    book_total: float | None = None


@dataclass(frozen=True)
class StratumEstimate:
    """A stratum's contribution to the estimate: total, its variance and the sample it came from."""

    name: str
    population_size: int
    sample_size: int
    total: float
    variance: float
    certainty: bool


@dataclass(frozen=True)
class Estimate:
    """A stratified estimate of a population total with its standard error and confidence limits."""

    estimator: str
    point_estimate: float
    standard_error: float
    lower: float
    upper: float
    confidence: float
    sides: int
    distribution: str
    degrees_of_freedom: int
    strata: list[StratumEstimate] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.upper - self.point_estimate

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["precision"] = self.precision
        return data


def critical_value(confidence: float, sides: int, distribution: Distribution, degrees_of_freedom: int) -> float:
    """Return the z or t multiplier for a one- or two-sided interval at ``confidence``."""
    check_confidence(confidence)
    if sides not in (1, 2):
        raise SamplingError(f"sides must be 1 or 2, not {sides}", where="sides")
    quantile = confidence if sides == 1 else (1.0 + confidence) / 2.0
    if distribution == "normal":
        return float(stats.norm.ppf(quantile))
    if distribution != "t":
        raise SamplingError(f"unknown distribution {distribution!r}", hint="use t or normal")
    if degrees_of_freedom < 1:
        raise SamplingError("a t interval needs at least 2 sampled items in a stratum that is not fully tested",
                            hint="sample at least 2 items per stratum, or use --distribution normal")
    return float(stats.t.ppf(quantile, degrees_of_freedom))


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _sample_variance(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    mean = _mean(values)
    return math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)


def _stratum(stratum: StratumSample, estimator: str) -> StratumEstimate:
    big_n, n = stratum.population_size, len(stratum.audited)
    if n == 0:
        raise SamplingError(f"stratum {stratum.name!r} has no sampled items", where=f"stratum {stratum.name}",
                            hint="every stratum in the design needs at least one sampled item")
    if n > big_n:
        raise SamplingError(f"stratum {stratum.name!r} has {n} sampled items but only {big_n} in the population",
                            where=f"stratum {stratum.name}", hint="check the stratum population size")
    if estimator != "mpu" and len(stratum.book) != n:
        raise SamplingError(f"the {estimator} estimator needs a book value for every sampled item",
                            where=f"stratum {stratum.name}")
    if estimator != "mpu" and stratum.book_total is None:
        raise SamplingError(f"the {estimator} estimator needs the stratum's book total",
                            where=f"stratum {stratum.name}")
    if n < 2 and n < big_n:
        raise SamplingError(f"stratum {stratum.name!r} has one sampled item: its variance cannot be estimated",
                            where=f"stratum {stratum.name}",
                            hint="sample at least 2 items per stratum, or test the stratum in full")
    fpc = 1.0 - n / big_n
    if estimator == "mpu":
        total = big_n * _mean(stratum.audited)
        spread = _sample_variance(stratum.audited)
    elif estimator == "difference":
        diffs = [y - x for y, x in zip(stratum.audited, stratum.book, strict=True)]
        total = float(stratum.book_total or 0.0) + big_n * _mean(diffs)
        spread = _sample_variance(diffs)
    else:
        book_sum = math.fsum(stratum.book)
        if book_sum == 0:
            raise SamplingError(f"the ratio estimator needs a non-zero book total in the sample of {stratum.name!r}",
                                where=f"stratum {stratum.name}", hint="use the difference estimator")
        ratio = math.fsum(stratum.audited) / book_sum
        total = ratio * float(stratum.book_total or 0.0)
        residuals = [y - ratio * x for y, x in zip(stratum.audited, stratum.book, strict=True)]
        spread = math.fsum(e * e for e in residuals) / (n - 1) if n > 1 else 0.0
    variance = big_n * big_n * fpc * spread / n
    return StratumEstimate(stratum.name, big_n, n, total, variance, n == big_n)


def estimate_total(
    strata: Sequence[StratumSample],
    confidence: float,
    estimator: Estimator = "mpu",
    *,
    sides: int = 2,
    distribution: Distribution = "t",
) -> Estimate:
    """Return the stratified (separate) estimate of a total with limits (Cochran ch. 5-6; AICPA Guide ch. 7)."""
    if estimator not in ESTIMATORS:
        raise SamplingError(f"unknown estimator {estimator!r}", hint="use one of: " + ", ".join(ESTIMATORS))
    if not strata:
        raise SamplingError("no strata to evaluate", hint="give at least one stratum with sampled items")
    parts = [_stratum(s, estimator) for s in strata]
    total = math.fsum(p.total for p in parts)
    variance = math.fsum(p.variance for p in parts)
    df = sum(p.sample_size - 1 for p in parts if not p.certainty)
    se = math.sqrt(variance)
    multiplier = critical_value(confidence, sides, distribution, df) if se > 0 else 0.0
    return Estimate(estimator, total, se, total - multiplier * se, total + multiplier * se, confidence, sides,
                    distribution, df, parts)


def _z(confidence: float, sides: int) -> float:
    return critical_value(confidence, sides, "normal", 0)


def allocate(
    n: int, strata: Sequence[StratumDesign], allocation: Allocation, *, minimum_per_stratum: int = 0
) -> dict[str, int]:
    """Return ``n`` spread over strata: proportional (to N_h) or Neyman (to N_h S_h), largest-remainder rounding.

    No stratum gets more than its population; ``minimum_per_stratum`` is then enforced (raising n if needed).
    """
    if allocation == "proportional":
        weights = [float(s.population_size) for s in strata]
    elif allocation == "neyman":
        weights = [s.population_size * s.standard_deviation for s in strata]
    else:
        raise SamplingError(f"unknown allocation {allocation!r}", hint="use proportional or neyman")
    total_weight = math.fsum(weights)
    if total_weight <= 0:
        weights = [float(s.population_size) for s in strata]
        total_weight = math.fsum(weights)
    shares = [n * w / total_weight for w in weights]
    counts = [math.floor(x) for x in shares]
    order = sorted(range(len(strata)), key=lambda i: shares[i] - counts[i], reverse=True)
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    result = {}
    for stratum, count in zip(strata, counts, strict=True):
        floor = min(stratum.population_size, minimum_per_stratum)
        result[stratum.name] = min(stratum.population_size, max(count, floor))
    return result


def plan_variables(
    strata: Sequence[StratumDesign],
    precision: float,
    confidence: float,
    *,
    allocation: Allocation = "neyman",
    sides: int = 2,
    minimum_per_stratum: int = 0,
) -> VariablesPlan:
    """Return the sample size for estimating a total within ``precision`` (Cochran eq. 5.25-5.26, with FPC).

    ``standard_deviation`` is of the audited values (mean-per-unit), of the differences (difference estimator)
    or of the ratio residuals (ratio estimator); ``precision`` is the allowance A on the total at ``confidence``.
    Proportional: n = N sum N_h S_h^2 / (V + sum N_h S_h^2); Neyman: n = (sum N_h S_h)^2 / (V + sum N_h S_h^2),
    with V = (A / z)^2.
    """
    check_confidence(confidence)
    if precision <= 0:
        raise SamplingError("precision must be a positive amount", where="precision")
    if not strata:
        raise SamplingError("no strata given", hint="give at least one stratum with its size and standard deviation")
    for s in strata:
        if s.population_size < 1 or s.standard_deviation < 0:
            raise SamplingError(f"stratum {s.name!r} needs a positive size and a non-negative standard deviation",
                                where=f"stratum {s.name}")
    v = (precision / _z(confidence, sides)) ** 2
    sum_nss = math.fsum(s.population_size * s.standard_deviation**2 for s in strata)
    big_n = sum(s.population_size for s in strata)
    if allocation == "proportional":
        unrounded = big_n * sum_nss / (v + sum_nss)
    elif allocation == "neyman":
        unrounded = math.fsum(s.population_size * s.standard_deviation for s in strata) ** 2 / (v + sum_nss)
    else:
        raise SamplingError(f"unknown allocation {allocation!r}", hint="use proportional or neyman")
    n = min(big_n, math.ceil(unrounded - 1e-9))
    by_stratum = allocate(n, strata, allocation, minimum_per_stratum=minimum_per_stratum)
    return VariablesPlan("variables", sum(by_stratum.values()), by_stratum, allocation, confidence, precision,
                         unrounded)
