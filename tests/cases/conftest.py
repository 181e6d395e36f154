"""Fixtures for the case stage: fresh cases and a consistent VAT return in the FNS XML layout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from case_helpers import GOOD_LINES, write_return

from taxaudit.store import init_case
from taxaudit.store.case import Case


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    with init_case(tmp_path / "case", country="RU", title="ООО «Ромашка»: КНП НДС 1 кв. 2025") as opened:
        yield opened


@pytest.fixture
def good_return(tmp_path: Path) -> Path:
    return write_return(tmp_path, "NO_NDS_good.xml", GOOD_LINES)
