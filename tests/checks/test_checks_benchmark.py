"""The 10M-line benchmark script, run small (slow: excluded from CI with -m "not slow")."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "checks.py"


@pytest.mark.slow
def test_benchmark_script_writes_seconds_and_peak_rss_per_check(tmp_path):
    spec = importlib.util.spec_from_file_location("checks_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "checks.json"
    assert module.main(["--lines", "50000", "--scale", "1", "--out", str(out), "--workdir", str(tmp_path)]) == 0
    result = json.loads(out.read_text())
    assert result["ledger"]["lines"] >= 40_000
    assert {c["check_id"] for c in result["checks"]} >= {"integrity.entry_balance", "benford.first_digit"}
    assert all(c["seconds"] >= 0 and c["peak_rss_mb"] > 0 for c in result["checks"])
