"""Risk groups (high / medium / low) of taxpayers from a YAML rule pack; each result names the rules that fired.

A rule is a conjunction of threshold conditions on a taxpayer's metrics (``vat_gap >= 100000.00``), a group, a
citation and effective dates. A taxpayer's group is the highest group of any rule that fires; with none it is
the pack's default group. The pack's file hash is part of the result so every group can be traced to the text
that produced it (DESIGN.md, "Checks and rules").
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from taxaudit.errors import TaxauditError

GROUPS = ("high", "medium", "low")
OPERATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq,
             "!=": operator.ne}
DEFAULT_PACK = "ru_vat_risk_groups.yaml"


class RulePackError(TaxauditError):
    """A risk rule pack is missing or malformed."""


@dataclass(frozen=True)
class Condition:
    """``metric op value``; a missing metric never satisfies a condition."""

    metric: str
    op: str
    value: Decimal

    def holds(self, metrics: Mapping[str, Any]) -> bool:
        actual = metrics.get(self.metric)
        if actual is None:
            return False
        return OPERATORS[self.op](Decimal(str(actual)), self.value)


@dataclass(frozen=True)
class RiskRule:
    """One rule of a pack: when all conditions hold the taxpayer is at least in ``group``."""

    id: str
    title: str
    group: str
    conditions: tuple[Condition, ...]
    citation: str
    effective_from: date | None = None
    effective_to: date | None = None

    def in_force(self, on: date | None) -> bool:
        if on is None:
            return True
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_to is None or on <= self.effective_to)


@dataclass(frozen=True)
class RulePack:
    """A versioned set of risk rules, with the SHA-256 of the file it was read from."""

    name: str
    version: str
    default_group: str
    rules: tuple[RiskRule, ...]
    sha256: str
    source: str

    def rule(self, rule_id: str) -> RiskRule:
        return next(r for r in self.rules if r.id == rule_id)


@dataclass(frozen=True)
class RiskAssessment:
    """A taxpayer's group and the ids of the rules that put it there (all rules that fired, highest first)."""

    tax_id: str
    group: str
    rules_fired: tuple[str, ...]
    metrics: dict[str, Any] = field(default_factory=dict)


def load_pack(path: Path | None = None) -> RulePack:
    """Return the rule pack at ``path`` (default: the bundled Russian VAT pack), validated."""
    if path is None:
        raw = resources.files("taxaudit.risk").joinpath("packs", DEFAULT_PACK).read_bytes()
        source = f"taxaudit/risk/packs/{DEFAULT_PACK}"
    else:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise RulePackError("cannot read the risk rule pack", where=str(path), hint=str(exc)) from exc
        source = str(path)
    try:
        doc = yaml.safe_load(raw)
        rules = tuple(_rule(item) for item in doc["rules"])
        pack = RulePack(name=str(doc["pack"]), version=str(doc["version"]),
                        default_group=str(doc.get("default_group", "low")), rules=rules,
                        sha256=hashlib.sha256(raw).hexdigest(), source=source)
    except (yaml.YAMLError, KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise RulePackError(f"malformed risk rule pack: {exc!r}", where=source,
                            hint="each rule needs id, title, group, when [{metric, op, value}], citation") from exc
    if pack.default_group not in GROUPS or any(r.group not in GROUPS for r in rules):
        raise RulePackError("a group is not high, medium or low", where=source)
    if len({r.id for r in rules}) != len(rules):
        raise RulePackError("rule ids repeat", where=source, hint="give every rule its own id")
    return pack


def _rule(item: Mapping[str, Any]) -> RiskRule:
    conditions = []
    for cond in item["when"]:
        if cond["op"] not in OPERATORS:
            raise ValueError(f"rule {item['id']}: unknown operator {cond['op']!r}")
        conditions.append(Condition(str(cond["metric"]), str(cond["op"]), Decimal(str(cond["value"]))))
    if not item.get("citation"):
        raise ValueError(f"rule {item['id']} has no citation")
    return RiskRule(id=str(item["id"]), title=str(item["title"]), group=str(item["group"]),
                    conditions=tuple(conditions), citation=str(item["citation"]),
                    effective_from=item.get("effective_from"), effective_to=item.get("effective_to"))


def assess(taxpayers: Iterable[Mapping[str, Any]], pack: RulePack, *, on: date | None = None) -> list[RiskAssessment]:
    """Return each taxpayer's risk group and fired rules under the rules of ``pack`` in force ``on`` that date."""
    rank = {group: i for i, group in enumerate(GROUPS)}
    active = sorted((r for r in pack.rules if r.in_force(on)), key=lambda r: rank[r.group])
    results = []
    for metrics in taxpayers:
        fired = [r for r in active if all(c.holds(metrics) for c in r.conditions)]
        group = fired[0].group if fired else pack.default_group  # active is ordered high → low
        results.append(RiskAssessment(str(metrics["tax_id"]), group, tuple(r.id for r in fired), dict(metrics)))
    return results


def group_counts(assessments: Iterable[RiskAssessment]) -> dict[str, int]:
    """Return how many taxpayers are in each group (every group present, zero if empty)."""
    counts = dict.fromkeys(GROUPS, 0)
    for item in assessments:
        counts[item.group] += 1
    return counts
