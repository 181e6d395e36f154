"""The two-process SAF-T parse gives exactly the rows, quarantine locators and errors of the sequential one."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxaudit.ingest import ingest_files, saft
from taxaudit.ingest.saft_parallel import find_cut
from taxaudit.store import init_case, open_case
from tests.ingest.saft_docs import document, line, transaction

TABLES = ("journal_entries", "journal_lines", "accounts", "parties", "tax_codes", "quarantine", "source_headers",
          "findings")


def fingerprint(directory: Path) -> dict[str, tuple]:
    with open_case(directory, read_only=True) as case:
        out = {}
        for table in TABLES:
            columns = [r[0] for r in case.con.execute(f"DESCRIBE {table}").fetchall()
                       if r[0] not in ("source_id", "created_at", "finding_id")]
            out[table] = case.con.execute(
                f"SELECT count(*), sum(hash({', '.join(columns)})) FROM {table}").fetchone()
        out["locators"] = tuple(case.con.execute("SELECT locator FROM quarantine ORDER BY locator").fetchall())
        out["sources"] = case.con.execute("SELECT rows_read, rows_loaded, rows_quarantined FROM sources").fetchone()
    return out


def ingest_both(tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    results = []
    for mode in ("0", "1"):
        monkeypatch.setenv("TAXAUDIT_SAFT_PARALLEL", mode)
        monkeypatch.setattr(saft, "PARALLEL_MIN_BYTES", 0)
        directory = tmp_path / f"case{mode}"
        with init_case(directory) as case:
            ingest_files(case, [source])
        results.append(fingerprint(directory))
    return results[0], results[1]


def test_synthetic_file_parallel_equals_sequential(tmp_path: Path, small_saft: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_cut(small_saft) is not None
    sequential, parallel = ingest_both(tmp_path, small_saft, monkeypatch)
    assert parallel == sequential


def many(prefix: str, count: int, bad_at: int | None = None) -> str:
    out = []
    for n in range(1, count + 1):
        amount = "x1.00" if n == bad_at else "10.00"
        out.append(transaction(f"{prefix}{n}", line(1, "1500", "Debit", amount) + line(2, "3000", "Credit", "10.00")))
    return "".join(out)


def test_quarantine_locators_are_those_of_the_whole_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    second_journal = ("</Journal><Journal><JournalID>B</JournalID><Description>Bank</Description><Type>B</Type>"
                      + many("B", 30, bad_at=27))
    text = document(many("A", 30, bad_at=3) + many("C", 30, bad_at=29) + second_journal, entries="120")
    source = tmp_path / "f.xml"
    source.write_text(text, encoding="utf-8")
    sequential, parallel = ingest_both(tmp_path, source, monkeypatch)
    assert parallel == sequential
    assert sequential["locators"] == (
        ("/AuditFile/GeneralLedgerEntries/Journal[1]/Transaction[3]/Line[1]",),
        ("/AuditFile/GeneralLedgerEntries/Journal[1]/Transaction[59]/Line[1]",),
        ("/AuditFile/GeneralLedgerEntries/Journal[2]/Transaction[27]/Line[1]",),
    )


def test_duplicate_across_the_cut_is_decided_like_one_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = document(many("A", 20) + many("A", 20), entries="40")
    source = tmp_path / "dup.xml"
    source.write_text(text, encoding="utf-8")
    sequential, parallel = ingest_both(tmp_path, source, monkeypatch)
    assert parallel == sequential
    assert sequential["sources"] == (86, 46, 40)  # 6 master-data rows, 40 loaded lines, 40 duplicates


def test_prefixed_namespace_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = document(many("A", 40)).replace("<", "<n1:").replace("<n1:/", "</n1:").replace("<n1:?xml", "<?xml")
    text = text.replace('<n1:AuditFile xmlns="', '<n1:AuditFile xmlns:n1="')
    source = tmp_path / "n1.xml"
    source.write_text(text, encoding="utf-8")
    cut = find_cut(source)
    assert cut is not None and cut.prefix == b"n1:"
    sequential, parallel = ingest_both(tmp_path, source, monkeypatch)
    assert parallel == sequential and sequential["journal_entries"][0] == 40


def test_errors_are_reported_by_the_sequential_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from taxaudit.errors import IngestError

    text = document(many("A", 40))
    broken = text[: len(text) * 3 // 4] + "<oops" + text[len(text) * 3 // 4:]
    source = tmp_path / "broken.xml"
    source.write_text(broken, encoding="utf-8")
    monkeypatch.setattr(saft, "PARALLEL_MIN_BYTES", 0)
    messages = []
    for mode in ("0", "1"):
        monkeypatch.setenv("TAXAUDIT_SAFT_PARALLEL", mode)
        with init_case(tmp_path / f"e{mode}") as case, pytest.raises(IngestError) as info:
            ingest_files(case, [source])
        messages.append(info.value.message)
    assert messages[0] == messages[1]
