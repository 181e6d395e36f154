"""Fixtures: a small case with bank and balance-sheet accounts in the canonical tables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from taxaudit.store import Case, init_case

ENTRIES = [
    # entry, posting date, lines (account, debit, credit)
    ("E1", date(2024, 2, 1), [("1920", "12000.00", "0"), ("3000", "0", "12000.00")]),  # sales paid into bank
    ("E2", date(2024, 3, 1), [("1930", "5000.00", "0"), ("1920", "0", "5000.00")]),  # transfer between banks
    ("E3", date(2024, 4, 1), [("1920", "8000.00", "0"), ("2350", "0", "8000.00")]),  # loan received
    ("E4", date(2024, 5, 1), [("1930", "3000.00", "0"), ("3000", "0", "3000.00")]),  # sales
    ("E5", date(2025, 1, 5), [("1920", "999.00", "0"), ("3000", "0", "999.00")]),  # outside the year
]
ACCOUNTS = [
    # account, name, type, opening debit, opening credit, closing debit, closing credit
    ("1920", "Bank A", "asset", "4500.00", "0", "150.00", "0"),
    ("1930", "Bank B", "asset", "1000.00", "0", "9000.00", "0"),
    ("1200", "Vehicle", "asset", "0", "0", "20000.00", "0"),
    ("2350", "Bank loan", "liability", "0", "0", "0", "8000.00"),
]


@pytest.fixture
def books_case(tmp_path: Path) -> Iterator[Case]:
    case = init_case(tmp_path / "case", country="NO", title="Test AS")
    con = case.con
    for entry_id, posted, lines in ENTRIES:
        con.execute("INSERT INTO journal_entries (source_id, entry_id, posting_date, status, description) "
                    "VALUES ('S1', ?, ?, 'posted', ?)", [entry_id, posted, f"entry {entry_id}"])
        for line_no, (account, debit, credit) in enumerate(lines, start=1):
            con.execute("INSERT INTO journal_lines (source_id, entry_id, line_no, account_id, debit, credit) "
                        "VALUES ('S1', ?, ?, ?, ?, ?)", [entry_id, line_no, account, debit, credit])
    for row in ACCOUNTS:
        con.execute("INSERT INTO accounts (source_id, account_id, name, type, opening_debit, opening_credit, "
                    "closing_debit, closing_credit) VALUES ('S1', ?, ?, ?, ?, ?, ?, ?)", list(row))
    yield case
    case.close()
