"""Reproducible selection from files and case tables; invariants of each method."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxaudit.sampling.errors import SamplingError
from taxaudit.sampling.population import from_arrays, load_case_table, load_file
from taxaudit.sampling.select import (
    probability_sum,
    select_mus,
    select_random,
    select_stratified,
    select_systematic,
    write_csv,
    write_xlsx,
)
from taxaudit.store import init_case


def _population(size: int = 1000, seed: int = 7, strata: bool = False):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    cents = rng.integers(1, 500_000, size)
    names = np.where(np.arange(size) % 3 == 0, "high", "low") if strata else None
    return from_arrays(np.arange(1, size + 1).astype(str), cents, names)


def test_same_seed_same_selection_and_documented_prng() -> None:
    population = _population()
    first, second = select_random(population, 50, 2026), select_random(population, 50, 2026)
    assert first.index.tolist() == second.index.tolist()
    assert select_random(population, 50, 2027).index.tolist() != first.index.tolist()
    # Pinned draw: numpy Generator(PCG64(2026)).choice(1000, 50, replace=False) — guards against PRNG changes.
    expected = np.random.Generator(np.random.PCG64(2026)).choice(1000, 50, replace=False)
    assert first.index.tolist() == expected.tolist()
    assert first.metadata()["prng"] == "numpy.random.Generator(PCG64(seed))"


def test_mus_fixed_interval_follows_the_documented_algorithm() -> None:
    # Documented in docs/sampling.md: r = Generator(PCG64(seed)).integers(0, BV); unit k = (r + k BV) // n;
    # the item hit is the one whose cumulative cents first exceed the unit.
    population = _population(500)
    book = int(population.cents.sum())
    start = int(np.random.Generator(np.random.PCG64(31)).integers(0, book))
    units = [(start + k * book) // 25 for k in range(25)]
    expected = np.searchsorted(np.cumsum(population.cents), units, side="right")
    assert select_mus(population, 25, 31).index.tolist() == expected.tolist()


def test_systematic_spacing_and_probabilities() -> None:
    selection = select_systematic(_population(1000), 40, 3)
    steps = np.diff(selection.index)
    assert set(steps.tolist()) == {25}
    assert selection.probability.tolist() == [0.04] * 40


def test_systematic_gives_every_item_probability_n_over_n_for_fractional_intervals() -> None:
    # N = 10, n = 4: the step is 2.5. With a whole-number start in [0, N // n) items 4 and 9 could never be drawn.
    population = _population(10)
    counts = np.zeros(10)
    draws = 4000
    for seed in range(draws):
        counts[select_systematic(population, 4, seed).index] += 1
    assert counts.min() > 0
    assert np.allclose(counts / draws, 0.4, atol=0.04)


def test_stratified_respects_the_allocation() -> None:
    population = _population(900, strata=True)
    selection = select_stratified(population, 11, n_by_stratum={"high": 30, "low": 20})
    assert selection.stratum_sample_size() == {"high": 30, "low": 20}
    rows = list(selection.rows())
    assert {r["stratum_population"] for r in rows if r["stratum"] == "high"} == {300}
    assert all(population.strata[i] == s for i, s in zip(selection.index, selection.stratum, strict=True))
    # Horvitz-Thompson: the weights of a stratified random sample add up to the population size.
    assert probability_sum(selection) == pytest.approx(900)


def test_stratified_with_neyman_allocation() -> None:
    population = _population(900, strata=True)
    selection = select_stratified(population, 11, n=60, allocation="neyman")
    assert selection.size == 60


def test_mus_top_stratum_taken_in_full() -> None:
    cents = np.array([10_000_000] + [1000] * 999, dtype=np.int64)  # one item above the interval
    population = from_arrays(np.arange(1000).astype(str), cents)
    selection = select_mus(population, 50, 5)
    assert selection.top_stratum[0] and selection.index[0] == 0
    book = int(cents.sum())
    assert selection.sampling_interval == (Decimal(book) / 100 / 50).quantize(Decimal("0.01"))
    assert all(p <= 1 for p in selection.probability)


def test_mus_hits_follow_the_cumulative_monetary_units() -> None:
    cents = np.array([100, 300, 50, 550], dtype=np.int64)  # units 0-99, 100-399, 400-449, 450-999
    population = from_arrays(["a", "b", "c", "d"], cents)
    selection = select_mus(population, 2, 1)  # interval 500 units: d (550) is top stratum, 450 units remain
    assert selection.top_stratum.tolist()[0] is True
    for position, unit in zip(selection.index[1:], selection.monetary_unit[1:], strict=True):
        remaining = np.cumsum(cents[:3])
        assert int(np.searchsorted(remaining, unit, side="right")) == position


@pytest.mark.parametrize("method", ["fixed", "cell"])
def test_mus_inclusion_probability_is_amount_over_interval(method: str) -> None:
    cents = [100, 200, 300, 150, 250]  # BV 1000, n = 2: J = 500, probabilities .2 .4 .6 .3 .5
    population = from_arrays(["a", "b", "c", "d", "e"], cents)
    counts = np.zeros(5)
    draws = 3000
    for seed in range(draws):
        selection = select_mus(population, 2, seed, method=method)  # type: ignore[arg-type]
        counts[selection.index] += 1
        assert selection.probability.tolist() == [cents[i] / 500 for i in selection.index]
    expected = np.array(cents) / 500
    if method == "fixed":
        assert np.allclose(counts / draws, expected, atol=0.03)
    else:
        # An item straddling two cells can be hit by both; it is listed once, so its frequency is a bit lower.
        assert np.all(counts / draws <= expected + 0.03)


def test_mus_skips_non_positive_amounts() -> None:
    population = from_arrays(["a", "b", "c"], [-500, 0, 900])
    selection = select_mus(population, 1, 1)
    assert selection.excluded_non_positive == 2
    assert selection.index.tolist() == [2]


@settings(max_examples=40, deadline=None)
@given(size=st.integers(5, 400), seed=st.integers(0, 2**32), fraction=st.floats(0.05, 1.0),
       method=st.sampled_from(["random", "systematic", "mus-fixed", "stratified"]))
def test_no_unit_selected_twice_unless_the_method_allows(size: int, seed: int, fraction: float, method: str) -> None:
    population = _population(size, seed=seed % 1000, strata=True)
    n = max(1, int(size * fraction))
    if method == "random":
        selection = select_random(population, n, seed)
    elif method == "systematic":
        selection = select_systematic(population, n, seed)
    elif method == "stratified":
        high = int((population.strata == "high").sum())
        selection = select_stratified(population, seed, n_by_stratum={"high": min(high, n), "low": 0})
    else:
        selection = select_mus(population, n, seed)
        assert selection.hits.max() == 1  # fixed interval: every remaining item is smaller than the interval
    assert len(set(selection.index.tolist())) == selection.size


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 200))
def test_cell_selection_may_hit_an_item_twice_and_counts_it(seed: int, n: int) -> None:
    population = _population(300, seed=3)
    selection = select_mus(population, n, seed, method="cell")
    # Items appear once in the list; an item hit by two cells carries hits = 2, so hits never exceed n.
    assert len(set(selection.index.tolist())) == selection.size
    sampled_hits = selection.hits[~selection.top_stratum]
    assert sampled_hits.min(initial=1) >= 1
    assert int(sampled_hits.sum()) <= n


def test_bad_selection_inputs() -> None:
    population = _population(10)
    with pytest.raises(SamplingError, match="exceeds the population"):
        select_random(population, 11, 1)
    with pytest.raises(SamplingError, match="seed"):
        select_random(population, 2, -1)
    with pytest.raises(SamplingError, match="stratum column"):
        select_stratified(population, 1, n=2)
    with pytest.raises(SamplingError, match="no positive amounts"):
        select_mus(from_arrays(["a"], [0]), 1, 1)
    with pytest.raises(SamplingError, match="unknown MUS"):
        select_mus(population, 2, 1, method="random")  # type: ignore[arg-type]


def test_file_population_csv_and_parquet(tmp_path: Path) -> None:
    csv_path = tmp_path / "pop.csv"
    csv_path.write_text("id,amount,region\nA,10.50,n\nB,3,s\nC,1200.10,n\n", encoding="utf-8")
    population = load_file(csv_path, "amount", keys=("id",), stratum="region")
    assert population.cents.tolist() == [1050, 300, 120010]
    assert population.keys.tolist() == ["A", "B", "C"]
    import duckdb

    parquet_path = tmp_path / "pop.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv_path}')) TO '{parquet_path}' (FORMAT parquet)")
    assert load_file(parquet_path, "amount", keys=("id",), stratum="region").sha256() == population.sha256()
    unkeyed = load_file(csv_path, "amount")
    assert unkeyed.keys.tolist() == [1, 2, 3]  # row numbers


@pytest.mark.parametrize(("text", "message"), [
    ("id,amount\nA,12x\n", "non-numeric"),
    ("id,amount\nA,\n", "missing"),
    ("id,total\nA,1\n", "not in the population"),
])
def test_bad_population_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SamplingError, match=message):
        load_file(path, "amount")


def test_bad_population_paths(tmp_path: Path) -> None:
    with pytest.raises(SamplingError, match="not found"):
        load_file(tmp_path / "none.csv", "amount")
    other = tmp_path / "x.json"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(SamplingError, match="unsupported"):
        load_file(other, "amount")


def test_case_table_population_ordered_by_key(tmp_path: Path) -> None:
    case = init_case(tmp_path / "case")
    case.con.execute(
        "INSERT INTO journal_lines (source_id, entry_id, line_no, account_id, debit, credit) VALUES "
        "('s', 'E2', 1, '600', 25.00, 0), ('s', 'E1', 2, '600', 10.10, 0), ('s', 'E1', 1, '400', 0, 35.10)")
    population = load_case_table(case.con, "journal_lines", "debit")
    assert population.keys.tolist() == ["s|E1|1", "s|E1|2", "s|E2|1"]
    assert population.cents.tolist() == [0, 1010, 2500]
    # A stage's own table may leave amounts empty: those rows are not sampling units and are counted.
    case.con.execute("CREATE TABLE payments (payment_id INTEGER, paid DECIMAL(18,2))")
    case.con.execute("INSERT INTO payments VALUES (2, 10.00), (1, NULL), (3, 7.50)")
    payments = load_case_table(case.con, "payments", "paid", keys=("payment_id",))
    assert payments.keys.tolist() == [2, 3] and payments.excluded_missing == 1
    with pytest.raises(SamplingError, match="no table"):
        load_case_table(case.con, "ledger", "debit")
    with pytest.raises(SamplingError, match="plain column"):
        load_case_table(case.con, "journal_lines; DROP TABLE x", "debit")
    case.close()


def test_outputs_csv_and_xlsx(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    selection = select_mus(_population(200), 20, 9)
    csv_path = write_csv(selection, tmp_path / "sel.csv")
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("selection_order,key,amount,stratum")
    assert len(lines) == selection.size + 1
    workbook = load_workbook(write_xlsx(selection, tmp_path / "sel.xlsx"))
    assert workbook.sheetnames == ["Selection", "Parameters"]
