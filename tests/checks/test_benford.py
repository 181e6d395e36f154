"""Benford statistics against Nigrini (2012) and an independent computation."""

from __future__ import annotations

import math
from decimal import Decimal

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxaudit.checks import run_checks
from taxaudit.checks.benford import (
    DIGIT_SQL,
    benford_from_counts,
    benford_test,
    conformity,
    expected_proportions,
    z_statistic,
)


def test_expected_proportions_match_nigrini_table_5_1():
    first = expected_proportions("first")
    assert first[0] == pytest.approx(0.30103, abs=5e-6) and first[8] == pytest.approx(0.04576, abs=5e-6)
    second = expected_proportions("second")
    assert second[0] == pytest.approx(0.11968, abs=5e-6) and second[9] == pytest.approx(0.08500, abs=5e-6)
    two = expected_proportions("first-two")
    assert two[0] == pytest.approx(0.04139, abs=5e-6) and two[-1] == pytest.approx(0.00436, abs=5e-6)
    for test in ("first", "second", "first-two"):
        assert expected_proportions(test).sum() == pytest.approx(1.0)


@pytest.mark.parametrize(("test", "mad", "band"), [
    ("first", 0.0059, "close conformity"), ("first", 0.0110, "acceptable conformity"),
    ("first", 0.0149, "marginally acceptable conformity"), ("first", 0.0151, "nonconformity"),
    ("second", 0.0090, "acceptable conformity"), ("second", 0.0125, "nonconformity"),
    ("first-two", 0.0011, "close conformity"), ("first-two", 0.0020, "marginally acceptable conformity"),
    ("first-two", 0.0023, "nonconformity"),
])
def test_mad_conformity_bands_of_nigrini_table_7_1(test, mad, band):
    assert conformity(test, mad) == band


def test_statistics_agree_with_an_independent_computation():
    counts = {1: 320, 2: 160, 3: 130, 4: 95, 5: 80, 6: 60, 7: 60, 8: 50, 9: 45}
    result = benford_from_counts("first", counts)
    n = sum(counts.values())
    expected = [math.log10(1 + 1 / d) for d in range(1, 10)]
    shares = [counts[d] / n for d in range(1, 10)]
    mad = sum(abs(s - e) for s, e in zip(shares, expected, strict=True)) / 9
    chi = sum((counts[d] - n * e) ** 2 / (n * e) for d, e in zip(range(1, 10), expected, strict=True))
    assert result.count == n == 1000
    assert result.mad == pytest.approx(mad) and result.chi_square == pytest.approx(chi)
    # Z for digit 1 by hand: |0.320 - 0.30103| = 0.01897 > 1/2000, so (0.01897 - 0.0005)/sqrt(p(1-p)/N)
    z1 = (abs(0.320 - expected[0]) - 1 / 2000) / math.sqrt(expected[0] * (1 - expected[0]) / 1000)
    assert result.rows[0].z == pytest.approx(z1)
    # the continuity correction is skipped when it exceeds the difference (Nigrini 2012, eq. 6.1)
    assert z_statistic(0.30110, 0.30103, 1000) == pytest.approx(0.00007 / math.sqrt(0.30103 * 0.69897 / 1000))
    assert 0 < result.p_value < 1


CON = duckdb.connect()


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=Decimal("10"), max_value=Decimal("9999999999.99"), places=2))
def test_sql_digits_equal_the_significant_digits(amount):
    digits = str(int(amount))
    got = [CON.execute(f"SELECT {DIGIT_SQL[t]} FROM (SELECT ?::DECIMAL(18,2) AS a)", [amount]).fetchone()[0]
           for t in ("first", "second", "first-two")]
    assert got == [int(digits[0]), int(digits[1]), int(digits[:2])]


def test_planted_distortion_is_found_and_rows_named(ledger_case):
    rng = np.random.default_rng(7)
    rows = [(f"B-{i}", 1, "4000", Decimal(int(v)), Decimal(0))
            for i, v in enumerate(np.exp(rng.normal(np.log(5000), 1.2, 3000)) + 10)]
    rows += [(f"X-{i}", 1, "6800", Decimal("4800.00") + i % 100, Decimal(0)) for i in range(400)]
    batch = pa.table({"entry_id": [r[0] for r in rows], "account_id": [r[2] for r in rows],
                      "debit": pa.array([r[3] for r in rows], pa.decimal128(18, 2))})
    con = ledger_case.con
    con.register("batch", batch)
    con.execute("INSERT INTO journal_entries (source_id, entry_id, status, posting_date) "
                "SELECT 'src1', entry_id, 'posted', DATE '2025-07-01' FROM batch")
    con.execute("INSERT INTO journal_lines (source_id, entry_id, line_no, account_id, debit, credit) "
                "SELECT 'src1', entry_id, 1, account_id, debit, 0 FROM batch")
    con.unregister("batch")
    table = benford_test(ledger_case, "first-two")
    assert table.band == "nonconformity"
    [spike] = sorted(table.rows, key=lambda r: r.z)[-1:]
    assert spike.digit == 48
    [run] = run_checks(ledger_case, ["benford.first_two_digits"])
    named = {f.evidence.get("entry_id", "") for f in run.findings}
    assert any(name.startswith("X-") for name in named)
    assert any("do not conform" in f.message or "nonconformity" in f.message for f in run.findings)
