"""Evaluate an audited sample from its results file (the selection CSV with the examiner's findings added).

Columns read: ``deviation`` (attribute, 1/0, yes/no), ``audited_amount`` (MUS and variables; the error is
``amount - audited_amount``), ``stratum``, ``stratum_population``, ``stratum_book_value``, ``hits``,
``top_stratum`` and ``sampling_interval`` as written by ``taxaudit sample select``. Every evaluation returns a
dict with at least ``method``, ``point_estimate``, ``lower``, ``upper`` and ``confidence``.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from taxaudit.model.money import CENT, AmountError, parse_amount
from taxaudit.sampling.attribute import evaluate_attribute
from taxaudit.sampling.errors import SamplingError
from taxaudit.sampling.mus import Misstatement, cell_bound, stringer_bound
from taxaudit.sampling.revproc import tax_estimate
from taxaudit.sampling.stratified import StratumResult, project_errors
from taxaudit.sampling.variables import StratumSample, estimate_total

TRUE = {"1", "true", "yes", "y", "x", "t"}
FALSE = {"0", "false", "no", "n", "", "f"}
Row = dict[str, str]


def read_results(path: Path) -> list[Row]:
    """Return the rows of a results CSV (header row required)."""
    if not path.is_file():
        raise SamplingError("results file not found", where=str(path), hint="give the selection CSV with results added")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SamplingError(f"cannot read the results file: {exc}", where=str(path),
                            hint="save it as UTF-8 CSV") from exc
    if not rows:
        raise SamplingError("the results file has no rows", where=str(path))
    return rows


def _need(rows: Sequence[Row], columns: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise SamplingError(f"results lack column(s) {', '.join(missing)}", where=where,
                            hint="columns present: " + ", ".join(rows[0].keys()))


def _flag(value: str | None, where: str) -> bool:
    text = (value or "").strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise SamplingError(f"{value!r} is not yes/no", where=where, hint="write 1 or 0 (or yes/no)")


def _money(value: str | None, where: str) -> Decimal:
    try:
        return parse_amount(value)
    except AmountError as exc:
        raise SamplingError(str(exc), where=where, hint="write amounts like 1234.56") from exc


def _int(value: str | None, where: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise SamplingError(f"{value!r} is not a whole number", where=where) from exc


def attribute_from_rows(rows: Sequence[Row], confidence: float, *, likelihood: str = "binomial",
                        population_size: int | None = None, alternative: str = "less", where: str = "results"
                        ) -> dict[str, Any]:
    """Return the attribute evaluation of rows with a ``deviation`` column."""
    _need(rows, ["deviation"], where)
    deviations = sum(_flag(r["deviation"], f"{where} row {i}") for i, r in enumerate(rows, start=2))
    result = evaluate_attribute(len(rows), deviations, confidence, likelihood,  # type: ignore[arg-type]
                                population_size, alternative)  # type: ignore[arg-type]
    return result.to_dict()


def mus_from_rows(rows: Sequence[Row], confidence: float, *, bound: str = "stringer", factors: str = "poisson",
                  tolerable_misstatement: Decimal | None = None, n: int | None = None, where: str = "results"
                  ) -> dict[str, Any]:
    """Return the Stringer or cell evaluation of a monetary-unit sample's rows.

    ``n`` (the planned sample size) is needed only for binomial factors; by default the rows' hits are counted.
    """
    _need(rows, ["amount", "audited_amount", "sampling_interval"], where)
    interval = _money(rows[0]["sampling_interval"], f"{where} row 2 sampling_interval")
    items = []
    total_hits = 0
    for i, r in enumerate(rows, start=2):
        book = _money(r["amount"], f"{where} row {i} amount")
        audited = _money(r["audited_amount"], f"{where} row {i} audited_amount")
        hits = _int(r.get("hits") or "1", f"{where} row {i} hits")
        total_hits += hits
        # The selection's own top-stratum flag decides, not a comparison with the interval rounded to cents.
        top = _flag(r["top_stratum"], f"{where} row {i} top_stratum") if r.get("top_stratum") else None
        if book != audited:
            items.append(Misstatement(book, audited, hits, top))
    if bound == "stringer":
        result = stringer_bound(items, interval, confidence, factors=factors,  # type: ignore[arg-type]
                                n=n or total_hits, tolerable_misstatement=tolerable_misstatement)
    elif bound == "cell":
        result = cell_bound(items, interval, confidence, tolerable_misstatement=tolerable_misstatement)
    else:
        raise SamplingError(f"unknown MUS bound {bound!r}", hint="use stringer or cell")
    data = result.to_dict()
    data["n"] = len(rows)
    data["misstatements_found"] = len(items)
    if tolerable_misstatement is not None:
        data["conclusion_supported"] = result.upper_misstatement_limit <= tolerable_misstatement
    return data


def _by_stratum(rows: Sequence[Row], where: str) -> dict[str, list[tuple[int, Row]]]:
    _need(rows, ["stratum", "stratum_population"], where)
    groups: dict[str, list[tuple[int, Row]]] = defaultdict(list)
    for i, r in enumerate(rows, start=2):
        groups[r["stratum"]].append((i, r))
    return dict(sorted(groups.items()))


def stratified_from_rows(rows: Sequence[Row], confidence: float, *, sides: int = 2, distribution: str = "normal",
                         where: str = "results") -> dict[str, Any]:
    """Return the projected number (and amount, when ``audited_amount`` is present) of errors by stratum."""
    _need(rows, ["deviation"], where)
    with_amounts = "audited_amount" in rows[0] and "amount" in rows[0]
    results = []
    for name, members in _by_stratum(rows, where).items():
        size = _int(members[0][1]["stratum_population"], f"{where} row {members[0][0]} stratum_population")
        errors = 0
        amounts: list[float] = []
        for i, r in members:
            if _flag(r["deviation"], f"{where} row {i} deviation"):
                errors += 1
            if with_amounts:
                amounts.append(float(_money(r["amount"], f"{where} row {i}")
                                     - _money(r["audited_amount"], f"{where} row {i} audited_amount")))
        results.append(StratumResult(name, size, len(members), errors, amounts if with_amounts else None))
    projection = project_errors(results, confidence, sides=sides, distribution=distribution)  # type: ignore[arg-type]
    data = projection.to_dict()
    if data["amount"] is not None:
        _as_money(data["amount"], MONEY_FIELDS)
    return data


def variables_from_rows(rows: Sequence[Row], confidence: float, *, estimator: str = "difference", sides: int = 1,
                        distribution: str = "t", taxpayer_benefits_from: str | None = None,
                        where: str = "results") -> dict[str, Any]:
    """Return the stratified variables estimate of the audited total and of the misstatement (book - audited).

    With ``taxpayer_benefits_from`` the Rev. Proc. 2011-42 amount is added (needs ``sides=1``, 95 %).
    """
    _need(rows, ["amount", "audited_amount", "stratum_book_value"], where)
    strata = []
    book_total = Decimal("0")
    for name, members in _by_stratum(rows, where).items():
        first_row, first = members[0]
        size = _int(first["stratum_population"], f"{where} row {first_row} stratum_population")
        stratum_book = _money(first["stratum_book_value"], f"{where} row {first_row} stratum_book_value")
        book_total += stratum_book
        book = [float(_money(r["amount"], f"{where} row {i} amount")) for i, r in members]
        audited = [float(_money(r["audited_amount"], f"{where} row {i} audited_amount")) for i, r in members]
        strata.append(StratumSample(name, size, audited, book, float(stratum_book)))
    audited_estimate = estimate_total(strata, confidence, estimator, sides=sides,  # type: ignore[arg-type]
                                      distribution=distribution)  # type: ignore[arg-type]
    data = audited_estimate.to_dict()
    data.update(method="variables", book_value=book_total,
                misstatement_point_estimate=float(book_total) - audited_estimate.point_estimate,
                misstatement_lower=float(book_total) - audited_estimate.upper,
                misstatement_upper=float(book_total) - audited_estimate.lower)
    _as_money(data, MONEY_FIELDS)
    for stratum in data["strata"]:
        _as_money(stratum, ("total",))
    if taxpayer_benefits_from:
        rule = tax_estimate(audited_estimate, taxpayer_benefits_from).to_dict()  # type: ignore[arg-type]
        data["rev_proc_2011_42"] = _as_money(rule, ("amount", "point_estimate", "least_advantageous_limit",
                                                    "precision"))
    return data


MONEY_FIELDS = ("point_estimate", "lower", "upper", "precision", "standard_error", "misstatement_point_estimate",
                "misstatement_lower", "misstatement_upper")


def _as_money(data: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """Round the named float amounts to exact cents (money leaves the library as Decimal)."""
    for key in keys:
        if isinstance(data.get(key), float):
            data[key] = Decimal(repr(data[key])).quantize(CENT)
    return data
