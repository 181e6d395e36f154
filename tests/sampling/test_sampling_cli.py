"""``taxaudit sample plan|select|evaluate|workpaper`` end to end, with --json and the custody log."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from taxaudit.cli import main
from taxaudit.store import init_case, verify_case


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    code = main([*args, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for i, row in enumerate(rows):
        change(i, row)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)


def test_plan_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "sample", "plan", "--method", "attribute", "--tolerable-rate", "0.05")["n"] == 59
    mus = _run(capsys, "sample", "plan", "--method", "mus", "--book-value", "1000000", "--tolerable-misstatement",
               "50000", "--expected-misstatement", "10000")
    assert (mus["method"], mus["n"], mus["sampling_interval"]) == ("mus", 93, "10752.69")
    strat = _run(capsys, "sample", "plan", "--method", "stratified-attribute", "--confidence", "0.90",
                 "--strata", "all:3423:0.11", "--precision", "0.04")
    assert strat["n"] == 158 and strat["n_by_stratum"] == {"all": 158}
    variables = _run(capsys, "sample", "plan", "--method", "variables", "--strata", "a:400:900,b:3600:40",
                     "--precision", "200000", "--minimum-per-stratum", "2")
    assert variables["n"] == sum(variables["n_by_stratum"].values())


def test_mus_in_a_case_logs_the_draw_and_evaluates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = init_case(tmp_path / "case")
    values = ", ".join(f"('s', 'E{i:04d}', 1, '600', {100 + (i * 37) % 900}.25, 0)" for i in range(400))
    case.con.execute("INSERT INTO journal_lines (source_id, entry_id, line_no, account_id, debit, credit) "
                     f"VALUES {values}, ('s', 'BIG', 1, '600', 90000.00, 0)")
    case.close()
    out = tmp_path / "sel.csv"
    meta = _run(capsys, "sample", "select", "--method", "mus", "--case", str(tmp_path / "case"), "--table",
                "journal_lines", "--amount", "debit", "--n", "30", "--seed", "99", "--out", str(out))
    assert meta["seed"] == 99 and meta["custody_seq"] == 2
    assert (tmp_path / "sel.xlsx").is_file() and (tmp_path / "sel.json").is_file()
    again = _run(capsys, "sample", "select", "--method", "mus", "--case", str(tmp_path / "case"), "--table",
                 "journal_lines", "--amount", "debit", "--n", "30", "--seed", "99", "--out", str(tmp_path / "b.csv"))
    assert again["selection_sha256"] == meta["selection_sha256"]
    assert again["population_sha256"] == meta["population_sha256"]
    events = [json.loads(line) for line in (tmp_path / "case" / "custody.jsonl").read_text().splitlines()]
    drawn = [e for e in events if e["action"] == "sample_drawn"]
    assert drawn[0]["subject"] == "journal_lines.debit" and drawn[0]["sha256"] == meta["selection_sha256"]
    assert drawn[0]["details"]["seed"] == 99
    assert drawn[0]["details"]["population_sha256"] == meta["population_sha256"]
    assert verify_case(tmp_path / "case").ok

    def audit(i: int, row: dict[str, str]) -> None:
        row["audited_amount"] = row["amount"] if i % 10 else f"{float(row['amount']) / 2:.2f}"

    _edit(out, audit)
    result = _run(capsys, "sample", "evaluate", "--method", "mus", "--results", str(out), "--tolerable-misstatement",
                  "40000", "--out", str(tmp_path / "eval.json"))
    assert {"point_estimate", "lower", "upper", "confidence", "method"} <= result.keys()
    assert result["method"] == "mus" and result["bound"] == "stringer"
    paper = _run(capsys, "sample", "workpaper", "--selection", str(out), "--evaluation", str(tmp_path / "eval.json"),
                 "--out", str(tmp_path / "wp.html"), "--case", str(tmp_path / "case"))
    html = Path(paper["html"]).read_text(encoding="utf-8")
    assert "upper misstatement limit" in html.lower() and "population_sha256".replace("_", " ") in html
    assert verify_case(tmp_path / "case").ok


def test_stratified_attribute_file_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    population = tmp_path / "foia.csv"
    lines = ["request,kind,pages"] + [f"R{i},{'partial' if i < 1041 else 'other'},{1 + i % 50}" for i in range(3423)]
    population.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "sel.csv"
    meta = _run(capsys, "sample", "select", "--method", "stratified", "--file", str(population), "--amount", "pages",
                "--key", "request", "--stratum", "kind", "--n-by-stratum", "partial:37,other:46", "--seed", "2023",
                "--out", str(out))
    assert meta["n_by_stratum"] == {"other": 46, "partial": 37}

    def mark(i: int, row: dict[str, str]) -> None:
        row["deviation"] = "1" if row["stratum"] == "partial" and int(row["selection_order"]) <= 18 + 46 else "0"

    _edit(out, mark)
    result = _run(capsys, "sample", "evaluate", "--method", "stratified-attribute", "--results", str(out),
                  "--confidence", "0.90")
    # Seed 000's published projection: 506 (90 % interval 366 to 647).
    assert (round(result["point_estimate"]), round(result["lower"]), round(result["upper"])) == (506, 366, 647)


def test_seed_000_projection_from_stratum_summaries(capsys: pytest.CaptureFixture[str]) -> None:
    result = _run(capsys, "sample", "evaluate", "--method", "stratified-attribute", "--confidence", "0.90",
                  "--strata", "partial:1041:37:18,other:2382:46:0")
    assert (round(result["point_estimate"]), round(result["lower"]), round(result["upper"])) == (506, 366, 647)
    assert main(["sample", "evaluate", "--method", "stratified-attribute", "--strata", "partial:1041:x", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["where"] == "--strata"


def test_variables_with_rev_proc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    population = tmp_path / "expenses.csv"
    population.write_text("id,amount\n" + "\n".join(f"X{i},{50 + (i * 7919) % 400}.00" for i in range(2000)) + "\n",
                          encoding="utf-8")
    out = tmp_path / "sel.csv"
    _run(capsys, "sample", "select", "--method", "random", "--file", str(population), "--amount", "amount",
         "--key", "id", "--n", "120", "--seed", "5", "--out", str(out))
    _edit(out, lambda i, row: row.update(audited_amount=row["amount"] if i % 4 else "0.00"))
    result = _run(capsys, "sample", "evaluate", "--method", "variables", "--results", str(out), "--estimator",
                  "difference", "--taxpayer-benefits-from", "higher")
    rule = result["rev_proc_2011_42"]
    assert rule["relative_precision"] > 0 and "Rev. Proc. 2011-42" in rule["citation"]
    lower, amount, point = (Decimal(result["lower"]), Decimal(rule["amount"]), Decimal(result["point_estimate"]))
    assert lower <= amount <= point
    assert point == point.quantize(Decimal("0.01"))  # money leaves as exact cents


def test_attribute_summary_and_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    result = _run(capsys, "sample", "evaluate", "--method", "attribute", "--n", "59", "--deviations", "0")
    assert result["upper"] == pytest.approx(0.0495, abs=1e-4)
    assert main(["sample", "plan", "--method", "attribute", "--json"]) == 2
    error = json.loads(capsys.readouterr().out)
    assert error["error"] == "SamplingError" and error["where"] == "--tolerable-rate"
    assert main(["sample", "evaluate", "--method", "mus", "--results", str(tmp_path / "none.csv"), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["what"] == "results file not found"
    assert main(["sample", "select", "--method", "random", "--amount", "x", "--seed", "1", "--out",
                 str(tmp_path / "o.csv"), "--json"]) == 2
    assert "either --file or --case" in json.loads(capsys.readouterr().out)["what"]
