"""Reproducible selection: simple random, systematic, stratified and monetary-unit (fixed-interval and cell).

Every method draws from ``numpy.random.Generator(PCG64(seed))``; the same seed and the same population (same
SHA-256, same order) give the same selection. Monetary-unit selection works on exact integer cents with a
vectorised cumulative sum and ``searchsorted``; items at or above the sampling interval form a top stratum taken
in full (AICPA Audit Sampling Guide, ch. 6), items with zero or negative amounts cannot be hit and are counted
apart so they can be tested separately.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np

from taxaudit.model.money import from_cents
from taxaudit.sampling.errors import SamplingError
from taxaudit.sampling.population import Population
from taxaudit.sampling.variables import StratumDesign, allocate

PRNG = "numpy.random.Generator(PCG64(seed))"
SELECTION_COLUMNS = (
    "selection_order", "key", "amount", "stratum", "stratum_population", "stratum_book_value",
    "stratum_sample_size", "selection_probability", "weight", "hits", "top_stratum", "monetary_unit",
    "sampling_interval",
)
MONEY_COLUMNS = ("amount", "stratum_book_value", "sampling_interval")


@dataclass
class Selection:
    """A drawn sample: item positions in the population with their stratum, probability, weight and hits."""

    method: str
    seed: int
    population: Population
    index: np.ndarray
    stratum: np.ndarray
    probability: np.ndarray
    hits: np.ndarray
    top_stratum: np.ndarray
    monetary_unit: np.ndarray | None = None
    sampling_interval: Decimal | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    stratum_population: dict[str, int] = field(default_factory=dict)
    stratum_book_value: dict[str, Decimal] = field(default_factory=dict)
    excluded_non_positive: int = 0

    @property
    def size(self) -> int:
        return int(self.index.shape[0])

    def stratum_sample_size(self) -> dict[str, int]:
        names, counts = np.unique(self.stratum.astype(str), return_counts=True)
        return {str(k): int(v) for k, v in zip(names, counts, strict=True)}

    def rows(self) -> Iterator[dict[str, Any]]:
        """Yield one dict per selected item in selection order (columns of :data:`SELECTION_COLUMNS`)."""
        sizes = self.stratum_sample_size()
        for order, position in enumerate(self.index.tolist()):
            name = str(self.stratum[order])
            probability = float(self.probability[order])
            yield {
                "selection_order": order + 1,
                "key": str(self.population.keys[position]),
                "amount": from_cents(int(self.population.cents[position])),
                "stratum": name,
                "stratum_population": self.stratum_population.get(name),
                "stratum_book_value": self.stratum_book_value.get(name),
                "stratum_sample_size": sizes[name],
                "selection_probability": round(probability, 12),
                "weight": round(1.0 / probability, 12) if probability > 0 else None,
                "hits": int(self.hits[order]),
                "top_stratum": bool(self.top_stratum[order]),
                "monetary_unit": None if self.monetary_unit is None or self.monetary_unit[order] < 0
                else int(self.monetary_unit[order]) + 1,
                "sampling_interval": self.sampling_interval,
            }

    def metadata(self) -> dict[str, Any]:
        """Return what documents the draw: method, seed, PRNG, population hash and size, parameters."""
        return {
            "method": self.method,
            "seed": self.seed,
            "prng": PRNG,
            "population_source": self.population.source,
            "amount_column": self.population.amount_column,
            "population_sha256": self.population.sha256(),
            "population_size": self.population.size,
            "excluded_missing_amount": self.population.excluded_missing,
            "population_book_value": self.population.book_value,
            "sample_size": self.size,
            "n_by_stratum": self.stratum_sample_size(),
            "sampling_interval": self.sampling_interval,
            "excluded_non_positive": self.excluded_non_positive,
            "parameters": self.parameters,
        }


def _rng(seed: int) -> np.random.Generator:
    if int(seed) != seed or seed < 0:
        raise SamplingError(f"seed {seed} is not a non-negative whole number", where="seed")
    return np.random.Generator(np.random.PCG64(int(seed)))


def _check_n(n: int, size: int) -> None:
    if int(n) != n or n < 1:
        raise SamplingError(f"sample size {n} is not a positive whole number", where="n")
    if n > size:
        raise SamplingError(f"sample size {n} exceeds the population of {size} items", where="n",
                            hint="test the whole population, or lower the sample size")


def _single_stratum(population: Population, method: str, seed: int, index: np.ndarray,
                    parameters: dict[str, Any]) -> Selection:
    n, size = index.shape[0], population.size
    all_name = "all"
    return Selection(method, seed, population, index, np.full(n, all_name, dtype=object),
                     np.full(n, n / size), np.ones(n, dtype=np.int64), np.zeros(n, dtype=bool),
                     parameters=parameters, stratum_population={all_name: size},
                     stratum_book_value={all_name: population.book_value})


def select_random(population: Population, n: int, seed: int) -> Selection:
    """Return a simple random sample of ``n`` distinct items, in draw order (without replacement)."""
    _check_n(n, population.size)
    index = _rng(seed).choice(population.size, size=n, replace=False)
    return _single_stratum(population, "random", seed, np.asarray(index, dtype=np.int64), {"n": n})


def select_systematic(population: Population, n: int, seed: int) -> Selection:
    """Return a systematic sample: a random start in [0, N/n) then every N/n-th item (exact fractional step).

    The start is r/n with r uniform in [0, N), and item k is floor((r + kN) / n): every item then has inclusion
    probability exactly n/N even when N/n is not a whole number.
    """
    _check_n(n, population.size)
    size = population.size
    start = int(_rng(seed).integers(0, size))
    index = (start + np.arange(n, dtype=np.int64) * size) // n
    return _single_stratum(population, "systematic", seed, index,
                           {"n": n, "interval": size / n, "random_start": start / n})


def _spread(cents: np.ndarray) -> float:
    return float(np.std(cents / 100.0, ddof=1)) if cents.shape[0] > 1 else 0.0


def select_stratified(
    population: Population,
    seed: int,
    *,
    n_by_stratum: Mapping[str, int] | None = None,
    n: int | None = None,
    allocation: Literal["proportional", "neyman"] = "proportional",
    minimum_per_stratum: int = 2,
) -> Selection:
    """Return a stratified random sample: SRS without replacement inside each stratum (strata in sorted order).

    Give ``n_by_stratum``, or ``n`` and an allocation (proportional to N_h, or Neyman to N_h x standard
    deviation of the amounts in the stratum).
    """
    if population.strata is None:
        raise SamplingError("stratified selection needs a stratum column", where="stratum",
                            hint="give --stratum COLUMN")
    names, inverse = np.unique(population.strata.astype(str), return_inverse=True)
    members = [np.flatnonzero(inverse == i) for i in range(len(names))]
    if n_by_stratum is None:
        if n is None:
            raise SamplingError("give either n_by_stratum or n with an allocation", where="n")
        designs = [StratumDesign(str(name), len(m), _spread(population.cents[m]))
                   for name, m in zip(names, members, strict=True)]
        n_by_stratum = allocate(n, designs, allocation, minimum_per_stratum=minimum_per_stratum)
    unknown = set(n_by_stratum) - {str(x) for x in names}
    if unknown:
        raise SamplingError(f"strata not in the population: {', '.join(sorted(unknown))}", where="n_by_stratum",
                            hint="strata present: " + ", ".join(map(str, names)))
    rng = _rng(seed)
    picks, labels, probabilities = [], [], []
    book: dict[str, Decimal] = {}
    sizes: dict[str, int] = {}
    for name, items in zip(names, members, strict=True):
        key = str(name)
        wanted = int(n_by_stratum.get(key, 0))
        if wanted > len(items) or wanted < 0:
            raise SamplingError(f"stratum {key!r}: sample size {wanted} for {len(items)} items", where=f"stratum {key}")
        sizes[key] = len(items)
        book[key] = from_cents(int(population.cents[items].sum(dtype=np.int64)))
        if wanted == 0:
            continue
        chosen = items[rng.choice(len(items), size=wanted, replace=False)]
        picks.append(chosen)
        labels.extend([key] * wanted)
        probabilities.extend([wanted / len(items)] * wanted)
    if not picks:
        raise SamplingError("the stratified plan selects no items", where="n_by_stratum")
    index = np.concatenate(picks).astype(np.int64)
    count = index.shape[0]
    return Selection("stratified", seed, population, index, np.asarray(labels, dtype=object),
                     np.asarray(probabilities), np.ones(count, dtype=np.int64), np.zeros(count, dtype=bool),
                     parameters={"n_by_stratum": dict(n_by_stratum), "allocation": allocation},
                     stratum_population=sizes, stratum_book_value=book)


def select_mus(
    population: Population,
    n: int,
    seed: int,
    *,
    method: Literal["fixed", "cell"] = "fixed",
) -> Selection:
    """Return a monetary-unit sample with interval J = BV / n (BV = total of positive amounts, in cents).

    ``fixed``: random start in [0, J) (r/n with r uniform in [0, BV)) then every J-th monetary unit, unit k being
    floor((r + k BV) / n), so every monetary unit has probability exactly 1/J; ``cell``: one random unit in each cell
    [kJ, (k+1)J). Items with amount >= J are taken in full as the top stratum; the hits in the rest of the
    population then fall at the same interval. A cell sample may hit one item twice (``hits`` = 2); a fixed-
    interval sample cannot, since every remaining item is smaller than J.
    """
    if method not in ("fixed", "cell"):
        raise SamplingError(f"unknown MUS selection {method!r}", hint="use fixed or cell")
    if int(n) != n or n < 1:
        raise SamplingError(f"sample size {n} is not a positive whole number", where="n")
    cents = population.cents
    positive = cents > 0
    excluded = int(population.size - np.count_nonzero(positive))
    book = int(cents[positive].sum(dtype=np.int64))
    if book <= 0:
        raise SamplingError("the population has no positive amounts to sample by monetary unit",
                            where=population.source, hint="use attribute or stratified selection")
    if n > book:
        raise SamplingError(f"sample size {n} exceeds the {book} monetary units (cents) of the population", where="n")
    interval_ceiling = -(-book // n)  # an integer amount is >= BV/n exactly when it is >= ceil(BV/n)
    top_mask = cents >= interval_ceiling
    top_index = np.flatnonzero(top_mask)
    rest_index = np.flatnonzero(positive & ~top_mask)
    rng = _rng(seed)
    if method == "fixed":
        start = int(rng.integers(0, book))
        units = np.array([(start + k * book) // n for k in range(n)], dtype=np.int64)
    else:
        lows = [(k * book) // n for k in range(n + 1)]
        widths = np.array([lows[k + 1] - lows[k] for k in range(n)], dtype=np.int64)
        units = np.array(lows[:-1], dtype=np.int64) + rng.integers(0, widths)
    hit_index = np.empty(0, dtype=np.int64)
    hit_units = np.empty(0, dtype=np.int64)
    hit_counts = np.empty(0, dtype=np.int64)
    if rest_index.shape[0]:
        cumulative = np.cumsum(cents[rest_index], dtype=np.int64)
        units = units[units < cumulative[-1]]
        positions = np.searchsorted(cumulative, units, side="right")
        unique_positions, first, counts = np.unique(positions, return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")
        hit_index = rest_index[unique_positions[order]]
        hit_units = units[first[order]]
        hit_counts = counts[order].astype(np.int64)
    top_count, hit_count = top_index.shape[0], hit_index.shape[0]
    index = np.concatenate([top_index, hit_index]).astype(np.int64)
    # In floating point: cents x n can exceed int64 for very large balances.
    probability = np.concatenate([np.ones(top_count), np.minimum(1.0, cents[hit_index].astype(np.float64) * n / book)])
    stratum = np.array(["top"] * top_count + ["sampled"] * hit_count, dtype=object)
    interval = from_cents(book) / n
    top_book = from_cents(int(cents[top_index].sum(dtype=np.int64)))
    return Selection(
        f"mus-{method}", seed, population, index, stratum, probability,
        np.concatenate([np.ones(top_count, dtype=np.int64), hit_counts]),
        np.concatenate([np.ones(top_count, dtype=bool), np.zeros(hit_count, dtype=bool)]),
        monetary_unit=np.concatenate([np.full(top_count, -1, dtype=np.int64), hit_units]),
        sampling_interval=interval.quantize(Decimal("0.01")),
        parameters={"n": n, "selection": method, "book_value_sampled": from_cents(book)},
        stratum_population={"top": top_count, "sampled": int(rest_index.shape[0])},
        stratum_book_value={"top": top_book, "sampled": from_cents(book) - top_book},
        excluded_non_positive=excluded,
    )


def write_csv(selection: Selection, path: Path) -> Path:
    """Write the selection list as CSV (exact decimal amounts) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=SELECTION_COLUMNS)
        writer.writeheader()
        for row in selection.rows():
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return path


def write_xlsx(selection: Selection, path: Path) -> Path:
    """Write the selection list and the draw's parameters as an XLSX workbook and return the path."""
    from taxaudit.report.xlsx import add_table_sheet, new_workbook

    workbook = new_workbook()
    add_table_sheet(workbook, "Selection", SELECTION_COLUMNS,
                    ([row[c] for c in SELECTION_COLUMNS] for row in selection.rows()), money_columns=MONEY_COLUMNS)
    meta = selection.metadata()
    add_table_sheet(workbook, "Parameters", ("parameter", "value"),
                    [(k, str(v)) for k, v in meta.items()])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def probability_sum(selection: Selection) -> float:
    """Return the sum of weights (1/probability) over distinct items: an estimate of the population size."""
    return float(math.fsum(1.0 / p for p in selection.probability.tolist() if p > 0))
