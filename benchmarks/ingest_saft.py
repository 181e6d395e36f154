"""Benchmark: ingest a ~1 GB SAF-T file made by taxaudit.synth; seconds, MB/s, lines/s and peak RSS.

Run:  .venv/bin/python benchmarks/ingest_saft.py [--size-mb 1000] [--keep]
Writes benchmarks/results/ingest_saft.json. Each ingest runs in a fresh process so its peak RSS
(getrusage ru_maxrss of the child) is its own. For comparison the same run times the obvious alternative, a
plain lxml iterparse that only counts and sums the lines (no validation, no store), and DuckDB loading the
already-parsed lines from Parquet, so the cost of each stage is visible.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RESULTS = HERE / "results" / "ingest_saft.json"
# One synthetic year with these daily volumes is about 1 MB per (sales_per_day / 1.3); see synth.company.
MB_PER_SALES_PER_DAY = 0.80

CHILD_INGEST = """
import json, resource, shutil, sys, threading, time
import psutil
from taxaudit.ingest import ingest_files
from taxaudit.store import init_case
case_dir = sys.argv[1]
shutil.rmtree(case_dir, ignore_errors=True)
tree_peak, done = [0], threading.Event()
def sample():  # the whole process tree's resident memory, summed, every 0.1 s
    me = psutil.Process()
    while not done.is_set():
        total = 0
        for process in [me, *me.children(recursive=True)]:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        tree_peak[0] = max(tree_peak[0], total)
        time.sleep(0.1)
threading.Thread(target=sample, daemon=True).start()
with init_case(case_dir) as case:
    start = time.perf_counter()
    [r] = ingest_files(case, [sys.argv[2]])
    seconds = time.perf_counter() - start
done.set()
print(json.dumps({"seconds": seconds, "lines": r.lines, "entries": r.entries, "rows_read": r.rows_read,
                  "rows_quarantined": r.rows_quarantined, "total_debit": str(r.total_debit),
                  "findings": r.findings,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "tree_peak_rss_mb": tree_peak[0] / 2**20}))
"""

CHILD_BARE_LXML = """
import json, resource, sys, time
from decimal import Decimal
from lxml import etree
ns = "{urn:StandardAuditFile-Taxation-Financial:NO}"
start = time.perf_counter()
lines, debit = 0, Decimal(0)
for _, el in etree.iterparse(sys.argv[1], events=("end",), tag=ns + "Transaction", resolve_entities=False,
                             no_network=True):
    for line in el.iterfind(ns + "Line"):
        lines += 1
        amount = line.findtext(ns + "DebitAmount/" + ns + "Amount")
        if amount:
            debit += Decimal(amount)
    el.clear()
    while el.getprevious() is not None:
        del el.getparent()[0]
print(json.dumps({"seconds": time.perf_counter() - start, "lines": lines, "total_debit": str(debit),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(code: str, *args: str, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=1000.0, help="approximate size of the SAF-T file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the generated file and case in benchmarks/work")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent / "src"))
    from taxaudit.synth import CompanySpec, generate_ledger, write_saft

    WORK.mkdir(exist_ok=True)
    source = WORK / f"saft_{int(args.size_mb)}mb.xml"
    sales = max(1.0, args.size_mb / MB_PER_SALES_PER_DAY)
    spec = CompanySpec(seed=args.seed, sales_per_day=sales, purchases_per_day=sales / 2,
                       customers=max(40, int(sales * 2)), suppliers=max(25, int(sales)))
    if not source.exists():
        start = time.perf_counter()
        write_saft(generate_ledger(spec), source)
        print(f"generated {source.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - start:.0f} s")
    size_mb = source.stat().st_size / 1e6
    taxaudit = run_child(CHILD_INGEST, str(WORK / "case"), str(source))
    bare = run_child(CHILD_BARE_LXML, str(source))
    sequential = run_child(CHILD_INGEST, str(WORK / "case"), str(source), env={"TAXAUDIT_SAFT_PARALLEL": "0"})
    assert bare["lines"] == taxaudit["lines"] == sequential["lines"]
    assert bare["total_debit"] == taxaudit["total_debit"] == sequential["total_debit"]
    result = {
        "benchmark": "ingest_saft",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1m": os.getloadavg()[0]},
        "file": {"mb": round(size_mb, 1), "lines": taxaudit["lines"], "entries": taxaudit["entries"],
                 "spec": {"seed": spec.seed, "sales_per_day": spec.sales_per_day}},
        "taxaudit_ingest": {
            "seconds": round(taxaudit["seconds"], 2),
            "mb_per_s": round(size_mb / taxaudit["seconds"], 2),
            "lines_per_s": round(taxaudit["lines"] / taxaudit["seconds"]),
            "peak_rss_mb": round(taxaudit["peak_rss_mb"], 1),
            "worker_peak_rss_mb": round(taxaudit["worker_peak_rss_mb"], 1),
            "process_tree_peak_rss_mb": round(taxaudit["tree_peak_rss_mb"], 1),
            "note": "files >= 64 MB are parsed by this process and one worker process (one per core); "
                    "process_tree_peak_rss_mb is the largest sum of both, sampled every 0.1 s",
            "rows_quarantined": taxaudit["rows_quarantined"],
            "findings": taxaudit["findings"],
        },
        "taxaudit_ingest_one_process": {
            "seconds": round(sequential["seconds"], 2),
            "mb_per_s": round(size_mb / sequential["seconds"], 2),
            "lines_per_s": round(sequential["lines"] / sequential["seconds"]),
            "peak_rss_mb": round(sequential["peak_rss_mb"], 1),
            "note": "TAXAUDIT_SAFT_PARALLEL=0",
        },
        "bare_lxml_count_and_sum": {
            "seconds": round(bare["seconds"], 2),
            "mb_per_s": round(size_mb / bare["seconds"], 2),
            "peak_rss_mb": round(bare["peak_rss_mb"], 1),
            "note": "iterparse over Transaction, sum DebitAmount: no validation, quarantine or store",
        },
        "targets": {"peak_rss_mb_below": 500, "mb_per_s_at_least": 15},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    if not args.keep:
        source.unlink()
        import shutil

        shutil.rmtree(WORK / "case", ignore_errors=True)


if __name__ == "__main__":
    main()
