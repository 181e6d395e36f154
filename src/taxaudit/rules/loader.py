"""Load YAML rule packs: legal rules as data, each with id, title, citation and effective dates.

A pack is a YAML mapping with ``pack`` (its id), ``version``, ``title`` and ``rules`` (a list of mappings).
Every rule carries ``id``, ``title``, ``citation`` and ``effective_from`` (``effective_to`` optional). The pack's
SHA-256 is kept so that every run can log exactly which rule text produced a finding or a deadline.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from taxaudit.errors import TaxauditError

REQUIRED_RULE_KEYS = ("id", "title", "citation", "effective_from")


class RulePackError(TaxauditError):
    """A rule pack is missing, is not valid YAML, or a rule lacks a required key."""


@dataclass(frozen=True)
class RulePack:
    """A loaded rule pack: its id, version, the SHA-256 of its text and its rules keyed by id."""

    pack: str
    version: str
    title: str
    sha256: str
    source: str
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def rule(self, rule_id: str) -> dict[str, Any]:
        """Return the rule ``rule_id``; raise :class:`RulePackError` listing the known ids if absent."""
        try:
            return self.rules[rule_id]
        except KeyError:
            raise RulePackError(
                f"no rule {rule_id!r} in pack {self.pack}",
                where=self.source,
                hint=f"use one of: {', '.join(sorted(self.rules))}",
            ) from None

    def in_force(self, on: date) -> list[dict[str, Any]]:
        """Return the rules whose effective dates include ``on``."""
        return [rule for rule in self.rules.values() if is_in_force(rule, on)]


def is_in_force(rule: dict[str, Any], on: date) -> bool:
    """Return True when ``on`` lies within the rule's ``effective_from`` .. ``effective_to`` (inclusive)."""
    start = rule["effective_from"]
    end = rule.get("effective_to")
    return start <= on and (end is None or on <= end)


def parse_pack(text: str, source: str) -> RulePack:
    """Return the :class:`RulePack` in YAML ``text``; ``source`` names it in error messages."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulePackError(f"rule pack is not valid YAML: {exc}", where=source,
                            hint="fix the YAML syntax") from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RulePackError("rule pack must be a mapping with a 'rules' list", where=source,
                            hint="see src/taxaudit/rules/packs/ for examples")
    for key in ("pack", "version", "title"):
        if not data.get(key):
            raise RulePackError(f"rule pack lacks {key!r}", where=source, hint=f"add a top-level {key!r}")
    rules: dict[str, dict[str, Any]] = {}
    for index, rule in enumerate(data["rules"]):
        where = f"{source}: rules[{index}]"
        if not isinstance(rule, dict):
            raise RulePackError("a rule must be a mapping", where=where, hint="write the rule as key: value lines")
        missing = [key for key in REQUIRED_RULE_KEYS if not rule.get(key)]
        if missing:
            raise RulePackError(f"rule lacks {', '.join(missing)}", where=where,
                                hint="every rule needs id, title, citation and effective_from")
        for key in ("effective_from", "effective_to"):
            if rule.get(key) is not None and not isinstance(rule[key], date):
                raise RulePackError(f"{key} must be a date (YYYY-MM-DD)", where=where, hint="write e.g. 2024-01-01")
        if rule["id"] in rules:
            raise RulePackError(f"duplicate rule id {rule['id']!r}", where=where, hint="rule ids must be unique")
        rules[rule["id"]] = rule
    meta = {key: value for key, value in data.items() if key not in ("pack", "version", "title", "rules")}
    return RulePack(
        pack=str(data["pack"]),
        version=str(data["version"]),
        title=str(data["title"]),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source=source,
        rules=rules,
        meta=meta,
    )


def load_pack(name_or_path: str | Path) -> RulePack:
    """Return the rule pack at a file path, or the packaged pack ``taxaudit/rules/packs/<name>.yaml``."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return parse_pack(path.read_text(encoding="utf-8"), str(path))
    resource = resources.files("taxaudit.rules") / "packs" / f"{name_or_path}.yaml"
    if not resource.is_file():
        available = sorted(item.name.removesuffix(".yaml") for item in (resources.files("taxaudit.rules") / "packs")
                           .iterdir() if item.name.endswith(".yaml"))
        raise RulePackError(f"no rule pack {name_or_path!r}", where=str(name_or_path),
                            hint=f"give a .yaml path or one of: {', '.join(available)}")
    return parse_pack(resource.read_text(encoding="utf-8"), f"taxaudit/rules/packs/{name_or_path}.yaml")
