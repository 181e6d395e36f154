"""Shared fixtures: fresh cases, the public SAF-T samples in ../shared/data/saft, a small synthetic SAF-T file."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxaudit.store import Case, init_case
from taxaudit.synth import CompanySpec, generate_ledger, write_saft

REPO = Path(__file__).resolve().parents[1]
SHARED_SAFT = REPO.parent / "shared" / "data" / "saft"
DATA = Path(__file__).resolve().parent / "data"


def shared_file(name: str) -> Path:
    """Return a file from ../shared/data/saft, skipping the test when that folder is not beside the repo."""
    path = SHARED_SAFT / name
    if not path.is_file():
        pytest.skip(f"public sample {name} not available at {SHARED_SAFT}")
    return path


@pytest.fixture
def case(tmp_path: Path) -> Case:
    opened = init_case(tmp_path / "case", country="NO", title="test")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def small_saft(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic SAF-T 1.30 file (about two weeks of a tiny company)."""
    spec = CompanySpec(seed=7, customers=5, suppliers=4, employees=2, sales_per_day=1.0, purchases_per_day=0.5)
    return write_saft(generate_ledger(spec), tmp_path_factory.mktemp("saft") / "small.xml")
