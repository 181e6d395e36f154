"""Benchmark: every registered check on a 10-million-line ledger; seconds per check and peak RSS.

Not part of CI (run by hand: ``PYTHONPATH=src python benchmarks/checks.py``). The ledger comes from
``taxaudit.synth``: one year of a scaled-up synthetic company with the demo's planted irregularities is
generated in Python and loaded through Arrow, then replicated inside DuckDB (each replica with its own
customers and suppliers and its own continuous entry numbers) until it has the requested number of lines,
so no XML is written and the checks see a realistic, Benford-conforming population with known hits.
Results go to ``benchmarks/results/checks.json``; the target is the whole suite under 60 s on the 2-core
development machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psutil
import pyarrow as pa

from taxaudit.checks import all_checks, run_checks
from taxaudit.model.entry_versions import ensure_entry_versions
from taxaudit.store import init_case
from taxaudit.synth import CompanySpec, generate_ledger
from taxaudit.synth.plants import plant_irregularities

RESULTS = Path(__file__).parent / "results" / "checks.json"
MONEY = pa.decimal128(18, 2)


class PeakRss:
    """Sample the process's resident set size every 20 ms; ``peak`` is the largest seen since ``reset``."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def reset(self) -> None:
        self.peak = self.process.memory_info().rss

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def base_ledger(scale: float) -> tuple[pa.Table, pa.Table, list[tuple[str, str, int]]]:
    """Return (entries, lines, accounts) Arrow tables of one planted synthetic year, ``scale`` times the demo."""
    # The generator draws unique party names from 105 combinations, so the party lists stay under that; each
    # replica of the base year gets its own parties anyway.
    spec = CompanySpec(seed=7, sales_per_day=6.0 * scale, purchases_per_day=3.0 * scale,
                       customers=min(100, int(40 * scale)), suppliers=min(60, int(25 * scale)))
    ledger = generate_ledger(spec)
    books = plant_irregularities(ledger)
    entries: dict[str, list] = {k: [] for k in ("entry_id", "journal_id", "number", "posting_date", "created_at",
                                               "created_by", "changed_at", "description", "voucher_type")}
    lines: dict[str, list] = {k: [] for k in ("entry_id", "line_no", "account_id", "party_id", "debit", "credit",
                                             "description")}
    for txn in books.transactions():
        entries["entry_id"].append(txn.transaction_id)
        entries["journal_id"].append(txn.journal_id)
        entries["number"].append(int(txn.transaction_id.rsplit("-", 1)[1]))
        entries["posting_date"].append(txn.posting_date)
        entries["created_at"].append(txn.system_entry)
        entries["created_by"].append(txn.user)
        entries["changed_at"].append(txn.modified)
        entries["description"].append(txn.description)
        entries["voucher_type"].append(txn.voucher_type)
        for number, line in enumerate(txn.lines, start=1):
            lines["entry_id"].append(txn.transaction_id)
            lines["line_no"].append(number)
            lines["account_id"].append(line.account_id)
            lines["party_id"].append(line.party_id)
            lines["debit"].append(line.debit)
            lines["credit"].append(line.credit)
            lines["description"].append(line.description)
    entry_table = pa.table(entries)
    line_table = pa.table({**lines, "debit": pa.array(lines["debit"], pa.int64()),
                           "credit": pa.array(lines["credit"], pa.int64())})
    accounts = [(a.account_id, a.name, a.opening) for a in ledger.accounts]
    return entry_table, line_table, accounts


def build_case(root: Path, target_lines: int, scale: float) -> dict:
    """Create the benchmark case with about ``target_lines`` journal lines; return what was built and how fast."""
    started = time.perf_counter()
    entries, lines, accounts = base_ledger(scale)
    generated = time.perf_counter() - started
    replicas = max(1, round(target_lines / lines.num_rows))
    case = init_case(root, country="NO", title="checks benchmark")
    con = case.con
    ensure_entry_versions(con)
    con.register("base_entries", entries)
    con.register("base_lines", lines)
    con.execute("CREATE TEMP TABLE replica AS SELECT range AS r FROM range(?)", [replicas])
    con.execute("CREATE TEMP TABLE journal_size AS SELECT journal_id, max(number) AS size FROM base_entries "
                "GROUP BY 1")
    # Each replica continues its journal's numbering (so the planted gap repeats once per replica) and has its
    # own parties (so a duplicate payment is a duplicate within one replica only).
    con.execute("""
        CREATE TEMP TABLE id_map AS
        SELECT r.r, e.entry_id AS base_id,
               e.journal_id || '-2025-' || lpad((r.r * s.size + e.number)::VARCHAR, 9, '0') AS entry_id
        FROM base_entries e JOIN journal_size s USING (journal_id), replica r""")
    con.execute("""
        INSERT INTO journal_entries (source_id, entry_id, journal_id, period, period_year, posting_date,
               document_date, created_at, created_by, changed_at, status, description, voucher_type)
        SELECT 'bench', m.entry_id, e.journal_id, strftime(e.posting_date, '%Y-%m'), 2025, e.posting_date,
               e.posting_date, e.created_at, e.created_by, e.changed_at,
               CASE WHEN e.changed_at IS NULL THEN 'posted' ELSE 'changed' END, e.description, e.voucher_type
        FROM id_map m JOIN base_entries e ON e.entry_id = m.base_id""")
    con.execute("""
        INSERT INTO journal_lines (source_id, entry_id, line_no, account_id, party_id, debit, credit, description)
        SELECT 'bench', m.entry_id, l.line_no, l.account_id,
               CASE WHEN l.party_id IS NOT NULL THEN l.party_id || '-' || m.r END,
               (l.debit / 100)::DECIMAL(18,2), (l.credit / 100)::DECIMAL(18,2), l.description
        FROM id_map m JOIN base_lines l ON l.entry_id = m.base_id""")
    con.executemany("INSERT INTO accounts (source_id, account_id, name, opening_debit, opening_credit) "
                    "VALUES ('bench', ?, ?, ?, ?)",
                    [[a, n, max(o, 0) / 100 * replicas, max(-o, 0) / 100 * replicas] for a, n, o in accounts])
    con.execute("""
        UPDATE accounts SET closing_debit = greatest(opening_debit - opening_credit + m.net, 0),
                            closing_credit = greatest(-(opening_debit - opening_credit + m.net), 0)
        FROM (SELECT account_id, sum(debit) - sum(credit) AS net FROM journal_lines GROUP BY 1) m
        WHERE accounts.account_id = m.account_id""")
    con.execute("INSERT INTO sources VALUES ('bench', 'synthetic', 'synthetic', 'bench', 0, 'saft', '1.30', now(), "
                "'benchmark', 0, 0, 0, NULL)")
    con.execute("INSERT INTO source_headers (source_id, period_start, period_end, declared_entries, "
                "declared_total_debit, declared_total_credit) SELECT 'bench', DATE '2025-01-01', DATE '2025-12-31', "
                "(SELECT count(*) FROM journal_entries), sum(debit), sum(credit) FROM journal_lines")
    con.execute("CHECKPOINT")
    counts = con.execute("SELECT (SELECT count(*) FROM journal_entries), (SELECT count(*) FROM journal_lines)")
    entry_count, line_count = counts.fetchone()
    case.close()
    return {"generate_base_seconds": round(generated, 2), "base_lines": lines.num_rows, "replicas": replicas,
            "entries": entry_count, "lines": line_count, "build_seconds": round(time.perf_counter() - started, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000, help="journal lines to build (default 10M)")
    parser.add_argument("--scale", type=float, default=10.0, help="base company size relative to the demo")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--workdir", type=Path, default=None, help="where to build the case (default: a temp dir)")
    args = parser.parse_args(argv)
    from taxaudit.store import open_case

    work = Path(tempfile.mkdtemp(prefix="taxaudit-bench-", dir=args.workdir))
    try:
        built = build_case(work / "case", args.lines, args.scale)
        print(f"built {built['lines']:,} lines in {built['build_seconds']} s", file=sys.stderr)
        monitor = PeakRss()
        peaks: dict[str, float] = {}
        cpu: dict[str, float] = {}
        state = {"check": "(prepare: per-entry totals)", "cpu": time.process_time()}

        def progress(check_id: str, done: int, total: int) -> None:
            # CPU seconds of the whole process (DuckDB's worker threads included): on a shared machine the wall
            # clock also measures the other users' load.
            cpu[state["check"]] = time.process_time() - state["cpu"]
            peaks[state["check"]] = monitor.peak / 2**20
            state.update(check=check_id, cpu=time.process_time())
            monitor.reset()
            if check_id:
                print(f"running {check_id}", file=sys.stderr)

        suite_started = time.perf_counter()
        with open_case(work / "case") as case:
            runs = run_checks(case, list(all_checks()), progress=progress)
        suite = time.perf_counter() - suite_started
        monitor.stop()
        checks = [{"check_id": run.check_id, "seconds": round(run.seconds, 3),
                   "cpu_seconds": round(cpu.get(run.check_id, 0.0), 3), "findings": len(run.findings),
                   "peak_rss_mb": round(peaks.get(run.check_id, 0.0), 1)} for run in runs]
        prepare = round(suite - sum(run.seconds for run in runs), 2)
        for item in checks:
            print(f"{item['check_id']:40s} {item['seconds']:7.2f} s {item['cpu_seconds']:7.2f} cpu-s "
                  f"{item['findings']:6d} findings", file=sys.stderr)
        result = {
            "benchmark": "all registered checks on a synthetic ledger",
            "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "duckdb": duckdb.__version__,
                        "platform": platform.platform()},
            "ledger": built,
            "suite_seconds": round(suite, 2),
            "suite_cpu_seconds": round(sum(cpu.values()), 2),
            "prepare_seconds": prepare,
            "load_average_at_end": os.getloadavg(),
            "target_seconds": 60,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "checks": checks,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"suite {suite:.1f} s; peak RSS {result['peak_rss_mb']} MB -> {args.out}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
