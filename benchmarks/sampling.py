"""Benchmark: monetary-unit selection from a 10-million-item population (issue 5: under 10 s).

Measures, on the same population and seed:
  * ``vectorised``: taxaudit.sampling.select.select_mus (numpy int64 cumsum + searchsorted), fixed interval and cell;
  * ``naive``: the textbook row-by-row walk over a pandas Series, accumulating book value until each hit;
  * ``end_to_end``: read the population from Parquet through DuckDB, hash it, select, write the CSV.
Both selections must agree. Results go to benchmarks/results/sampling.json.

Run: PYTHONPATH=src python benchmarks/sampling.py [--items 10000000] [--n 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import psutil

from taxaudit.sampling.population import from_arrays, load_file
from taxaudit.sampling.select import select_mus, write_csv

RESULTS = Path(__file__).parent / "results" / "sampling.json"


def naive_walk(amounts: pd.Series, n: int, start: int) -> list[int]:
    """Return the items hit by a fixed-interval MUS walk, one row at a time (no top-stratum split)."""
    book = int(amounts.sum())
    targets = iter([(start + k * book) // n for k in range(n)])
    target = next(targets)
    hits: list[int] = []
    running = 0
    for position, cents in enumerate(amounts.to_list()):
        running += cents
        while target is not None and target < running:
            if not hits or hits[-1] != position:
                hits.append(position)
            target = next(targets, None)
        if target is None:
            break
    return hits


def timed(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000_000)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20231)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    # Positive amounts below the interval (log-normal book values of 1 to ~20,000), so every method agrees.
    cents = np.clip(rng.lognormal(mean=9.0, sigma=1.2, size=args.items), 100, 2_000_000).astype(np.int64)
    keys = np.arange(1, args.items + 1).astype(str).astype(object)
    population = from_arrays(keys, cents, source="synthetic")
    assert int(cents.max()) < int(cents.sum()) // args.n, "benchmark population must have no top stratum"

    fixed, fixed_seconds = timed(select_mus, population, args.n, args.seed)
    cell, cell_seconds = timed(select_mus, population, args.n, args.seed, method="cell")
    start = int(np.random.Generator(np.random.PCG64(args.seed)).integers(0, int(cents.sum())))
    series = pd.Series(cents)
    naive, naive_seconds = timed(naive_walk, series, args.n, start)
    agree = naive == fixed.index.tolist()

    with tempfile.TemporaryDirectory() as tmp:
        parquet = Path(tmp) / "population.parquet"
        con = duckdb.connect()
        con.register("population_frame", pd.DataFrame({"id": np.arange(1, args.items + 1), "amount": cents / 100}))
        con.execute(f"COPY (SELECT id, CAST(amount AS DECIMAL(18,2)) AS amount FROM population_frame) "
                    f"TO '{parquet}' (FORMAT parquet)")
        con.close()
        began = time.perf_counter()
        loaded, load_seconds = timed(load_file, parquet, "amount", keys=("id",))
        digest, hash_seconds = timed(loaded.sha256)
        selection, select_seconds = timed(select_mus, loaded, args.n, args.seed)
        _, write_seconds = timed(write_csv, selection, Path(tmp) / "selection.csv")
        end_to_end = time.perf_counter() - began

    result = {
        "benchmark": "monetary-unit selection",
        "items": args.items,
        "sample_size": args.n,
        "seed": args.seed,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
                    "pandas": pd.__version__, "duckdb": duckdb.__version__},
        "vectorised_fixed_seconds": round(fixed_seconds, 3),
        "vectorised_cell_seconds": round(cell_seconds, 3),
        "cell_items_selected": cell.size,
        "naive_pandas_walk_seconds": round(naive_seconds, 3),
        "speed_up_vs_naive": round(naive_seconds / fixed_seconds, 1),
        "naive_and_vectorised_agree": agree,
        "end_to_end": {"load_parquet_duckdb_seconds": round(load_seconds, 3), "sha256_seconds": round(hash_seconds, 3),
                       "select_seconds": round(select_seconds, 3), "write_csv_seconds": round(write_seconds, 3),
                       "total_seconds": round(end_to_end, 3), "population_sha256": digest},
        "peak_rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
        "target_seconds": 10.0,
        "meets_target": fixed_seconds < 10.0 and end_to_end < 10.0,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
