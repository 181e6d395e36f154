"""Benford's Law tests on amounts: first digit, second digit and first-two digits (Nigrini 2012).

The digit counts are computed in DuckDB from the decimal text of each live line amount of at least 10 (so no
floating-point error can move a digit); the statistics follow Nigrini, M. J. (2012), *Benford's Law:
Applications for Forensic Accounting, Auditing, and Fraud Detection*, Wiley: expected proportions (eq. 5.1-5.3),
the mean absolute deviation with its conformity ranges (table 7.1), the per-digit Z statistic with continuity
correction (eq. 6.1) and the chi-square test (eq. 6.2, computed with ``scipy.stats.chisquare``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
from scipy import stats

from taxaudit.checks.registry import SQL_FRAGMENTS, CheckError, CheckOptions, check, sql_findings
from taxaudit.model.finding import Finding
from taxaudit.store.case import Case

NIGRINI = "Nigrini (2012) Benford's Law: Applications for Forensic Accounting, Auditing, and Fraud Detection, ch. 5-7"
TESTS = ("first", "second", "first-two")
# MAD conformity ranges (Nigrini 2012, table 7.1): upper bounds of close, acceptable and marginally acceptable
# conformity; above the last bound the data do not conform.
MAD_BANDS: dict[str, tuple[float, float, float]] = {
    "first": (0.006, 0.012, 0.015),
    "second": (0.008, 0.010, 0.012),
    "first-two": (0.0012, 0.0018, 0.0022),
}
BAND_NAMES = ("close conformity", "acceptable conformity", "marginally acceptable conformity", "nonconformity")
Z_CRITICAL = 1.96  # two-sided 5 % significance, as Nigrini uses for the per-digit tests
BENFORD_SPIKES = 3  # the most over-represented digits whose rows a finding lists


def digits_of(test: str) -> list[int]:
    """Return the digits (or digit pairs) a test tabulates: 1-9, 0-9 or 10-99."""
    return {"first": list(range(1, 10)), "second": list(range(10)), "first-two": list(range(10, 100))}[_test(test)]


def expected_proportions(test: str) -> np.ndarray:
    """Return Benford's expected proportions for ``test`` (Nigrini 2012, eq. 5.1 first, 5.2 second, 5.3
    first-two digits)."""
    digits = np.array(digits_of(test), dtype=float)
    if test == "second":
        first = np.arange(1, 10, dtype=float)
        return np.array([np.log10(1 + 1 / (10 * first + d)).sum() for d in digits])
    return np.log10(1 + 1 / digits)


def _test(test: str) -> str:
    if test not in TESTS:
        raise CheckError(f"unknown Benford test {test!r}", hint=f"use one of: {', '.join(TESTS)}")
    return test


def conformity(test: str, mad: float) -> str:
    """Return Nigrini's conformity band for a mean absolute deviation (Nigrini 2012, table 7.1)."""
    for bound, name in zip(MAD_BANDS[_test(test)], BAND_NAMES, strict=False):
        if mad <= bound:
            return name
    return BAND_NAMES[-1]


@dataclass(frozen=True)
class DigitRow:
    digit: int
    observed: int
    observed_share: float
    expected_share: float
    z: float

    def to_dict(self) -> dict[str, Any]:
        return {"digit": self.digit, "observed": self.observed, "observed_share": round(self.observed_share, 6),
                "expected_share": round(self.expected_share, 6), "z": round(self.z, 3)}


@dataclass(frozen=True)
class BenfordResult:
    """One Benford test: per-digit table, MAD with its conformity band, chi-square."""

    test: str
    count: int
    rows: list[DigitRow]
    mad: float
    band: str
    chi_square: float
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return {"test": self.test, "count": self.count, "mad": round(self.mad, 6), "conformity": self.band,
                "mad_bands": dict(zip(BAND_NAMES[:3], MAD_BANDS[self.test], strict=True)),
                "chi_square": round(self.chi_square, 3), "degrees_of_freedom": len(self.rows) - 1,
                "p_value": self.p_value, "digits": [row.to_dict() for row in self.rows]}


def z_statistic(observed_share: float, expected_share: float, count: int) -> float:
    """Return Nigrini's Z for one digit: (|AP - EP| - 1/(2N)) / sqrt(EP(1-EP)/N), where the continuity correction
    1/(2N) is applied only when it is smaller than |AP - EP| (Nigrini 2012, eq. 6.1)."""
    difference = abs(observed_share - expected_share)
    correction = 1 / (2 * count)
    if correction < difference:
        difference -= correction
    return difference / math.sqrt(expected_share * (1 - expected_share) / count)


def benford_from_counts(test: str, counts: dict[int, int]) -> BenfordResult:
    """Return the Benford statistics for digit ``counts`` (digit -> number of amounts) under ``test``
    (Nigrini 2012: MAD eq. 7.1, Z eq. 6.1, chi-square eq. 6.2 via scipy.stats.chisquare)."""
    digits = digits_of(test)
    observed = np.array([counts.get(d, 0) for d in digits], dtype=float)
    total = int(observed.sum())
    if total == 0:
        raise CheckError(f"no amounts to test for the {test}-digit Benford test",
                         hint="Benford tests need amounts of at least 10 in journal_lines; ingest books first")
    expected = expected_proportions(test)
    shares = observed / total
    mad = float(np.abs(shares - expected).mean())
    chi = stats.chisquare(observed, expected * total)
    rows = [DigitRow(d, int(o), float(s), float(e), z_statistic(float(s), float(e), total))
            for d, o, s, e in zip(digits, observed, shares, expected, strict=True)]
    return BenfordResult(test, total, rows, mad, conformity(test, mad), float(chi.statistic), float(chi.pvalue))


# The significant digits of an amount >= 10 are the leading digits of its integer part n. They are found with
# integer arithmetic only (exact for every DECIMAL(18,2) value): divide n by the power of ten that leaves two
# digits, picked by comparing n with the powers of ten (no floating-point log10 near a power of ten).
_POWERS = [10 ** k for k in range(17)]
_LEADING_TWO = ("(CAST(trunc(a) AS BIGINT) // CASE " + " ".join(
    f"WHEN CAST(trunc(a) AS BIGINT) >= {_POWERS[k + 1]} THEN {_POWERS[k]}" for k in range(15, 0, -1))
    + " ELSE 1 END)")
DIGIT_SQL = {
    "first": f"({_LEADING_TWO} // 10)",
    "second": f"({_LEADING_TWO} % 10)",
    "first-two": _LEADING_TWO,
}


def _amounts_sql() -> str:
    live = SQL_FRAGMENTS["LIVE_LINE_ROWS"]
    return f"SELECT *, greatest(debit, credit) AS a FROM ({live}) WHERE greatest(debit, credit) >= ?"


def benford_test(case: Case, test: str = "first", minimum: Decimal = Decimal("10")) -> BenfordResult:
    """Return the Benford ``test`` over the live line amounts of at least ``minimum`` in the case (Nigrini 2012)."""
    expression = DIGIT_SQL[_test(test)]
    rows = case.con.execute(f"SELECT {expression} AS digit, count(*) FROM ({_amounts_sql()}) GROUP BY 1",
                            [minimum]).fetchall()
    return benford_from_counts(test, {int(d): int(n) for d, n in rows})


def _benford_findings(case: Case, options: CheckOptions, test: str) -> list[Finding]:
    result = benford_test(case, test, options.benford_minimum)
    check_id = f"benford.{test.replace('-', '_')}_digit" + ("s" if test == "first-two" else "")
    if result.count < options.benford_minimum_count:
        return []  # too few amounts to expect Benford behaviour (Nigrini 2012, ch. 7 advises 1,000+ records)
    # A digit is a spike when its excess is significant after a Bonferroni correction over all the digits of
    # the test: with 90 first-two digits, plain Z > 1.96 would flag four or five digits of perfectly clean data.
    critical = max(Z_CRITICAL, float(stats.norm.isf(0.05 / len(result.rows))))
    spikes = [r for r in result.rows if r.z > critical and r.observed_share > r.expected_share]
    spikes = sorted(spikes, key=lambda r: r.z, reverse=True)[:BENFORD_SPIKES]
    if not spikes and result.band in BAND_NAMES[:2]:
        return []
    findings: list[Finding] = []
    per_digit = max(1, min(options.benford_rows_per_digit, options.max_findings // max(1, len(spikes))))
    summary = (f"{test}-digit test on {result.count} amounts: MAD {result.mad:.4f} ({result.band}), "
               f"chi-square {result.chi_square:.1f}")
    if spikes:
        # One scan for all spikes: the rows behind each over-represented digit, largest amounts first.
        spike_table = pa.table({
            "spike_digit": [r.digit for r in spikes], "spike_observed": [r.observed for r in spikes],
            "spike_excess": [round((r.observed_share - r.expected_share) * result.count) for r in spikes],
            "spike_z": [round(r.z, 2) for r in spikes]})
        case.con.register("taxaudit_benford_spikes", spike_table)
        try:
            findings.extend(sql_findings(case, check_id, f"""
                WITH top AS (
                    -- top-N per digit as a streaming aggregate: no sort of the (possibly millions of) hits
                    SELECT digit, unnest(max_by({{'source_id': source_id, 'entry_id': entry_id, 'line_no': line_no,
                                                  'account_id': account_id, 'a': a}}, (a, entry_id, line_no), ?)) AS r
                    FROM (SELECT *, {DIGIT_SQL[test]} AS digit FROM ({_amounts_sql()}))
                    WHERE digit IN (SELECT spike_digit FROM taxaudit_benford_spikes) GROUP BY digit)
                SELECT 'journal_lines', format('{{}}#{{}}', r.entry_id, r.line_no), r.a,
                       format('Digit {{}} is over-represented ({{}} amounts, {{}} more than expected, Z = {{}}); '
                              'entry {{}} line {{}} on account {{}}: {{}}', digit, spike_observed, spike_excess,
                              spike_z, r.entry_id, r.line_no, r.account_id, r.a::VARCHAR),
                       json_object('source_id', r.source_id, 'entry_id', r.entry_id, 'line_no', r.line_no,
                                   'account_id', r.account_id, 'amount', r.a::VARCHAR, 'test', ?, 'digit', digit,
                                   'z', spike_z, 'summary', ?)::VARCHAR
                FROM top JOIN taxaudit_benford_spikes ON digit = spike_digit
                ORDER BY spike_z DESC, r.a DESC, r.entry_id, r.line_no""",
                [per_digit, options.benford_minimum, test, summary]))
        finally:
            case.con.unregister("taxaudit_benford_spikes")
    findings.append(Finding(check_id, "medium" if result.band == BAND_NAMES[-1] else "low",
                            f"The amounts show {result.band} to Benford's Law: {summary}",
                            "journal_lines", f"{test}-digit test", None, NIGRINI, result.to_dict(), "1"))
    return findings


@check("benford.first_digit", title="Benford first-digit test", severity="low", citation=NIGRINI)
def first_digit(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return findings for over-represented first digits (Z > 1.96) with the lines behind them, and one if the
    first-digit MAD is in Nigrini's nonconformity range (Nigrini 2012, ch. 5 and table 7.1)."""
    return _benford_findings(case, options, "first")


@check("benford.second_digit", title="Benford second-digit test", severity="low", citation=NIGRINI)
def second_digit(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return findings for over-represented second digits with the lines behind them (Nigrini 2012, ch. 5)."""
    return _benford_findings(case, options, "second")


@check("benford.first_two_digits", title="Benford first-two digits test", severity="low", citation=NIGRINI)
def first_two_digits(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return findings for over-represented first-two digit combinations with the lines behind them
    (Nigrini 2012, ch. 5: the test that best points at specific invented amounts)."""
    return _benford_findings(case, options, "first-two")
