"""Parse a big SAF-T file in two processes, one per core, with the same result as one sequential pass.

The file is cut at the first ``<Transaction>`` start tag after the middle of GeneralLedgerEntries. This process
reads the bytes before the cut, closed by the matching end tags; a second process reads the Header and
MasterFiles (for the customer/supplier tax ids and currency, without loading them again), an opened
GeneralLedgerEntries and the cut Journal's own header, then the bytes from the cut to the end. It stages its rows
as Parquet, which this process loads into the same transaction. Locators of the second part are renumbered to
the whole file's Journal/Transaction positions when they are loaded.

Whenever the cut cannot be made cleanly or the second part fails, the caller falls back to the sequential
parse, which is then authoritative for every row and every error message. Duplicate TransactionIDs, also across
the parts, are decided when the staged rows are loaded (:mod:`taxaudit.ingest.saft_load`).
"""

from __future__ import annotations

import mmap
import pickle
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxaudit.ingest.loader import Loader
from taxaudit.ingest.saft_load import StagedPart
from taxaudit.ingest.xmlsafe import CountingReader

_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?AuditFile[\s>]")


@dataclass(frozen=True)
class Cut:
    """Where and how the file is cut: byte offsets and the literal tags of the file's namespace prefix."""

    prefix: bytes
    root_end: int  # offset just past the root element's start tag
    ledger_start: int  # offset of <GeneralLedgerEntries
    split: int  # offset of the <Transaction> that starts the second part
    journal_header: bytes  # the cut Journal's children before its first Transaction (JournalID, ...)


def find_cut(path: Path) -> Cut | None:
    """Return a clean cut for ``path``, or None when the file does not allow one (then parse sequentially)."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        match = _ROOT.search(data, 0, min(len(data), 1 << 20))
        if match is None:
            return None
        prefix = match.group(1) or b""
        root_end = data.find(b">", match.start())
        ledger_start = data.find(b"<" + prefix + b"GeneralLedgerEntries>", root_end)
        ledger_end = data.rfind(b"</" + prefix + b"GeneralLedgerEntries>")
        if root_end < 0 or ledger_start < 0 or ledger_end < ledger_start:
            return None
        transaction = b"<" + prefix + b"Transaction>"
        split = data.find(transaction, ledger_start + (ledger_end - ledger_start) // 2, ledger_end)
        journal_open = b"<" + prefix + b"Journal>"
        journal = data.rfind(journal_open, ledger_start, split) if split > 0 else -1
        if split < 0 or journal < 0:
            return None
        first = data.find(transaction, journal, split + 1)
        header = bytes(data[journal + len(journal_open):first])
        if b"<!--" in header or b"<![CDATA[" in header:
            return None
        return Cut(prefix, root_end + 1, ledger_start, split, header)


class ChainReader:
    """A binary stream over byte ranges of a file and literal byte strings, read in order."""

    def __init__(self, path: Path, parts: Iterable[tuple[int, int] | bytes]) -> None:
        self.handle = path.open("rb")
        self.parts = list(parts)
        self.current: tuple[int, int] | bytes | None = None
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        size = size if size and size > 0 else 1 << 20
        while self.parts or self.current is not None:
            if self.current is None:
                self.current = self.parts.pop(0)
                self.position = 0 if isinstance(self.current, bytes) else self.current[0]
                if not isinstance(self.current, bytes):
                    self.handle.seek(self.position)
            if isinstance(self.current, bytes):
                block = self.current[self.position:self.position + size]
                self.position += len(block)
                if self.position >= len(self.current):
                    self.current = None
            else:
                end = self.current[1]
                block = self.handle.read(min(size, end - self.position))
                self.position += len(block)
                if self.position >= end or not block:
                    self.current = None
            if block:
                return block
        return b""

    def readinto(self, buffer: Any) -> int:
        block = self.read(len(buffer))
        buffer[:len(block)] = block
        return len(block)

    def close(self) -> None:
        self.handle.close()


def _second_part(path: str, namespace: str, where: str, cut: Cut, staging: str) -> dict[str, Any]:
    """Run in the second process: parse the part after the cut and stage its rows; return its counters."""
    from taxaudit.ingest.saft import SaftReader, consume

    source = Path(path)
    loader = Loader(None, "part2", Path(staging), source_name=where, extras=True)
    reader = SaftReader(loader, namespace, where, emit_master=False)
    p = cut.prefix
    stream = ChainReader(source, [(0, cut.ledger_start), b"<" + p + b"GeneralLedgerEntries><" + p + b"Journal>",
                                  cut.journal_header, (cut.split, source.stat().st_size)])
    try:
        consume(reader, stream)
    finally:
        stream.close()
    staged = loader.finish_staging()
    return {
        "staged": {table: str(file) for table, file in staged.items()},
        "rows_read": reader.rows_read,
        "loaded": dict(loader.loaded),
        "quarantined": loader.quarantined,
        "reasons": dict(loader.quarantine_reasons),
        "entries": loader.totals.entries,
        "lines": loader.totals.lines,
        "debit_cents": loader.totals.debit_cents,
        "credit_cents": loader.totals.credit_cents,
        "transactions_read": reader.transactions_read,
    }


def parse_in_two_parts(path: Path, loader: Loader, namespace: str, where: str,
                       progress: Callable[[int], None]) -> tuple[Any, list[StagedPart]] | None:
    """Parse ``path`` in two processes; return the first part's reader (counters merged) and both staged parts.

    On None nothing has been added to ``loader`` and the caller parses the file sequentially. The caller loads
    the parts (see :func:`taxaudit.ingest.saft_load.load_parts`).
    """
    from taxaudit.ingest.saft import SaftReader, consume

    cut = find_cut(path)
    if cut is None:
        return None
    staging = loader.staging / "part2"
    staging.mkdir(parents=True, exist_ok=True)
    request, answer = staging / "request.pickle", staging / "answer.pickle"
    request.write_bytes(pickle.dumps((str(path), namespace, where, cut, str(staging))))
    # A fresh interpreter (not multiprocessing): it never re-imports the caller's main module.
    worker = subprocess.Popen([sys.executable, "-m", "taxaudit.ingest.saft_parallel", str(request), str(answer)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    p = cut.prefix
    first_loader = Loader(loader.con, loader.source_id, loader.staging / "part1", source_name=where, extras=True)
    reader = SaftReader(first_loader, namespace, where)
    stream = ChainReader(path, [(0, cut.split), b"</" + p + b"Journal></" + p + b"GeneralLedgerEntries></" + p
                                + b"AuditFile>"])
    try:
        consume(reader, CountingReader(stream, progress))  # type: ignore[arg-type]
        staged_first = first_loader.finish_staging()
        _, errors = worker.communicate()
        if worker.returncode != 0:
            raise RuntimeError(errors.decode("utf-8", "replace")[-2000:])
        result = pickle.loads(answer.read_bytes())
    except Exception:  # any failure here is decided by the authoritative sequential pass
        # The sequential pass reports real errors with their true positions and messages.
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        first_loader.close()
        shutil.rmtree(staging, ignore_errors=True)
        return None
    finally:
        stream.close()
    second_part = StagedPart({table: Path(file) for table, file in result["staged"].items()},
                             ordinal_offset=reader.transactions_read, journal_offset=reader.journal_index,
                             transaction_offset=reader.transaction_index, renumber=True)
    _merge_counters(loader, first_loader, result)
    reader.rows_read += result["rows_read"]
    reader.transactions_read += result["transactions_read"]
    # The staging folders stay until the caller has loaded them; the main loader's close() removes them.
    first_loader.stop()
    return reader, [StagedPart(staged_first), second_part]


def _merge_counters(loader: Loader, first: Loader, second: dict[str, Any]) -> None:
    for source in (first.loaded, second["loaded"]):
        for table, count in source.items():
            loader.loaded[table] = loader.loaded.get(table, 0) + count
    loader.quarantined += first.quarantined + second["quarantined"]
    for source in (first.quarantine_reasons, second["reasons"]):
        for code, count in source.items():
            loader.quarantine_reasons[code] = loader.quarantine_reasons.get(code, 0) + count
    totals = loader.totals
    totals.entries += first.totals.entries + second["entries"]
    totals.lines += first.totals.lines + second["lines"]
    totals.debit_cents += first.totals.debit_cents + second["debit_cents"]
    totals.credit_cents += first.totals.credit_cents + second["credit_cents"]


def _worker_main(request: str, answer: str) -> None:
    """Entry point of the second process: read the request, parse, write the counters for the parent."""
    path, namespace, where, cut, staging = pickle.loads(Path(request).read_bytes())
    result = _second_part(path, namespace, where, cut, staging)
    Path(answer).write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _worker_main(sys.argv[1], sys.argv[2])
