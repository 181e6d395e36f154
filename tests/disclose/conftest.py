"""Fixtures for the disclosure tests: a case, a registered request, and generated PDFs of an exam case file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from disclose_fixtures import LETTER_PAGES, REQUESTER, REQUESTER_SSN, WORKPAPER_PAGES, write_pdf

from taxaudit.disclose.register import DisclosureRequest, add_request
from taxaudit.store import Case, init_case


@pytest.fixture
def case(tmp_path: Path) -> Case:
    with init_case(tmp_path / "case", country="US", title="FOIA test") as opened:
        yield opened


@pytest.fixture
def request_(case: Case) -> DisclosureRequest:
    """A first-party FOIA request by the taxpayer for her examination file."""
    return add_request(case, request_type="foia", requester=REQUESTER, requester_tax_id=REQUESTER_SSN,
                       taxpayer=REQUESTER, taxpayer_tax_id=REQUESTER_SSN, matter="1040", periods=["2023"],
                       records_sought="my 2023 examination file", received=date(2026, 11, 20))


@pytest.fixture
def make_pdf(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str, pages: list[list[str]], **options: object) -> Path:
        return write_pdf(tmp_path / name, pages, **options)

    return make


@pytest.fixture
def letter_pdf(make_pdf: Callable[..., Path]) -> Path:
    return make_pdf("exam_report.pdf", LETTER_PAGES)


@pytest.fixture
def workpaper_pdf(make_pdf: Callable[..., Path]) -> Path:
    return make_pdf("workpaper.pdf", WORKPAPER_PAGES)
