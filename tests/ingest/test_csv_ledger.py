"""CSV ledger ingest through YAML mappings: the shipped layouts, quarantine, wrong mappings, wrong encodings."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from taxaudit.errors import MappingError, SourceEncodingError
from taxaudit.ingest import ingest_files
from taxaudit.ingest.csv_ledger import load_mapping, shipped_mappings
from taxaudit.ingest.pipeline import IngestOptions
from taxaudit.store import Case
from tests.conftest import DATA
from tests.ingest.test_saft import snapshot

GENERIC = DATA / "csv" / "generic_lines.csv"
ONE_C = DATA / "csv" / "1c_postings_cp1251.csv"


def test_shipped_mappings_load() -> None:
    assert {"generic-lines", "1c-postings"} <= set(shipped_mappings())
    for name in shipped_mappings():
        assert load_mapping(name).name == name


def test_generic_lines(case: Case) -> None:
    [result] = ingest_files(case, [GENERIC], IngestOptions(mapping="generic-lines"))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (9, 7, 2)
    assert (result.entries, result.lines) == (4, 7)
    assert (result.total_debit, result.total_credit) == (Decimal("2500.00"), Decimal("7120.50"))
    quarantined = case.con.execute("SELECT locator, reason_code FROM quarantine ORDER BY locator").fetchall()
    assert quarantined == [("line 7", "bad_date"), ("line 9", "bad_amount")]
    entry = case.con.execute("SELECT journal_id, posting_date, created_at, created_by, period FROM journal_entries "
                             "WHERE entry_id = 'V-1002'").fetchone()
    assert entry[0] == "BANK" and str(entry[1]) == "2025-03-20" and str(entry[2]) == "2025-03-21 16:02:11"
    assert entry[3:] == ("bjorn", "2025-03")
    line = case.con.execute("SELECT account_id, party_id, debit, credit, currency, description FROM journal_lines "
                            "WHERE entry_id='V-1002' AND line_no=2").fetchone()
    assert line == ("1500", "C001", Decimal("0.00"), Decimal("1250.00"), "EUR", "Receipt, invoice 1001")


def test_1c_postings_cp1251_with_decimal_comma(case: Case) -> None:
    [result] = ingest_files(case, [ONE_C], IngestOptions(mapping="1c-postings"))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 4, 2)
    # 120 000,00 + 20 000,00 + 120 000,00 + 45 500,50 on each side
    assert result.total_debit == result.total_credit == Decimal("305500.50")
    assert result.entries == 3 and result.lines == 8
    lines = case.con.execute("SELECT line_no, account_id, party_id, debit, credit FROM journal_lines "
                             "WHERE entry_id = '00000001' ORDER BY line_no").fetchall()
    assert lines == [
        (1, "62.01", 'ООО "Ромашка"', Decimal("120000.00"), Decimal("0.00")),
        (2, "90.01.1", "Товары", Decimal("0.00"), Decimal("120000.00")),
        (3, "90.03", None, Decimal("20000.00"), Decimal("0.00")),
        (4, "68.02", "НДС", Decimal("0.00"), Decimal("20000.00")),
    ]
    reasons = dict(case.con.execute("SELECT locator, reason_code FROM quarantine").fetchall())
    assert reasons == {"line 6": "bad_date", "line 7": "negative_amount"}


def test_wrong_mapping_is_fatal_and_changes_nothing(case: Case) -> None:
    before = snapshot(case)
    with pytest.raises(MappingError) as info:
        ingest_files(case, [GENERIC], IngestOptions(mapping="1c-postings"))
    assert "not in the file's header" in info.value.message and "line 1" in info.value.where
    assert "Счет Дт" in info.value.message
    assert snapshot(case) == before
    # The other way round the cp1251 bytes are not UTF-8: also fatal, also harmless.
    with pytest.raises(SourceEncodingError):
        ingest_files(case, [ONE_C], IngestOptions(mapping="generic-lines"))
    assert snapshot(case) == before


def test_wrong_encoding_is_fatal(case: Case, tmp_path: Path) -> None:
    mapping = tmp_path / "utf8.yaml"
    mapping.write_text(
        (Path(__file__).resolve().parents[2] / "src/taxaudit/ingest/mappings/1c-postings.yaml")
        .read_text(encoding="utf-8").replace("encoding: cp1251", "encoding: utf-8"), encoding="utf-8")
    before = snapshot(case)
    with pytest.raises(SourceEncodingError) as info:
        ingest_files(case, [ONE_C], IngestOptions(mapping=str(mapping)))
    assert "not valid utf-8" in info.value.message
    assert snapshot(case) == before


@pytest.mark.parametrize(("yaml_text", "words"), [
    ("layout: rows\ncolumns: {}", "layout must be one of"),
    ("layout: lines\ncolumns: {entry_id: a, posting_date: b, account_id: c}", "debit and credit"),
    ("layout: lines\ncolumns: {entry_id: a, posting_date: b, account_id: c, debit: d, credit: e, colour: f}",
     "not known"),
    ("layout: entries\ncolumns: {posting_date: a, amount: b}", "debit_account"),
    ("layout: lines\nencoding: klingon\ncolumns: {entry_id: a, posting_date: b, account_id: c, amount: d}",
     "unknown encoding"),
    ("- just\n- a list", "must be a YAML mapping"),
    ("layout: lines\ncolums: {}", "unknown mapping settings"),
])
def test_invalid_mappings_are_explained(tmp_path: Path, yaml_text: str, words: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mapping(str(path))
    assert words in info.value.message


def test_signed_amount_with_side_indicator(case: Case, tmp_path: Path) -> None:
    mapping = tmp_path / "datev-like.yaml"
    mapping.write_text(
        "name: side\nlayout: lines\ndelimiter: ';'\ndate_format: '%d.%m.%Y'\ndecimal_separator: ','\n"
        "thousands_separator: '.'\ncolumns: {entry_id: Beleg, posting_date: Datum, account_id: Konto, amount: Umsatz,"
        " side: SH}\nside_values: {debit: [S], credit: [H]}\n", encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text("Beleg;Datum;Konto;Umsatz;SH\n1;01.03.2025;1200;1.234,56;S\n1;01.03.2025;8400;1.234,56;H\n"
                    "2;02.03.2025;1200;10,00;X\n", encoding="utf-8")
    [result] = ingest_files(case, [data], IngestOptions(mapping=str(mapping)))
    assert result.total_debit == result.total_credit == Decimal("1234.56")
    assert case.con.execute("SELECT reason_code FROM quarantine").fetchall() == [("bad_side",)]


def test_ragged_rows_are_quarantined(case: Case, tmp_path: Path) -> None:
    data = tmp_path / "r.csv"
    data.write_text(GENERIC.read_text(encoding="utf-8").splitlines()[0] + "\nV-1,1,GL,2025-01-01\n",
                    encoding="utf-8")
    [result] = ingest_files(case, [data], IngestOptions(mapping="generic-lines"))
    assert (result.rows_read, result.rows_quarantined) == (1, 1)
    assert case.con.execute("SELECT reason_code FROM quarantine").fetchone() == ("bad_row",)
