"""The generic rule-pack loader: validation, selection by date, and the method_change pack's own consistency."""

from __future__ import annotations

from datetime import date
from itertools import combinations
from pathlib import Path

import pytest

from taxaudit.rules.loader import RulePackError, load_pack, parse_pack

GOOD = """
pack: demo
version: "1"
title: Demo
rules:
  - {id: a.old, kind: rate, title: Old rate, citation: Act s. 1, effective_from: 2000-01-01, effective_to: 2009-12-31}
  - {id: a.new, kind: rate, title: New rate, citation: Act s. 1 as amended, effective_from: 2010-01-01}
  - {id: b, kind: other, title: Other, citation: Act s. 2, effective_from: 2000-01-01, effective_to: null}
"""


def test_select_and_one_pick_the_rule_in_force() -> None:
    pack = parse_pack(GOOD, "demo.yaml")
    assert pack.one(date(2005, 6, 1), kind="rate")["id"] == "a.old"
    assert pack.one(date(2010, 1, 1), kind="rate")["id"] == "a.new"
    assert [rule["id"] for rule in pack.select(None, kind="rate")] == ["a.old", "a.new"]
    assert {rule["id"] for rule in pack.in_force(date(2009, 12, 31))} == {"a.old", "b"}
    assert len(pack.sha256) == 64


def test_one_says_which_spans_exist_when_nothing_is_in_force() -> None:
    pack = parse_pack(GOOD, "demo.yaml")
    with pytest.raises(RulePackError) as error:
        pack.one(date(1999, 1, 1), kind="rate")
    assert "2000-01-01..2009-12-31" in error.value.hint


def test_one_refuses_overlapping_rules() -> None:
    text = GOOD.replace("effective_from: 2010-01-01", "effective_from: 2009-01-01")
    with pytest.raises(RulePackError, match="2 rules"):
        parse_pack(text, "demo.yaml").one(date(2009, 6, 1), kind="rate")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pack: x\nversion: '1'\ntitle: t\nrules: [{id: r, title: t, effective_from: 2000-01-01}]", "citation"),
        ("pack: x\nversion: '1'\ntitle: t\nrules: [{id: r, title: t, citation: c, effective_from: 'soon'}]", "date"),
        ("pack: x\nversion: '1'\ntitle: t\nrules: {}", "'rules' list"),
        ("pack: x\ntitle: t\nrules: []", "version"),
        ("pack: [unclosed", "not valid YAML"),
        ("pack: x\nversion: '1'\ntitle: t\nrules: [{id: r, title: t, citation: c, effective_from: 2001-01-01,"
         " effective_to: 2000-01-01}]", "before"),
        ("pack: x\nversion: '1'\ntitle: t\nrules: [{id: r, title: t, citation: c, effective_from: 2001-01-01},"
         " {id: r, title: t, citation: c, effective_from: 2001-01-01}]", "duplicate"),
        ("pack: x\nversion: '1'\ntitle: t\nrules: [just text]", "mapping"),
    ],
)
def test_bad_packs_are_refused_with_where_and_hint(text: str, message: str) -> None:
    with pytest.raises(RulePackError, match=message) as error:
        parse_pack(text, "bad.yaml")
    assert error.value.where.startswith("bad.yaml")
    assert error.value.hint


def test_missing_packs_name_the_available_ones(tmp_path: Path) -> None:
    with pytest.raises(RulePackError) as error:
        load_pack("no_such_pack")
    assert "method_change" in error.value.hint
    with pytest.raises(RulePackError, match="not found"):
        load_pack(tmp_path / "absent.yaml")
    path = tmp_path / "demo.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_pack(path).pack == "demo"


def test_method_change_pack_is_consistent() -> None:
    """Every rule cites its source; rules of one kind (and regime/change type) never overlap in time."""
    pack = load_pack("method_change")
    assert all(rule["citation"].strip() for rule in pack.rules.values())
    groups: dict[tuple, list[dict]] = {}
    for rule in pack.rules.values():
        key = (rule["kind"], rule.get("regime"), rule.get("change_type"))
        groups.setdefault(key, []).append(rule)
    for rules in groups.values():
        for first, second in combinations(rules, 2):
            end_first = first.get("effective_to") or date.max
            end_second = second.get("effective_to") or date.max
            assert end_first < second["effective_from"] or end_second < first["effective_from"], (first, second)
