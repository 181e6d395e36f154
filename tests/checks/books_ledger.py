"""Writing entries straight into the canonical tables, for the books-check tests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

SOURCE = "src1"


def add_entry(con, entry_id: str, day: date, lines: list[tuple], *, journal: str = "GL",
              created_at: datetime | None = None, user: str = "ANNE", description: str | None = "Entry",
              status: str = "posted") -> None:
    """Insert an entry; ``lines`` are (account, debit, credit[, party[, description]])."""
    con.execute("INSERT INTO journal_entries (source_id, entry_id, journal_id, posting_date, document_date, "
                "created_at, created_by, status, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [SOURCE, entry_id, journal, day, day, created_at or datetime.combine(day, datetime.min.time())
                 .replace(hour=10), user, status, description])
    for number, line in enumerate(lines, start=1):
        account, debit, credit, *rest = line
        party = rest[0] if rest else None
        text = rest[1] if len(rest) > 1 else "line"
        con.execute("INSERT INTO journal_lines (source_id, entry_id, line_no, account_id, party_id, debit, credit, "
                    "description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [SOURCE, entry_id, number, account, party, Decimal(debit), Decimal(credit), text])
