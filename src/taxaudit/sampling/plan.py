"""Plan a sample by method name: one entry point over the attribute, MUS, variables and stratified planners."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from taxaudit.sampling.attribute import plan_attribute
from taxaudit.sampling.errors import SamplingError
from taxaudit.sampling.mus import plan_mus
from taxaudit.sampling.stratified import AttributeStratum, plan_stratified_attribute
from taxaudit.sampling.variables import StratumDesign, plan_variables

METHODS = ("attribute", "mus", "variables", "stratified-attribute")


def parse_strata(text: str) -> list[tuple[str, int, float]]:
    """Return ``[(name, size, value)]`` from ``"name:size:value,name:size:value"`` (value = SD or expected rate)."""
    strata = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        pieces = part.split(":")
        if len(pieces) != 3:
            raise SamplingError(f"stratum {part!r} is not name:size:value", where="--strata",
                                hint="e.g. --strata 'partial:1041:0.35,denied:2382:0'")
        try:
            strata.append((pieces[0], int(pieces[1]), float(pieces[2])))
        except ValueError as exc:
            raise SamplingError(f"stratum {part!r} has a non-numeric size or value", where="--strata") from exc
    if not strata:
        raise SamplingError("no strata given", where="--strata", hint="e.g. --strata 'a:1000:250.5,b:400:80'")
    return strata


def plan(method: str, **options: Any) -> dict[str, Any]:
    """Return the plan of ``method`` as a dict with ``method``, ``n`` and, when stratified, ``n_by_stratum``."""
    if method == "attribute":
        return plan_attribute(options["confidence"], options["tolerable_rate"], options.get("expected_rate", 0.0),
                              options.get("likelihood", "binomial"), options.get("population_size")).to_dict()
    if method == "mus":
        return plan_mus(Decimal(options["book_value"]), Decimal(options["tolerable_misstatement"]),
                        options["confidence"], Decimal(options.get("expected_misstatement") or 0)).to_dict()
    if method == "variables":
        designs = [StratumDesign(n, size, sd) for n, size, sd in options["strata"]]
        return plan_variables(designs, float(options["precision"]), options["confidence"],
                              allocation=options.get("allocation", "neyman"), sides=options.get("sides", 2),
                              minimum_per_stratum=options.get("minimum_per_stratum", 0)).to_dict()
    if method == "stratified-attribute":
        rated = [AttributeStratum(n, size, rate) for n, size, rate in options["strata"]]
        return plan_stratified_attribute(rated, float(options["precision"]), options["confidence"],
                                         allocation=options.get("allocation", "neyman"), sides=options.get("sides", 2),
                                         minimum_per_stratum=options.get("minimum_per_stratum", 0)).to_dict()
    raise SamplingError(f"unknown sampling method {method!r}", where="--method",
                        hint="use one of: " + ", ".join(METHODS))
