"""``taxaudit match`` and ``taxaudit graph``: JSON shapes, files written, errors, and a case's custody log."""

from __future__ import annotations

import json
from pathlib import Path

from taxaudit.cli import main
from taxaudit.match.classify import CLASSES
from taxaudit.store import init_case, open_case
from taxaudit.synth.economy import Economy


def _json(capsys, argv: list[str]) -> tuple[int, dict]:
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_match_json_shape_and_outputs(capsys, economy_files: list[Path], tmp_path: Path) -> None:
    args = ["match", "--json", "--out", str(tmp_path / "out")]
    for path in economy_files:
        args += ["--invoices", str(path)]
    code, data = _json(capsys, args)
    assert code == 0
    assert set(data) == {"classes", "vat_gap", "risk_groups", "cycles", "quarantined"}
    assert set(data["classes"]) <= set(CLASSES)
    assert all(isinstance(v["count"], int) and isinstance(v["vat"], str) for v in data["classes"].values())
    assert set(data["risk_groups"]) == {"high", "medium", "low"} and data["quarantined"] == 5
    for name in ("discrepancies.parquet", "taxpayers.parquet", "match.xlsx"):
        assert (tmp_path / "out" / name).is_file()


def test_graph_commands(capsys, economy: Economy, economy_files: list[Path], tmp_path: Path) -> None:
    books = ["--invoices", str(economy_files[0])]
    code, data = _json(capsys, ["graph", "cycles", "--json", *books])
    assert code == 0 and data["count"] == sum(1 for k in economy.answer_key if k["kind"] == "carousel")
    member = data["cycles"][0]["members"][1]
    code, data = _json(capsys, ["graph", "tree", "--json", "--taxpayer", member, "--depth", "2",
                                "--out", str(tmp_path / "tree.html"), *books])
    assert code == 0 and data["risk_group"] == "high" and (tmp_path / "tree.html").is_file()
    code, data = _json(capsys, ["graph", "export", "--json", "--out", str(tmp_path / "g.graphml"), *books])
    assert code == 0 and data["edges"] > 0


def test_errors_are_reported_as_json(capsys, tmp_path: Path) -> None:
    code, data = _json(capsys, ["match", "--json", "--invoices", str(tmp_path / "none.csv")])
    assert code != 0 and data["error"] == "IngestError" and data["where"].endswith("none.csv")
    code, data = _json(capsys, ["match", "--json"])
    assert code != 0 and "nothing to match" in data["what"]
    code, data = _json(capsys, ["match", "--json", "--invoices", "x.csv", "--rules-as-of", "31.03.2024"])
    assert code != 0 and "not a date" in data["what"]


def test_case_invoices_are_matched_and_the_run_is_logged(capsys, tmp_path: Path) -> None:
    case = init_case(tmp_path / "case", country="RU", title="matching")
    rows = [
        ("s1", "sales", "7707083893", "1234567894", "15", "2024-01-15", "1000.00", "200.00", "20", "2024-Q1"),
        ("s1", "purchases", "7707083893", "1234567894", "0015", "2024-01-15", "1000.00", "200.00", "20", "2024-Q1"),
        ("s1", "purchases", "7707083893", "1234567894", "99", "2024-01-20", "500.00", "100.00", "20", "2024-Q1"),
    ]
    case.con.executemany("INSERT INTO invoices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'RUB', ?)", rows)
    case.close()
    code, data = _json(capsys, ["match", "--json", "--case", str(tmp_path / "case")])
    assert code == 0
    assert data["classes"]["matched"]["count"] == 1
    assert data["classes"]["no_matching_sale"] == {"count": 1, "vat": "100.00"}
    assert data["vat_gap"] == "100.00"
    with open_case(tmp_path / "case", read_only=True) as reopened:
        events = [e for e in reopened.events() if e.action == "vat_match_run"]
        assert (reopened.reports_dir / "match" / "taxpayers.parquet").is_file()
    assert len(events) == 1
