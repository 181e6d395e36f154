"""Fixtures for the case stage: fresh cases, VAT returns written in the FNS XML layout."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from taxaudit.cases.vat_return_xml import vat_return_xml
from taxaudit.store import init_case
from taxaudit.store.case import Case

# A consistent Q1 2025 return: 20% on 1 000 000 and 10% on 100 000, an advance of 120 000 (tax 20 000);
# deductions 150 000 + 5 000. Tax 230 000 - 155 000 = 75 000 payable.
GOOD_LINES = {
    "s3_010_base": Decimal(1000000), "s3_010": Decimal(200000),
    "s3_020_base": Decimal(100000), "s3_020": Decimal(10000),
    "s3_070_base": Decimal(120000), "s3_070": Decimal(20000),
    "s3_118": Decimal(230000), "s3_120": Decimal(150000), "s3_170": Decimal(5000), "s3_190": Decimal(155000),
    "s3_200": Decimal(75000), "s1_040": Decimal(75000),
}


def write_return(directory: Path, name: str, lines: dict[str, Decimal], *, correction_no: int = 0,
                 filed_on: date = date(2025, 4, 25)) -> Path:
    path = directory / name
    path.write_bytes(vat_return_xml(inn="7701234567", kpp="770101001", name="ООО «Ромашка»", year=2025, quarter=1,
                                    filed_on=filed_on, lines=lines, correction_no=correction_no))
    return path


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    with init_case(tmp_path / "case", country="RU", title="ООО «Ромашка»: КНП НДС 1 кв. 2025") as opened:
        yield opened


@pytest.fixture
def good_return(tmp_path: Path) -> Path:
    return write_return(tmp_path, "NO_NDS_good.xml", GOOD_LINES)
