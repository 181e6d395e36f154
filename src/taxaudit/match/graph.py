"""The counterparty graph: who invoices whom, weighted by VAT; carousels, chains to the VAT gap, hubs, trees.

Nodes are taxpayers, a directed edge seller→buyer carries the VAT of the invoices between them, the part of it
that is a gap (deductions with no seller's VAT behind them, :mod:`taxaudit.match.classify`) and the first and last
invoice dates. These are the "relationship trees" (деревья связей) of ASK NDS-2 described in seed 002, where a
chain of invoices is followed to the point where it breaks.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import networkx as nx
import pyarrow as pa

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Cycle:
    """A closed chain of invoices A→B→…→A whose links all trade within ``window_days`` of each other."""

    members: tuple[str, ...]
    vat: Decimal
    gap_vat: Decimal
    first_date: date
    last_date: date

    def to_dict(self) -> dict[str, object]:
        return {"members": list(self.members), "length": len(self.members), "vat": str(self.vat),
                "gap_vat": str(self.gap_vat), "first_date": self.first_date.isoformat(),
                "last_date": self.last_date.isoformat()}


@dataclass(frozen=True)
class Hub:
    """A taxpayer through which much VAT flows: counterparties and VAT in and out."""

    tax_id: str
    suppliers: int
    customers: int
    vat_in: Decimal
    vat_out: Decimal

    def to_dict(self) -> dict[str, object]:
        return {"tax_id": self.tax_id, "suppliers": self.suppliers, "customers": self.customers,
                "vat_in": str(self.vat_in), "vat_out": str(self.vat_out)}


def build_graph(edges: pa.Table) -> nx.DiGraph:
    """Return the directed counterparty graph of a :func:`~taxaudit.match.classify.counterparty_edges` table."""
    graph = nx.DiGraph()
    for row in edges.to_pylist():
        graph.add_edge(
            row["seller"], row["buyer"], invoices=int(row["invoices"]), vat=row["vat"] or ZERO,
            gap_vat=row["gap_vat"] or ZERO, break_vat=row["break_vat"] or ZERO, first_date=row["first_date"],
            last_date=row["last_date"],
        )
    return graph


def find_cycles(graph: nx.DiGraph, *, window_days: int = 30, max_length: int = 6) -> list[Cycle]:
    """Return the carousels: directed cycles of at most ``max_length`` taxpayers trading within a time window.

    The window condition: some interval of ``window_days`` days meets the trading period (first to last invoice
    date) of every link of the cycle. Cycles are listed from the one with most VAT down, each rotated to start
    at its smallest tax id so the same carousel always reads the same.
    """
    found = []
    for path in nx.simple_cycles(graph, length_bound=max_length):
        if len(path) < 2:
            continue
        start = path.index(min(path))
        members = tuple(path[start:] + path[:start])
        links = [graph.edges[members[i], members[(i + 1) % len(members)]] for i in range(len(members))]
        latest_start = max(link["first_date"] for link in links)
        earliest_end = min(link["last_date"] for link in links)
        if (latest_start - earliest_end).days > window_days:
            continue
        found.append(Cycle(
            members=members,
            vat=sum((link["vat"] for link in links), ZERO),
            gap_vat=sum((link["gap_vat"] for link in links), ZERO),
            first_date=min(link["first_date"] for link in links),
            last_date=max(link["last_date"] for link in links),
        ))
    found.sort(key=lambda c: (-c.vat, c.members))
    return found


def gap_distances(graph: nx.DiGraph, *, max_depth: int = 6) -> dict[str, int]:
    """Return for each taxpayer the number of links from it back up to the nearest break (1 = it claimed one).

    A break is a deduction the seller never charged (``break_vat``). A buyer that claims one is at 1; its customers
    at 2 (the beneficiary one step removed behind a "buffer" company), and so on up to ``max_depth``.
    """
    distance: dict[str, int] = {}
    queue: deque[str] = deque()
    for _seller, buyer, data in graph.edges(data=True):
        if data["break_vat"] > 0 and buyer not in distance:
            distance[buyer] = 1
            queue.append(buyer)
    while queue:
        node = queue.popleft()
        if distance[node] >= max_depth:
            continue
        for customer in graph.successors(node):
            if customer not in distance:
                distance[customer] = distance[node] + 1
                queue.append(customer)
    return distance


def chain_to_gap(graph: nx.DiGraph, taxpayer: str, *, max_depth: int = 6) -> list[str] | None:
    """Return the shortest supply chain [taxpayer, supplier, …, seller] up to a link where VAT breaks off, or None.

    The last link of the chain (from its last member to the one before) is where the VAT stops being paid.
    """
    if taxpayer not in graph:
        return None
    parent: dict[str, str | None] = {taxpayer: None}
    frontier = [taxpayer]
    for _ in range(max_depth):
        nxt = []
        for node in sorted(frontier):
            for supplier in sorted(graph.predecessors(node)):
                # The gap is a property of the link, so test it even when the supplier was reached another way.
                if graph.edges[supplier, node]["break_vat"] > 0:
                    chain = [node]
                    while parent[chain[-1]] is not None:
                        chain.append(parent[chain[-1]])  # type: ignore[arg-type]
                    return [*chain[::-1], supplier]
                if supplier not in parent:
                    parent[supplier] = node
                    nxt.append(supplier)
        frontier = nxt
    return None


def hubs(graph: nx.DiGraph, *, top: int = 20) -> list[Hub]:
    """Return the ``top`` taxpayers by VAT flowing through them (in plus out), then by counterparties."""
    rows = []
    for node in graph.nodes:
        vat_in = sum((d["vat"] for _, _, d in graph.in_edges(node, data=True)), ZERO)
        vat_out = sum((d["vat"] for _, _, d in graph.out_edges(node, data=True)), ZERO)
        rows.append(Hub(node, graph.in_degree(node), graph.out_degree(node), vat_in, vat_out))
    rows.sort(key=lambda h: (-(h.vat_in + h.vat_out), -(h.suppliers + h.customers), h.tax_id))
    return rows[:top]


def write_graphml(graph: nx.DiGraph, path: Path, *, risk: Mapping[str, str] | None = None) -> Path:
    """Write the graph as GraphML for Gephi/yEd: amounts as exact text plus a float ``weight`` for layouts."""
    out = nx.DiGraph()
    for node in graph.nodes:
        out.add_node(node, label=node, risk_group=(risk or {}).get(node, ""))
    for seller, buyer, data in graph.edges(data=True):
        out.add_edge(seller, buyer, weight=float(data["vat"]), vat=str(data["vat"]), gap_vat=str(data["gap_vat"]),
                     break_vat=str(data["break_vat"]),
                     invoices=data["invoices"], first_date=str(data["first_date"]), last_date=str(data["last_date"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(out, path)
    return path


@dataclass(frozen=True)
class Tree:
    """A taxpayer's relationship tree: nodes with their level (suppliers < 0 < customers) and the links."""

    root: str
    depth: int
    levels: dict[str, int]
    edges: list[tuple[str, str, dict[str, object]]]
    hidden: dict[int, int]


def relationship_tree(graph: nx.DiGraph, taxpayer: str, *, depth: int = 2, per_level: int = 40) -> Tree:
    """Return the taxpayer's suppliers up to ``depth`` links upstream and customers ``depth`` links downstream.

    At most ``per_level`` counterparties per level are kept (those with most VAT); ``hidden`` counts the rest.
    """
    levels = {taxpayer: 0}
    hidden: dict[int, int] = {}
    for sign, step in ((-1, graph.predecessors), (1, graph.successors)):
        frontier = [taxpayer]
        for distance in range(1, depth + 1):
            weight: dict[str, Decimal] = {}
            for node in frontier:
                for other in step(node):
                    if other in levels:
                        continue
                    link = graph.edges[other, node] if sign < 0 else graph.edges[node, other]
                    weight[other] = weight.get(other, ZERO) + link["vat"]
            ranked = sorted(weight, key=lambda n: (-weight[n], n))
            if len(ranked) > per_level:
                hidden[sign * distance] = len(ranked) - per_level
            frontier = ranked[:per_level]
            for node in frontier:
                levels[node] = sign * distance
    # Only links from one level to the next: the tree reads left (suppliers) to right (customers).
    edges = [(u, v, dict(d)) for u, v, d in graph.edges(data=True)
             if u in levels and v in levels and levels[v] - levels[u] == 1]
    return Tree(root=taxpayer, depth=depth, levels=levels, edges=edges, hidden=hidden)


def tree_layout(tree: Tree, *, column: int = 230, row: int = 46) -> dict[str, tuple[int, int]]:
    """Return SVG coordinates: one column per level, counterparties spread evenly down each column."""
    by_level: dict[int, list[str]] = {}
    for node, level in sorted(tree.levels.items(), key=lambda item: (item[1], item[0])):
        by_level.setdefault(level, []).append(node)
    tallest = max(len(nodes) for nodes in by_level.values())
    low = min(by_level)
    positions = {}
    for level, nodes in by_level.items():
        offset = (tallest - len(nodes)) * row / 2
        for i, node in enumerate(nodes):
            positions[node] = (60 + (level - low) * column, int(40 + offset + i * row))
    return positions


def tree_html(graph: nx.DiGraph, taxpayer: str, *, depth: int = 2, risk: Mapping[str, str] | None = None,
              rules: Mapping[str, Iterable[str]] | None = None, title: str | None = None) -> str:
    """Return a self-contained interactive HTML page (inline SVG and script, no network) of a relationship tree."""
    from taxaudit.report.html import render_html

    tree = relationship_tree(graph, taxpayer, depth=depth)
    positions = tree_layout(tree)
    nodes = [
        {"id": node, "x": x, "y": y, "level": tree.levels[node], "risk": (risk or {}).get(node, ""),
         "rules": list((rules or {}).get(node, ())), "root": node == taxpayer}
        for node, (x, y) in positions.items()
    ]
    largest = max((d["vat"] for _, _, d in tree.edges), default=Decimal(1)) or Decimal(1)
    links = [
        {"source": u, "target": v, "x1": positions[u][0], "y1": positions[u][1], "x2": positions[v][0],
         "y2": positions[v][1], "vat": str(d["vat"]), "gap_vat": str(d["gap_vat"]), "invoices": d["invoices"],
         "first_date": str(d["first_date"]), "last_date": str(d["last_date"]), "gap": d["break_vat"] > 0,
         "width": round(1 + 6 * math.sqrt(max(float(d["vat"] / largest), 0.0)), 2)}
        for u, v, d in tree.edges
    ]
    width = max(x for x, _ in positions.values()) + 200
    height = max(y for _, y in positions.values()) + 60
    data = json.dumps({"nodes": nodes, "links": links}, ensure_ascii=False).replace("</", "<\\/")
    return render_html("tree.html.j2", {
        "title": title or f"Relationship tree of {taxpayer}", "root": taxpayer, "depth": depth,
        "nodes": nodes, "links": links, "width": width, "height": height, "data": data,
        "hidden": sorted(tree.hidden.items()),
    }, templates="match/templates")
