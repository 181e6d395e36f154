"""Property: any valid ledger survives generate -> write SAF-T -> ingest with the same counts and totals."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxaudit.ingest import ingest_files
from taxaudit.store import init_case
from taxaudit.synth import CompanySpec, Line, Txn, generate_ledger, write_saft
from taxaudit.synth.company import JOURNALS

LEDGER = generate_ledger(CompanySpec(seed=3, customers=3, suppliers=3, employees=1))
ACCOUNTS = [a.account_id for a in LEDGER.accounts]
# XML 1.0 cannot carry control characters or lone surrogates; everything else must survive, markup included.
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(str.strip)


@st.composite
def transactions(draw: st.DrawFn) -> list[Txn]:
    count = draw(st.integers(min_value=1, max_value=25))
    out = []
    for number in range(count):
        debits = draw(st.lists(st.integers(min_value=1, max_value=10**13), min_size=1, max_size=4))
        credit_split = draw(st.integers(min_value=1, max_value=3))
        total = sum(debits)
        credits = [total // credit_split] * (credit_split - 1)
        credits.append(total - sum(credits))
        lines = [Line(draw(st.sampled_from(ACCOUNTS)), amount, 0, draw(TEXT)) for amount in debits]
        lines += [Line(draw(st.sampled_from(ACCOUNTS)), 0, amount, draw(TEXT)) for amount in credits if amount]
        day = date(2025, 1, 1) + timedelta(days=draw(st.integers(min_value=0, max_value=364)))
        journal = draw(st.sampled_from(sorted(JOURNALS)))
        out.append(Txn(f"{journal}-{number}", journal, JOURNALS[journal][1], draw(TEXT), day, day,
                       datetime.combine(day, datetime.min.time()) + timedelta(minutes=draw(st.integers(0, 1439))),
                       draw(st.sampled_from(("ANNE", "OLA"))), lines))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transactions())
def test_write_then_ingest_preserves_counts_and_totals(txns: list[Txn]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_saft(LEDGER, Path(tmp) / "ledger.xml", transactions=lambda: txns)
        with init_case(Path(tmp) / "case") as case:
            [result] = ingest_files(case, [path])
            total = Decimal(sum(line.debit for t in txns for line in t.lines)) / 100
            assert result.rows_quarantined == 0
            assert result.entries == len(txns)
            assert result.lines == sum(len(t.lines) for t in txns)
            assert result.total_debit == result.total_credit == total
            assert result.findings == 0  # header totals written by the writer match what was read
            stored = dict(case.con.execute("SELECT entry_id, description FROM journal_entries").fetchall())
            assert stored == {t.transaction_id: t.description for t in txns}
