"""Monetary-unit sampling (MUS): sample size, confidence factors, Stringer and cell upper misstatement limits.

Confidence (reliability) factors are Poisson upper limits, the gamma quantile ``G(conf; k + 1)``; the AICPA
Audit Sampling Guide (Appendix C, Table C-3) prints them rounded up to two decimals (95 %: 3.00, 4.75, 6.30,
7.76, 9.16 for 0-4 overstatements). Sample sizes follow AICPA Table C-1, which is the Poisson planning rule of
jfa ``planning(likelihood = "poisson")``: the smallest n with ``G(conf; 1 + n * E/BV) / n <= TM/BV``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Literal

from scipy import stats

from taxaudit.model.money import CENT
from taxaudit.sampling._checks import check_confidence
from taxaudit.sampling.attribute import MAX_SAMPLE, binomial_upper
from taxaudit.sampling.errors import SamplingError

Factors = Literal["poisson", "binomial", "aicpa"]


@dataclass(frozen=True)
class MusPlan:
    """A planned monetary-unit sample: size ``n``, sampling interval, and the taints it tolerates."""

    method: str
    n: int
    sampling_interval: Decimal
    book_value: Decimal
    tolerable_misstatement: Decimal
    expected_misstatement: Decimal
    confidence: float
    expected_taints: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Misstatement:
    """One misstatement found in a monetary-unit sample (book and audited value of the sampled item)."""

    book_value: Decimal
    audited_value: Decimal
    hits: int = 1
    top_stratum: bool | None = None  # as selected; None: decide by book value >= interval

    @property
    def amount(self) -> Decimal:
        return self.book_value - self.audited_value

    @property
    def taint(self) -> float:
        return float(self.amount / self.book_value) if self.book_value else 0.0


@dataclass(frozen=True)
class MusEvaluation:
    """Stringer (or cell) evaluation: projected misstatement, allowances and the upper misstatement limit."""

    method: str
    bound: str
    confidence: float
    sampling_interval: Decimal
    basic_precision: Decimal
    projected_misstatement: Decimal
    incremental_allowance: Decimal
    top_stratum_misstatement: Decimal
    upper_misstatement_limit: Decimal
    tolerable_misstatement: Decimal | None
    understatements: Decimal
    taints: list[float] = field(default_factory=list)
    factors: list[float] = field(default_factory=list)

    @property
    def point_estimate(self) -> Decimal:
        return self.projected_misstatement

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data.update(point_estimate=self.projected_misstatement, lower=Decimal("0.00"),
                    upper=self.upper_misstatement_limit)
        return data


def confidence_factor(errors: int, confidence: float, factors: Factors = "poisson", n: int | None = None) -> float:
    """Return the MUS confidence factor for ``errors`` overstatements (AICPA Audit Sampling Guide, Table C-3).

    ``poisson``: exact ``G(conf; k + 1)``; ``aicpa``: the same rounded up to two decimals as printed in the
    Guide; ``binomial``: ``n`` times the Clopper-Pearson upper limit (jfa ``stringer.binomial``).
    """
    check_confidence(confidence)
    if factors == "binomial":
        if not n:
            raise SamplingError("binomial confidence factors need the sample size n", where="n")
        return n * binomial_upper(n, errors, confidence)
    exact = float(stats.gamma.ppf(confidence, errors + 1))
    if factors == "aicpa":
        return float(Decimal(repr(exact)).quantize(Decimal("0.01"), rounding=ROUND_CEILING))
    if factors != "poisson":
        raise SamplingError(f"unknown confidence factors {factors!r}", hint="use poisson, aicpa or binomial")
    return exact


def _money(value: float | Decimal) -> Decimal:
    return Decimal(repr(float(value))).quantize(CENT) if not isinstance(value, Decimal) else value.quantize(CENT)


def plan_mus(
    book_value: Decimal,
    tolerable_misstatement: Decimal,
    confidence: float,
    expected_misstatement: Decimal = Decimal("0"),
) -> MusPlan:
    """Return the monetary-unit sample size and interval (AICPA Audit Sampling Guide, App. C, Table C-1)."""
    check_confidence(confidence)
    if book_value <= 0:
        raise SamplingError("the population book value must be positive", where="book_value")
    if not 0 < tolerable_misstatement <= book_value:
        raise SamplingError("tolerable misstatement must be positive and at most the book value",
                            where="tolerable_misstatement")
    if not 0 <= expected_misstatement < tolerable_misstatement:
        raise SamplingError("expected misstatement must be at least 0 and below the tolerable misstatement",
                            where="expected_misstatement",
                            hint="when the expected misstatement reaches tolerable, no sample can support the balance")
    materiality = float(tolerable_misstatement / book_value)
    expected = float(expected_misstatement / book_value)
    for n in range(1, MAX_SAMPLE + 1):
        taints = n * expected
        if float(stats.gamma.ppf(confidence, 1.0 + taints)) / n <= materiality:
            return MusPlan("mus", n, _money(book_value / n), book_value, tolerable_misstatement,
                           expected_misstatement, confidence, taints)
    raise SamplingError(f"no sample size up to {MAX_SAMPLE} meets the tolerable misstatement", where="plan",
                        hint="raise tolerable misstatement or lower expected misstatement")


def _split(misstatements: Sequence[Misstatement], interval: Decimal) -> tuple[list[float], Decimal, Decimal]:
    taints: list[float] = []
    top = Decimal("0")
    under = Decimal("0")
    for item in misstatements:
        if item.book_value <= 0:
            raise SamplingError(f"book value {item.book_value} cannot be in a monetary-unit sample",
                                where="book_value", hint="evaluate zero and negative items separately")
        in_top = item.book_value >= interval if item.top_stratum is None else item.top_stratum
        if in_top:
            # Items at or above the interval were taken in full: their misstatement is known, not projected.
            top += item.amount
        elif item.amount < 0:
            under += item.amount
        elif item.amount > 0:
            taints.extend([item.taint] * item.hits)
    taints.sort(reverse=True)
    return taints, top, under


def stringer_bound(
    misstatements: Sequence[Misstatement],
    sampling_interval: Decimal,
    confidence: float,
    *,
    factors: Factors = "poisson",
    n: int | None = None,
    tolerable_misstatement: Decimal | None = None,
) -> MusEvaluation:
    """Return the Stringer upper misstatement limit (AICPA Audit Sampling Guide, ch. 6 and App. C).

    UML = basic precision (interval x factor(0)) + projected misstatement (interval x taint per item below the
    interval, plus the actual misstatement of top-stratum items) + incremental allowance (interval x
    sum of (factor(i) - factor(i-1) - 1) x taint_i, taints ranked from largest). Understatements are reported
    separately and not netted.
    """
    check_confidence(confidence)
    if sampling_interval <= 0:
        raise SamplingError("the sampling interval must be positive", where="sampling_interval")
    taints, top, under = _split(misstatements, sampling_interval)
    cf = [confidence_factor(i, confidence, factors, n) for i in range(len(taints) + 1)]
    interval = float(sampling_interval)
    basic = interval * cf[0]
    projected = interval * sum(taints)
    incremental = interval * sum((cf[i] - cf[i - 1] - 1.0) * t for i, t in enumerate(taints, start=1))
    uml = _money(basic + projected + incremental) + top.quantize(CENT)
    return MusEvaluation("mus", "stringer", confidence, sampling_interval, _money(basic),
                         _money(projected) + top.quantize(CENT), _money(incremental), top.quantize(CENT), uml,
                         tolerable_misstatement, under.quantize(CENT), taints, cf)


def cell_bound(
    misstatements: Sequence[Misstatement],
    sampling_interval: Decimal,
    confidence: float,
    *,
    tolerable_misstatement: Decimal | None = None,
) -> MusEvaluation:
    """Return the cell-evaluation upper misstatement limit (Leslie, Teitlebaum & Anderson 1979; AICPA Guide).

    With taints ranked from largest, U_0 = factor(0) and U_i = max(U_{i-1} + t_i, factor(i)/i x sum t_1..t_i);
    UML = interval x U_m plus top-stratum misstatement. It never exceeds the Stringer bound and equals it when
    every taint is 100 percent.
    """
    check_confidence(confidence)
    if sampling_interval <= 0:
        raise SamplingError("the sampling interval must be positive", where="sampling_interval")
    taints, top, under = _split(misstatements, sampling_interval)
    cf = [confidence_factor(i, confidence) for i in range(len(taints) + 1)]
    bound = cf[0]
    running = 0.0
    for i, taint in enumerate(taints, start=1):
        running += taint
        bound = max(bound + taint, cf[i] / i * running)
    interval = float(sampling_interval)
    basic = interval * cf[0]
    projected = interval * sum(taints)
    total = interval * bound
    incremental = total - basic - projected
    uml = _money(total) + top.quantize(CENT)
    return MusEvaluation("mus", "cell", confidence, sampling_interval, _money(basic),
                         _money(projected) + top.quantize(CENT), _money(incremental), top.quantize(CENT), uml,
                         tolerable_misstatement, under.quantize(CENT), taints, cf)

