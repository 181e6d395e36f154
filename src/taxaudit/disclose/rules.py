"""Redaction rules as data: load the YAML rule pack and find the text each rule protects."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from taxaudit.disclose.errors import RuleFileError

DEFAULT_RULES = "redaction_rules.yaml"


@dataclass(frozen=True)
class Exemption:
    """A FOIA exemption code with the statute that supports it."""

    code: str
    title: str
    citation: str
    description: str
    effective_from: date | None = None


@dataclass(frozen=True)
class RedactionRule:
    """One entity type and the exemption it maps to; ``pattern`` or ``terms`` (a run-time list name)."""

    rule_id: str
    entity: str
    title: str
    exemption: str
    reason: str
    pattern: re.Pattern[str] | None = None
    terms: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None

    def in_force(self, on: date) -> bool:
        """Return True when the rule applies on ``on`` (its effective dates include that day)."""
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_to is None or on <= self.effective_to
        )


@dataclass(frozen=True)
class ReleaseItem:
    """Something the sources say must be released; redacting it is over-withholding."""

    item_id: str
    title: str
    pattern: re.Pattern[str]
    citation: str


@dataclass(frozen=True)
class RulePack:
    """The loaded rule file: exemptions, redaction rules, never-redact items and the file's version."""

    version: str
    source: str
    exemptions: dict[str, Exemption]
    rules: tuple[RedactionRule, ...]
    never_redact: tuple[ReleaseItem, ...] = ()

    def rule(self, rule_id: str) -> RedactionRule:
        """Return the rule named ``rule_id``; raise :class:`RuleFileError` when there is none."""
        for rule in self.rules:
            if rule.rule_id == rule_id:
                return rule
        raise RuleFileError(f"no redaction rule {rule_id!r}", hint=f"known rules: {', '.join(self.rule_ids())}")

    def rule_ids(self) -> list[str]:
        return [rule.rule_id for rule in self.rules]


@dataclass(frozen=True)
class TextMatch:
    """A span of text a rule protects: [start, end) offsets, the value and the rule that matched."""

    start: int
    end: int
    value: str
    rule_id: str
    exemption: str
    reason: str


@dataclass(frozen=True)
class Terms:
    """Run-time term lists for ``terms`` rules (e.g. third-party names) and values never to redact."""

    lists: Mapping[str, Sequence[str]] = field(default_factory=dict)
    allow: Sequence[str] = ()


def _date(value: Any, where: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise RuleFileError(f"bad date {value!r}", where=where, hint="write dates as YYYY-MM-DD") from exc


def _regex(text: Any, where: str) -> re.Pattern[str]:
    try:
        return re.compile(str(text))
    except re.error as exc:
        raise RuleFileError(f"bad regular expression: {exc}", where=where,
                            hint="fix the pattern (Python re syntax)") from exc


def _require(entry: Mapping[str, Any], keys: Iterable[str], where: str) -> None:
    missing = [key for key in keys if not entry.get(key)]
    if missing:
        raise RuleFileError(f"missing {', '.join(missing)}", where=where, hint="every entry needs these fields")


def load_rule_pack(path: str | Path | None = None) -> RulePack:
    """Return the redaction rule pack from ``path`` (default: the packaged U.S. FOIA/§ 6103 rules)."""
    if path is None:
        text = resources.files("taxaudit.disclose").joinpath(DEFAULT_RULES).read_text(encoding="utf-8")
        origin = f"taxaudit/disclose/{DEFAULT_RULES}"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise RuleFileError(f"cannot read the rule file: {exc.strerror}", where=str(path),
                                hint="give the path of a redaction rule YAML file") from exc
        origin = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleFileError(f"the rule file is not valid YAML: {exc}", where=origin) from exc
    except ValueError as exc:  # PyYAML builds dates itself and raises ValueError for 2021-13-01
        raise RuleFileError(f"bad date in the rule file: {exc}", where=origin,
                            hint="write dates as YYYY-MM-DD") from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list) or not data.get("exemptions"):
        raise RuleFileError("the rule file needs 'exemptions' (mapping) and 'rules' (list)", where=origin)
    exemptions = {}
    for code, entry in data["exemptions"].items():
        where = f"{origin}: exemptions[{code}]"
        _require(entry, ("title", "citation"), where)
        exemptions[str(code)] = Exemption(str(code), entry["title"], entry["citation"],
                                          entry.get("description", ""), _date(entry.get("effective_from"), where))
    rules = []
    for index, entry in enumerate(data["rules"]):
        where = f"{origin}: rules[{index}]"
        if not isinstance(entry, dict):
            raise RuleFileError("a rule must be a mapping", where=where)
        _require(entry, ("id", "entity", "exemption", "reason"), where)
        if bool(entry.get("pattern")) == bool(entry.get("terms")):
            raise RuleFileError("a rule needs exactly one of 'pattern' or 'terms'", where=where)
        if entry["exemption"] not in exemptions:
            raise RuleFileError(f"unknown exemption {entry['exemption']!r}", where=where,
                                hint=f"use one of {', '.join(exemptions)} or add it under 'exemptions'")
        rules.append(RedactionRule(
            rule_id=str(entry["id"]), entity=str(entry["entity"]), title=str(entry.get("title", entry["id"])),
            exemption=str(entry["exemption"]), reason=str(entry["reason"]),
            pattern=_regex(entry["pattern"], where) if entry.get("pattern") else None,
            terms=entry.get("terms"),
            effective_from=_date(entry.get("effective_from"), where),
            effective_to=_date(entry.get("effective_to"), where),
        ))
    never = tuple(
        ReleaseItem(str(item["id"]), str(item.get("title", item["id"])),
                    _regex(item["pattern"], f"{origin}: never_redact[{index}]"), str(item.get("citation", "")))
        for index, item in enumerate(data.get("never_redact") or [])
    )
    return RulePack(str(data.get("version", "")), str(data.get("source", "")), exemptions, tuple(rules), never)


def normalize_value(value: str) -> str:
    """Return ``value`` case-folded with whitespace collapsed: the key that makes two occurrences 'the same'."""
    return " ".join(value.split()).casefold()


@lru_cache(maxsize=65536)
def value_pattern(value: str) -> re.Pattern[str]:
    """Return a regex finding ``value`` again in text: digits with any separators, words with any spacing."""
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 5 and re.fullmatch(r"[\d\s\-./]+", value.strip()):
        return re.compile(r"(?<!\d)" + r"[\s\-./]?".join(digits) + r"(?!\d)")
    words = [re.escape(word) for word in value.split()]
    # a hyphen joins parts of one identifier (987-65-4321), so "4321" must not match inside it
    return re.compile(r"(?<![\w-])" + r"\s+".join(words) + r"(?![\w-])", re.IGNORECASE)


def _digit_groups(value: str) -> list[str] | None:
    """Return the digit groups of an identifier such as 12-3456789, or None when it is not all digits."""
    if not re.fullmatch(r"[\d\s\-./]+", value.strip()):
        return None
    return re.findall(r"\d+", value)


def same_identifier(a: str, b: str) -> bool:
    """Return True when ``a`` and ``b`` name the same thing: equal words, or equal digits in equal groups.

    An EIN 12-3456789 and an SSN 123-45-6789 share their digits but not their grouping, so they differ;
    an ungrouped 123456789 matches either.
    """
    groups_a, groups_b = _digit_groups(a), _digit_groups(b)
    if groups_a is None or groups_b is None:
        return normalize_value(a) == normalize_value(b)
    if "".join(groups_a) != "".join(groups_b):
        return False
    return len(groups_a) == 1 or len(groups_b) == 1 or [len(g) for g in groups_a] == [len(g) for g in groups_b]


def occurs_in(value: str, text: str) -> bool:
    """Return True when ``value`` is written in ``text`` again (any spacing or separators, same digit groups)."""
    return any(same_identifier(value, match.group()) for match in value_pattern(value).finditer(text))


def _allowed(value: str, allow: Sequence[str]) -> bool:
    return any(same_identifier(value, item) for item in allow if item.strip())


def find_matches(text: str, pack: RulePack, terms: Terms | None = None, *, on: date | None = None) -> list[TextMatch]:
    """Return the spans of ``text`` that the pack's rules in force on ``on`` protect, left to right.

    Overlapping matches are merged into the earliest-starting one (a longer span wins ties) so each
    character is redacted once under one exemption. Values in ``terms.allow`` (the requester's own
    identifiers) are never matched: TIGTA found requesters' own information wrongly withheld (seed 000).
    """
    terms = terms or Terms()
    on = on or date.today()
    found: list[TextMatch] = []
    for rule in pack.rules:
        if not rule.in_force(on):
            continue
        patterns = [rule.pattern] if rule.pattern else [
            value_pattern(term) for term in terms.lists.get(rule.terms or "", ()) if term.strip()
        ]
        for pattern in patterns:
            for match in pattern.finditer(text):
                start, end = match.span("value") if "value" in pattern.groupindex else match.span()
                if start < 0 or end <= start:
                    continue
                value = text[start:end]
                if _allowed(value, terms.allow):
                    continue
                found.append(TextMatch(start, end, value, rule.rule_id, rule.exemption, rule.reason))
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    merged: list[TextMatch] = []
    for match in found:
        if merged and match.start < merged[-1].end:
            continue
        merged.append(match)
    return merged


def over_redaction(value: str, pack: RulePack) -> ReleaseItem | None:
    """Return the never-redact item ``value`` is, if any (e.g. the bare label 'DIF Score')."""
    for item in pack.never_redact:
        if item.pattern.search(value):
            return item
    return None
