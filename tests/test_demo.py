"""The demo: a fresh case with the synthetic company's SAF-T, valid against the official 1.30 schema."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from taxaudit.cli import main
from taxaudit.demo import run_demo
from taxaudit.errors import CaseError
from tests.conftest import shared_file


def test_demo_builds_a_verified_case(tmp_path: Path) -> None:
    summary = run_demo(tmp_path / "demo", seed=42)
    ingest = summary["ingest"]
    assert ingest["rows_quarantined"] == 0 and ingest["findings"] == 0
    # The demo plants one entry whose debit exceeds its credit by 100.00 (taxaudit.synth.plants)
    assert Decimal(ingest["total_debit"]) - Decimal(ingest["total_credit"]) == Decimal("100.00")
    assert ingest["entries"] > 4000
    assert summary["custody"]["ok"]


def test_demo_is_reproducible_and_replaces_only_demo_cases(tmp_path: Path) -> None:
    first = run_demo(tmp_path / "demo", seed=5)["ingest"]["sha256"]
    assert run_demo(tmp_path / "demo", seed=5)["ingest"]["sha256"] == first
    assert run_demo(tmp_path / "demo", seed=6)["ingest"]["sha256"] != first
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(CaseError):
        run_demo(precious)
    assert (precious / "notes.txt").read_text() == "keep me"


def test_demo_saft_validates_against_official_schema(tmp_path: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(shared_file("Norwegian_SAF-T_Financial_Schema_v_1.30.xsd"))))
    run_demo(tmp_path / "demo", seed=11)
    [saft] = (tmp_path / "demo" / "sources").glob("*.xml")
    assert schema.validate(etree.parse(str(saft))), schema.error_log


def test_demo_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--case", str(tmp_path / "d"), "--seed", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["custody"]["ok"] and summary["ingest"]["format_version"] == "1.30"
