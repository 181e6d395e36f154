"""Counterparty graph (carousels within a window, chain to the gap, hubs, GraphML, offline tree) and risk packs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import networkx as nx
import pyarrow as pa
import pytest

from taxaudit.match.graph import build_graph, chain_to_gap, find_cycles, gap_distances, hubs, tree_html, write_graphml
from taxaudit.risk.groups import RulePackError, assess, load_pack


def _edges(rows: list[tuple]) -> pa.Table:
    keys = ["seller", "buyer", "invoices", "vat", "gap_vat", "first_date", "last_date"]
    table = [dict(zip(keys, r, strict=True)) for r in rows]
    return pa.Table.from_pylist([dict(r, break_vat=r["gap_vat"]) for r in table])


D = date(2024, 1, 1)
# A→B→C→A trade within days; X→Y→X only months apart; M (missing trader) → B1 (gap) → BEN (beneficiary).
GRAPH = build_graph(_edges([
    ("A", "B", 1, Decimal("100.00"), Decimal("0.00"), date(2024, 1, 2), date(2024, 1, 2)),
    ("B", "C", 1, Decimal("100.00"), Decimal("0.00"), date(2024, 1, 4), date(2024, 1, 4)),
    ("C", "A", 1, Decimal("100.00"), Decimal("100.00"), date(2024, 1, 6), date(2024, 1, 6)),
    ("X", "Y", 1, Decimal("50.00"), Decimal("0.00"), date(2024, 1, 1), date(2024, 1, 1)),
    ("Y", "X", 1, Decimal("50.00"), Decimal("0.00"), date(2024, 6, 1), date(2024, 6, 1)),
    ("M", "B1", 2, Decimal("900.00"), Decimal("900.00"), D, D),
    ("B1", "BEN", 3, Decimal("950.00"), Decimal("0.00"), D, D),
    ("HUB", "BEN", 9, Decimal("5000.00"), Decimal("0.00"), D, D),
    ("M", "BEN", 1, Decimal("10.00"), Decimal("0.00"), D, D),  # M also sells to BEN directly, without a gap
]))


def test_cycles_within_the_window_only() -> None:
    found = find_cycles(GRAPH, window_days=30)
    assert [c.members for c in found] == [("A", "B", "C")]
    assert found[0].vat == Decimal("300.00") and found[0].gap_vat == Decimal("100.00")
    assert {c.members for c in find_cycles(GRAPH, window_days=200)} == {("A", "B", "C"), ("X", "Y")}
    assert find_cycles(GRAPH, window_days=30, max_length=2) == []


def test_chain_to_the_gap_and_distances() -> None:
    # M is also BEN's direct supplier (no gap there); the gap is on the link M→B1, two links up.
    assert chain_to_gap(GRAPH, "BEN") == ["BEN", "B1", "M"]
    assert chain_to_gap(GRAPH, "B1") == ["B1", "M"]
    assert chain_to_gap(GRAPH, "HUB") is None
    distance = gap_distances(GRAPH)
    assert distance["B1"] == 1 and distance["BEN"] == 2


def test_hubs_rank_by_vat_flow() -> None:
    top = hubs(GRAPH, top=2)
    assert [h.tax_id for h in top] == ["BEN", "HUB"]
    assert top[0].suppliers == 3 and top[0].vat_in == Decimal("5960.00")


def test_graphml_round_trip(tmp_path: Path) -> None:
    path = write_graphml(GRAPH, tmp_path / "g.graphml", risk={"M": "high"})
    back = nx.read_graphml(path)
    assert back.number_of_edges() == GRAPH.number_of_edges()
    assert back.edges["M", "B1"]["gap_vat"] == "900.00" and back.nodes["M"]["risk_group"] == "high"


def test_tree_page_is_self_contained() -> None:
    page = tree_html(GRAPH, "BEN", depth=2, risk={"M": "high"}, rules={"M": ["RU-VAT-MISSING-TRADER"]})
    assert "<svg" in page and "<script>" in page and "M" in page
    for remote in ("http://", "https://", "src=\"//", "<link"):
        assert remote not in page.replace("http://www.w3.org/2000/svg", "")


def test_bundled_pack_rules_all_cite_and_fire_by_threshold() -> None:
    pack = load_pack()
    assert pack.rules and all(rule.citation for rule in pack.rules)
    base = {"tax_id": "1", "filed": 1, "claimed_vat": Decimal("1000.00"), "vat_gap": Decimal("0.00"),
            "unconfirmed_share": Decimal("0"), "unfiled_vat_claimed_from": Decimal("0"), "in_cycle": 0,
            "nonfiling_counterparties": 0, "gap_distance": None, "duplicate_claims": 0, "vat_mismatches": 0}
    low, = assess([base], pack)
    assert low.group == "low" and low.rules_fired == ()
    share, = assess([dict(base, vat_gap=Decimal("150.00"), unconfirmed_share=Decimal("0.15"))], pack)
    assert share.group == "high" and "RU-VAT-GAP-SHARE" in share.rules_fired
    medium, = assess([dict(base, vat_gap=Decimal("50.00"), unconfirmed_share=Decimal("0.05"))], pack)
    assert medium.group == "medium" and medium.rules_fired == ("RU-VAT-GAP-SHARE-MEDIUM",)
    chain, = assess([dict(base, gap_distance=2)], pack)
    assert chain.rules_fired == ("RU-VAT-GAP-BEHIND-INTERMEDIARIES",)
    # Rules based on Tax Code art. 54.1 do not apply before it took effect (Federal Law No. 163-FZ of 18.07.2017,
    # in force from 19 August 2017).
    early, = assess([dict(base, in_cycle=1)], pack, on=date(2016, 12, 31))
    assert early.group == "low"


def test_malformed_pack_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "pack.yaml"
    bad.write_text("pack: x\nversion: 1\nrules:\n  - id: R\n    title: t\n    group: urgent\n"
                   "    when: [{metric: vat_gap, op: '>', value: '1'}]\n    citation: c\n", encoding="utf-8")
    with pytest.raises(RulePackError, match="group"):
        load_pack(bad)
    with pytest.raises(RulePackError):
        load_pack(tmp_path / "missing.yaml")
