"""Benchmark: VAT invoice matching of 10 million sales and 10 million purchase records (a script, not a test).

Runs, each in its own process so its peak memory is its own:
  taxaudit        read + validate (INN check digits, dates, amounts) + quarantine + classify + per-class and
                  per-buyer totals: the relational steps of taxaudit.match.run.run_match
  taxaudit_match  classify + totals on the typed Parquet as is (the matching alone, no validation)
  taxaudit_run    run_match itself, once: also per-taxpayer figures, the counterparty graph, carousels and risk
                  groups (more work than the hand-written query does; reported, not compared)
  duckdb_sql      a hand-written DuckDB SQL query of the same classification and totals
  pandas          the same with pandas merge/groupby (at a smaller scale if 10M would not fit in memory)
  spark           taxaudit's full pipeline on Spark local mode (at a smaller scale: two shared cores)
and writes seconds, peak RSS (process tree, polled) and class counts to benchmarks/results/match.json.

    PYTHONPATH=src python benchmarks/match.py [--invoices 10000000] [--repeat 3] [--pandas-invoices N]
                                              [--spark-invoices N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RESULTS = HERE / "results" / "match.json"
# The same DuckDB memory limit for taxaudit and the hand-written query (DuckDB's default is 80 % of RAM, which on
# a shared machine is neither fair nor under the 8 GB target).
MEMORY_LIMIT = os.environ.get("TAXAUDIT_BENCH_MEMORY_LIMIT", "5GB")

HAND_SQL = r"""
SET memory_limit = '{memory_limit}';
CREATE TEMP TABLE books AS
  SELECT * EXCLUDE (filename), parse_filename(filename) AS source_file,
         regexp_extract(regexp_replace(translate(upper(invoice_no), 'АВЕКМНОРСТХ', 'ABEKMHOPCTX'),
                                       '[\t\n\x0B\f\r \u00a0\-/\\._#№]+', '', 'g'), '(?s)^0*(.+)$', 1) AS invoice_key
  FROM read_parquet([{files}], filename = true);
CREATE TEMP TABLE invoices AS
WITH sales AS NOT MATERIALIZED (SELECT * FROM books WHERE book = 'sales'),
     purchases AS NOT MATERIALIZED (SELECT * FROM books WHERE book = 'purchases'),
     exact AS (SELECT seller_tax_id, buyer_tax_id, invoice_key, invoice_date, sum(vat_amount) AS s_vat,
                      min(period) AS s_period FROM sales GROUP BY ALL),
     loose AS (SELECT seller_tax_id, buyer_tax_id, invoice_key, sum(vat_amount) AS l_vat, min(period) AS l_period,
                      min(invoice_date) AS l_date FROM sales GROUP BY ALL),
     filers AS (SELECT DISTINCT reporter_tax_id, period FROM books),
     joined AS (
       SELECT p.reporter_tax_id, p.period, p.seller_tax_id, p.buyer_tax_id, p.invoice_no, p.invoice_key,
              p.invoice_date, p.vat_amount, p.source_file,
              e.s_vat, e.s_period, l.l_vat, l.l_period, l.l_date, f.reporter_tax_id AS filer,
              e.s_vat IS NOT NULL AS found,
              row_number() OVER (PARTITION BY p.seller_tax_id, p.invoice_key, p.invoice_date
                                 ORDER BY e.s_vat IS NULL, p.period, p.buyer_tax_id, p.reporter_tax_id,
                                          p.vat_amount, p.net_amount, p.invoice_no, p.source_file) AS claim_rank
       FROM purchases p
       LEFT JOIN exact e USING (seller_tax_id, buyer_tax_id, invoice_key, invoice_date)
       LEFT JOIN loose l USING (seller_tax_id, buyer_tax_id, invoice_key)
       LEFT JOIN filers f ON f.reporter_tax_id = p.seller_tax_id AND f.period = p.period),
     classified AS (
       SELECT *, CASE WHEN claim_rank > 1 THEN 'duplicate_claim'
                      WHEN found AND abs(vat_amount - s_vat) > 1.00 THEN 'vat_mismatch'
                      WHEN found AND period <> s_period THEN 'period_mismatch'
                      WHEN found THEN 'matched'
                      WHEN l_vat IS NOT NULL THEN 'date_mismatch'
                      WHEN filer IS NULL THEN 'seller_not_filed'
                      ELSE 'no_matching_sale' END AS match_class,
                 coalesce(s_vat, l_vat)::DECIMAL(18,2) AS counterpart_vat
       FROM joined),
     confirmed AS (
       SELECT *, CASE WHEN match_class IN ('duplicate_claim', 'seller_not_filed', 'no_matching_sale') THEN 0
                      ELSE least(vat_amount, counterpart_vat) END::DECIMAL(18,2) AS confirmed_vat
       FROM classified)
SELECT 'purchase' AS side, match_class, reporter_tax_id, period, seller_tax_id, buyer_tax_id, invoice_no,
       invoice_key, invoice_date, vat_amount, counterpart_vat, coalesce(s_period, l_period) AS counterpart_period,
       CASE WHEN found THEN invoice_date ELSE l_date END AS counterpart_date, confirmed_vat,
       (vat_amount - confirmed_vat)::DECIMAL(18,2) AS gap_vat, source_file
FROM confirmed
UNION ALL
SELECT 'sale', 'sale_not_claimed', reporter_tax_id, period, seller_tax_id, buyer_tax_id, invoice_no, invoice_key,
       invoice_date, vat_amount, NULL, NULL, NULL, NULL, NULL, source_file
FROM sales s ANTI JOIN purchases p USING (seller_tax_id, buyer_tax_id, invoice_key)
WHERE s.buyer_tax_id IS NOT NULL;
"""


def prepare(invoices: int, taxpayers: int, seed: int) -> tuple[Path, Path]:
    """Generate (once) the honest economy's two Parquet books under benchmarks/work/."""
    from taxaudit.synth.economy import write_honest_parquet

    target = WORK / f"economy-{invoices}-{taxpayers}-{seed}"
    sales, purchases = target / "sales.parquet", target / "purchases.parquet"
    if not (sales.is_file() and purchases.is_file()):
        write_honest_parquet(target, taxpayers, invoices, seed=seed)
    return sales, purchases


def head_copy(files: tuple[Path, Path], rows: int) -> tuple[Path, Path]:
    """Return the first ``rows`` invoices of both books (row i of sales ↔ row i of purchases) as new files."""
    import pyarrow.parquet as pq

    target = files[0].parent.parent / f"{files[0].parent.name}-head-{rows}"
    target.mkdir(parents=True, exist_ok=True)
    out = (target / "sales.parquet", target / "purchases.parquet")
    for source, dest in zip(files, out, strict=True):
        if not dest.is_file():
            reader = pq.ParquetFile(source)
            with pq.ParquetWriter(dest, reader.schema_arrow) as writer:
                left = rows
                for batch in reader.iter_batches(batch_size=min(rows, 1_000_000)):
                    writer.write_batch(batch.slice(0, left))
                    left -= min(left, batch.num_rows)
                    if left <= 0:
                        break
    return out


def worker(method: str, files: list[str]) -> dict:
    """Run one method in this process; return its class counts (the caller measures time and memory)."""
    paths = [Path(f) for f in files]
    if method == "taxaudit_run":
        from taxaudit.match.run import run_match

        run = run_match(paths, memory_limit=MEMORY_LIMIT)
        return {"classes": {name: value["count"] for name, value in run.classes.items()},
                "taxpayers_assessed": len(run.assessments), "cycles": len(run.cycles),
                "quarantined": run.quarantined}
    if method in {"taxaudit", "taxaudit_match", "spark"}:
        import ibis

        from taxaudit import engine
        from taxaudit.ingest.vat_books import read_vat_books
        from taxaudit.match.classify import class_totals, classify_invoices, with_invoice_key
        from taxaudit.match.run import match_books

        spark = method == "spark"
        con = engine.connect("spark" if spark else "duckdb", memory_limit=None if spark else MEMORY_LIMIT,
                             spark_conf={"spark.driver.memory": "6g", "spark.sql.shuffle.partitions": "8"})
        quarantined = None
        if method == "taxaudit_match":
            # Each row names its file, as in every other method: the per-invoice table keeps its provenance.
            parts = [con.read_parquet(str(p)).mutate(source_file=ibis.literal(p.name)) for p in paths]
            keyed = engine.materialize(con, with_invoice_key(parts[0].union(*parts[1:])), "bench_books")
            invoices = engine.materialize(con, classify_invoices(keyed), "bench_invoices")
        else:
            # run_match's own relational core: validate and key in one pass, quarantine, classify.
            _, quarantine, invoices = match_books(read_vat_books(con, paths),
                                                  lambda expr, name: engine.materialize(con, expr, name))
            quarantined = engine.count_rows(con, quarantine)
        totals = engine.to_arrow(con, class_totals(invoices)).to_pylist()
        claims = invoices.filter(invoices.side == "purchase")
        per_buyer = claims.group_by("buyer_tax_id").aggregate(
            claimed=claims.vat_amount.sum(), confirmed=claims.confirmed_vat.sum(), gap=claims.gap_vat.sum())
        buyers = engine.to_arrow(con, per_buyer).num_rows
        return {"classes": {r["match_class"]: int(r["count"]) for r in totals}, "buyers": buyers,
                **({} if quarantined is None else {"quarantined": quarantined})}
    if method == "duckdb_sql":
        import duckdb

        con = duckdb.connect()
        sql = HAND_SQL.replace("\\u00a0", "\u00a0").format(
            files=", ".join(f"'{p}'" for p in paths), memory_limit=MEMORY_LIMIT)
        con.execute(sql)
        totals = con.execute("SELECT match_class, count(*), sum(vat_amount) FROM invoices GROUP BY 1").fetchall()
        buyers = con.execute("SELECT count(*) FROM (SELECT buyer_tax_id, sum(vat_amount), sum(confirmed_vat), "
                             "sum(gap_vat) FROM invoices WHERE side = 'purchase' GROUP BY 1)").fetchone()[0]
        return {"classes": {name: int(count) for name, count, _ in totals}, "buyers": int(buyers)}
    if method == "pandas":
        return pandas_match(paths)
    raise SystemExit(f"unknown method {method}")


def pandas_match(paths: list[Path]) -> dict:
    """The same classification with pandas merges (Decimal amounts as integer cents to stay exact)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    frames = []
    for path in paths:
        table = pq.read_table(path)
        key = pc.utf8_upper(pc.utf8_trim_whitespace(table["invoice_no"]))
        key = pc.replace_substring_regex(key, "[\\t\\n\\x0B\\f\\r \u00a0\\-/\\\\._#№]+", "")
        stripped = pc.replace_substring_regex(key, "^0+", "")
        key = pc.if_else(pc.and_(pc.equal(stripped, ""), pc.not_equal(key, "")), "0", stripped)
        frame = table.select(["reporter_tax_id", "book", "period", "seller_tax_id", "buyer_tax_id", "invoice_no",
                              "invoice_date"]).to_pandas(types_mapper=pd.ArrowDtype)
        frame["invoice_key"] = pd.Series(key.to_pandas(types_mapper=pd.ArrowDtype).array)
        frame["vat"] = pc.cast(pc.multiply(table["vat_amount"], pa.scalar(100)), pa.int64()).to_numpy()
        frame["net"] = pc.cast(pc.multiply(table["net_amount"], pa.scalar(100)), pa.int64()).to_numpy()
        frames.append(frame)
    books = pd.concat(frames, ignore_index=True)
    sales = books[books.book == "sales"]
    purchases = books[books.book == "purchases"]
    k4 = ["seller_tax_id", "buyer_tax_id", "invoice_key", "invoice_date"]
    exact = sales.groupby(k4, as_index=False).agg(s_vat=("vat", "sum"), s_period=("period", "min"))
    loose = sales.groupby(k4[:3], as_index=False).agg(l_vat=("vat", "sum"))
    filers = books[["reporter_tax_id", "period"]].drop_duplicates().rename(
        columns={"reporter_tax_id": "seller_tax_id"}).assign(filed=True)
    joined = purchases.merge(exact, on=k4, how="left").merge(loose, on=k4[:3], how="left").merge(
        filers, on=["seller_tax_id", "period"], how="left")
    joined["no_exact"] = joined.s_vat.isna()
    joined = joined.sort_values(["no_exact", "period", "buyer_tax_id", "reporter_tax_id", "vat", "net",
                                 "invoice_no"], kind="stable")
    rank = joined.groupby(["seller_tax_id", "invoice_key", "invoice_date"]).cumcount()
    found = ~joined.no_exact
    classes = np.select(
        [rank > 0, found & ((joined.vat - joined.s_vat).abs() > 100), found & (joined.period != joined.s_period),
         found, joined.l_vat.notna(), joined.filed.isna()],
        ["duplicate_claim", "vat_mismatch", "period_mismatch", "matched", "date_mismatch", "seller_not_filed"],
        "no_matching_sale")
    joined["match_class"] = classes
    claimed = purchases[k4[:3]].drop_duplicates().assign(claimed=True)
    named = sales[sales.buyer_tax_id.notna()].merge(claimed, on=k4[:3], how="left")
    unclaimed = int(named.claimed.isna().sum())
    counts = joined.match_class.value_counts().to_dict()
    if unclaimed:
        counts["sale_not_claimed"] = unclaimed
    buyers = joined.groupby("buyer_tax_id").vat.sum().shape[0]
    return {"classes": {k: int(v) for k, v in counts.items()}, "buyers": int(buyers)}


def measure(method: str, files: list[Path], scale: int) -> dict:
    """Run ``method`` in a child process; return wall seconds, peak RSS of its process tree and its result."""
    import psutil

    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"))
    command = [sys.executable, __file__, "--worker", method, *map(str, files)]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    parent = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.1)
    out, err = child.communicate()
    seconds = time.perf_counter() - start
    if child.returncode != 0:
        return {"method": method, "invoices": scale, "error": err.strip().splitlines()[-5:]}
    result = json.loads(out.strip().splitlines()[-1])
    return {"method": method, "invoices": scale, "seconds": round(seconds, 2),
            "peak_rss_gb": round(peak / 2**30, 3), **result}


DUCKDB_METHODS = ("duckdb_sql", "taxaudit_match", "taxaudit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=10_000_000)
    parser.add_argument("--taxpayers", type=int, default=200_000)
    parser.add_argument("--pandas-invoices", type=int, default=2_000_000)
    parser.add_argument("--spark-invoices", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of the DuckDB methods, interleaved; the ratio compares their medians")
    parser.add_argument("--methods", default="duckdb_sql,taxaudit_match,taxaudit,taxaudit_run,pandas,spark")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.worker:
        print(json.dumps(worker(args.worker, rest)))
        return
    started = time.perf_counter()
    reused = (WORK / f"economy-{args.invoices}-{args.taxpayers}-{args.seed}" / "purchases.parquet").is_file()
    full = prepare(args.invoices, args.taxpayers, args.seed)
    generation = None if reused else round(time.perf_counter() - started, 1)
    methods = args.methods.split(",")
    # The shared machine's load drifts over minutes: one round runs each DuckDB method once, back to back, so every
    # method sees the same conditions, and the medians of several rounds damp what drift is left.
    plan = [m for _ in range(args.repeat) for m in methods if m in DUCKDB_METHODS]
    plan += [m for m in methods if m not in DUCKDB_METHODS]
    runs = []
    for method in plan:
        scale = {"pandas": args.pandas_invoices, "spark": args.spark_invoices}.get(method, args.invoices)
        files = full if scale >= args.invoices else head_copy(full, scale)
        load = round(os.getloadavg()[0], 2)
        runs.append({**measure(method, list(files), scale), "load_average_before": load})
        print(json.dumps(runs[-1]), flush=True)
        write_report(args, generation, runs)
    print(f"wrote {RESULTS}")


def medians(runs: list[dict]) -> dict[str, float]:
    """Return the median seconds of each method over its successful runs."""
    seconds: dict[str, list[float]] = {}
    for run in runs:
        if "seconds" in run:
            seconds.setdefault(run["method"], []).append(run["seconds"])
    return {method: round(statistics.median(values), 2) for method, values in seconds.items()}


def write_report(args: argparse.Namespace, generation: float | None, runs: list[dict]) -> None:
    """Write the results so far (rewritten after every run, so a cut-short run still leaves its figures)."""
    median = medians(runs)

    def ratio(method: str) -> float | None:
        if method in median and "duckdb_sql" in median:
            return round(median[method] / median["duckdb_sql"], 3)
        return None

    same = [r["classes"] for r in runs if r.get("invoices") == args.invoices and "classes" in r]
    peaks = [r["peak_rss_gb"] for r in runs if "peak_rss_gb" in r and r["invoices"] == args.invoices]
    report = {
        "benchmark": "VAT invoice matching: sales books vs purchase books",
        "invoices": args.invoices, "records": 2 * args.invoices, "taxpayers": args.taxpayers, "seed": args.seed,
        "data_generation_seconds": generation,  # None: the books of an earlier run were reused
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "note": "2 cores shared with other developers; load_average_before shows what else ran"},
        "rounds": args.repeat,
        "median_seconds": median,
        "taxaudit_vs_duckdb_sql": ratio("taxaudit"),
        "taxaudit_match_only_vs_duckdb_sql": ratio("taxaudit_match"),
        "max_peak_rss_gb_full_scale": max(peaks) if peaks else None,
        "targets": {"ratio_max": 1.3, "peak_rss_gb_max": 8},
        "duckdb_memory_limit": MEMORY_LIMIT,
        "full_scale_results_agree": all(c == same[0] for c in same) if same else None,
        "runs": runs,
        "notes": [
            "The books are an honest economy (every invoice matches); the joins, window and aggregations are the "
            "same work whatever the classes.",
            "The hand-written query normalises invoice numbers with the same SQL functions as taxaudit, carries "
            "only the columns it needs and, like taxaudit, the name of each row's file (provenance: about 6 s of "
            "the classification at this scale), so the ratio measures what Ibis and the pipeline add.",
            f"pandas ran at {args.pandas_invoices} invoices: at 10 million its frames would need well over 8 GB on "
            "this shared machine.",
            f"spark ran the full taxaudit pipeline in local mode at {args.spark_invoices} invoices, JVM start "
            "included; it shows the engine works, it does not compete on two cores.",
            f"All DuckDB runs had memory_limit {MEMORY_LIMIT}; without a limit the hand-written query peaked at "
            "9.6 GB in an earlier run.",
        ],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
