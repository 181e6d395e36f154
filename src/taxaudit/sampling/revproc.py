"""The sampling estimate to use for a tax adjustment under Rev. Proc. 2011-42 (rule data in rules/*.yaml)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml

from taxaudit.sampling.errors import SamplingError
from taxaudit.sampling.variables import Estimate

RULE_FILE = "rev_proc_2011_42.yaml"
Benefit = Literal["higher", "lower"]


@dataclass(frozen=True)
class TaxEstimate:
    """The amount to use, the basis chosen (point, adjusted point or limit) and the figures behind it."""

    amount: float
    basis: str
    point_estimate: float
    least_advantageous_limit: float
    precision: float
    relative_precision: float
    taxpayer_benefits_from: str
    rule_id: str
    citation: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@lru_cache(maxsize=4)
def load_rule(name: str = RULE_FILE) -> dict[str, Any]:
    """Return the rule data (thresholds, confidence, citation) from the sampling stage's rules folder."""
    text = resources.files("taxaudit.sampling").joinpath("rules", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def tax_estimate(estimate: Estimate, taxpayer_benefits_from: Benefit, *, rule: dict[str, Any] | None = None
                 ) -> TaxEstimate:
    """Return the sampling estimate a tax adjustment may use (Rev. Proc. 2011-42 sec. 4).

    ``estimate`` must be one-sided at the rule's confidence (95 %). ``taxpayer_benefits_from`` says whether a
    higher estimate helps the taxpayer (a deduction claimed: the lower limit is least advantageous) or a lower
    one does (an amount adding to tax: the upper limit is least advantageous). Relative precision is the
    one-sided precision over the point estimate of the strata not tested 100 percent: up to 10 % the point
    estimate is used; up to 15 % the point estimate moved by the precision in excess of 10 % of it; above,
    the least advantageous limit.
    """
    rule = rule or load_rule()
    if estimate.sides != int(rule["sides"]) or abs(estimate.confidence - float(rule["confidence"])) > 1e-12:
        raise SamplingError(
            f"the estimate is {estimate.sides}-sided at {estimate.confidence:.0%}; the rule needs a "
            f"{rule['sides']}-sided {float(rule['confidence']):.0%} confidence limit",
            where="confidence", hint="evaluate with --confidence 0.95 --sides 1")
    if taxpayer_benefits_from not in ("higher", "lower"):
        raise SamplingError(f"taxpayer_benefits_from must be 'higher' or 'lower', not {taxpayer_benefits_from!r}")
    sign = -1.0 if taxpayer_benefits_from == "higher" else 1.0
    limit = estimate.lower if sign < 0 else estimate.upper
    precision = estimate.upper - estimate.point_estimate
    sampled = [s.total for s in estimate.strata if not s.certainty]
    sampled_point = sum(sampled) if estimate.strata else estimate.point_estimate
    relative = abs(precision / sampled_point) if sampled_point else float("inf")
    if precision == 0:
        relative = 0.0
    if relative <= float(rule["point_estimate_up_to"]):
        amount, basis = estimate.point_estimate, "point estimate"
    elif relative <= float(rule["adjusted_point_estimate_up_to"]):
        excess = precision - float(rule["point_estimate_up_to"]) * abs(sampled_point)
        amount, basis = estimate.point_estimate + sign * excess, "point estimate adjusted by precision above 10%"
    else:
        amount, basis = limit, "least advantageous 95% one-sided limit"
    return TaxEstimate(amount, basis, estimate.point_estimate, limit, precision, relative, taxpayer_benefits_from,
                       str(rule["id"]), " ".join(str(rule["citation"]).split()))
