"""A small ledger written straight into the canonical tables, with one known irregularity per check."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from books_ledger import SOURCE, add_entry

from taxaudit.store import init_case


@pytest.fixture()
def ledger_case(tmp_path):
    with init_case(tmp_path / "case", country="NO") as case:
        con = case.con
        con.execute("INSERT INTO sources VALUES (?, 'x', 'x', 'abc', 1, 'saft', '1.30', now(), 'test', 0, 0, 0, "
                    "NULL)", [SOURCE])
        con.execute("INSERT INTO source_headers (source_id, period_start, period_end, declared_entries, "
                    "declared_total_debit, declared_total_credit) VALUES (?, DATE '2025-01-01', DATE '2025-12-31', "
                    "99, 1.00, 1.00)", [SOURCE])
        con.execute("INSERT INTO accounts (source_id, account_id, name, opening_debit, opening_credit, "
                    "closing_debit, closing_credit) VALUES (?, '1920', 'Bank', 1000.00, 0, 9999.00, 0)", [SOURCE])
        # GL-1..GL-8 with GL-4 missing: a numbering gap; GL-2 and GL-3 pay supplier L1 the same 7 340.00
        # four days apart; GL-5 does not balance; GL-6 is a Saturday; GL-7 is on 17 May (Constitution Day).
        add_entry(con, "GL-1", date(2025, 3, 3), [("4000", "20000.00", "0"), ("1920", "0", "20000.00")])
        add_entry(con, "GL-2", date(2025, 3, 4), [("2400", "7340.00", "0", "L1"), ("1920", "0", "7340.00")])
        add_entry(con, "GL-3", date(2025, 3, 7), [("2400", "7340.00", "0", "L1"), ("1920", "0", "7340.00")])
        add_entry(con, "GL-5", date(2025, 3, 10), [("6800", "100.00", "0"), ("1920", "0", "90.00")])
        add_entry(con, "GL-6", date(2025, 3, 15), [("6800", "55.00", "0"), ("1920", "0", "55.00")])
        add_entry(con, "GL-7", date(2025, 5, 17), [("6800", "65.00", "0"), ("1920", "0", "65.00")])
        add_entry(con, "GL-8", date(2025, 2, 3), [("7700", "410.00", "0", None, ""), ("1920", "0", "410.00", None, "")],
                  created_at=datetime(2025, 4, 30, 2, 15), description=None)
        for n, amount in enumerate(("49900.00", "49500.00", "49750.00", "49990.00", "49100.00", "49800.00")):
            add_entry(con, f"AP-{n + 1}", date(2025, 6, 2 + n), [("4000", amount, "0"), ("2400", "0", amount)],
                      journal="AP")
        yield case
