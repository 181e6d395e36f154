"""Recorded turnover from the case's journal, for the turnover-ratio basis of an extrapolation.

Even rejected books may show how activity is spread over the year; the officer "may take such assistance as the
assessee's accounts may afford" (CST v. H.M. Esufall, [1973] INSC 84), so the window's share of recorded turnover
can stand in for its share of days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from taxaudit.estimate.errors import EstimateError
from taxaudit.model.money import CENT


def recorded_turnover(con: Any, revenue_accounts: Sequence[str], start: date, end: date) -> Decimal:
    """Return credits less debits posted to the revenue accounts from ``start`` to ``end`` (deleted/voided skipped)."""
    if not revenue_accounts:
        raise EstimateError("no revenue accounts named", hint="give --revenue-account ACCOUNT_ID (repeatable)")
    marks = ", ".join("?" for _ in revenue_accounts)
    row = con.execute(
        f"""
        SELECT count(*), coalesce(sum(l.credit - l.debit), 0)
        FROM journal_lines l JOIN journal_entries e USING (source_id, entry_id)
        WHERE l.account_id IN ({marks}) AND e.status NOT IN ('deleted', 'voided')
          AND e.posting_date BETWEEN ? AND ?
        """,
        [*revenue_accounts, start, end],
    ).fetchone()
    if not row[0]:
        raise EstimateError(f"no postings to revenue accounts {', '.join(revenue_accounts)} between {start} and {end}",
                            where="journal_lines", hint="check the account ids, or give the turnovers by hand")
    return Decimal(row[1]).quantize(CENT)
