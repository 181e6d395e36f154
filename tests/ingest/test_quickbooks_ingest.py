"""QuickBooks IIF and Audit Trail ingest: layouts after Intuit's IIF import kit and the Audit Trail report help
("Each transaction is identified by a bold heading (for example, Check 101)"; State Latest/Prior)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxaudit.errors import IngestError, SourceEncodingError
from taxaudit.ingest.pipeline import IngestOptions, detect_format, ingest_files
from taxaudit.store import init_case

DATA = Path(__file__).parent.parent / "data" / "quickbooks"


@pytest.fixture()
def case(tmp_path):
    with init_case(tmp_path / "case", country="US") as opened:
        yield opened


def test_iif_is_sniffed_and_loaded_with_windows_1252_names(case):
    assert detect_format(DATA / "company.iif", IngestOptions()) == "iif"
    [result] = ingest_files(case, [DATA / "company.iif"])
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (22, 22, 0)
    assert result.format_version == "IIF (QuickBooks Pro Version 34.0D Release R6P)"  # from the HDR record
    # 7 accounts + 2 customers + 2 vendors + 11 TRNS/SPL lines; the splits negate the TRNS line
    assert (result.entries, result.lines) == (5, 11)
    assert case.con.execute("SELECT name FROM parties WHERE role = 'customer' ORDER BY 1").fetchall() == [
        ("Ozark Catering Inc",), ("Zoë's Bistro LLC",)]
    rows = case.con.execute(
        "SELECT entry_id, line_no, account_id, debit, credit FROM journal_lines WHERE entry_id = 'Check 5002' "
        "ORDER BY line_no").fetchall()
    assert rows == [("Check 5002", 1, "Checking", Decimal("0.00"), Decimal("312.47")),
                    ("Check 5002", 2, "Office Supplies", Decimal("212.47"), Decimal("0.00")),
                    ("Check 5002", 3, "Office Supplies", Decimal("100.00"), Decimal("0.00"))]
    entry = case.con.execute("SELECT journal_id, posting_date::VARCHAR, source_ref, voucher_type, status "
                             "FROM journal_entries WHERE entry_id = 'Deposit (TRNSID 108)'").fetchone()
    assert entry == ("Deposit", "2025-03-14", "108", "DEPOSIT", "posted")  # M/D/YY date, no DOCNUM
    opening = case.con.execute("SELECT opening_debit, opening_credit FROM accounts WHERE account_id = 'Checking'")
    assert opening.fetchone() == (Decimal("15000.00"), Decimal("0.00"))


def test_iif_bad_rows_are_quarantined_with_reasons_and_nothing_is_lost(case):
    [result] = ingest_files(case, [DATA / "bad_rows.iif"])
    assert result.rows_read == result.rows_loaded + result.rows_quarantined == 18
    assert result.quarantine_reasons == {"no_header": 1, "bad_amount": 2, "duplicate_key": 3, "unsupported_record": 1,
                                         "orphan_split": 1, "bad_date": 2, "missing_field": 1,
                                         "unterminated_transaction": 3}
    locators = dict(case.con.execute("SELECT locator, reason_code FROM quarantine WHERE reason_code IN "
                                     "('orphan_split', 'unsupported_record')").fetchall())
    assert locators == {"line 7": "unsupported_record", "line 11": "orphan_split"}


def test_audit_trail_maps_versions_to_status_created_and_changed(case):
    assert detect_format(DATA / "audit_trail.csv", IngestOptions()) == "qb_audit_trail"
    [result] = ingest_files(case, [DATA / "audit_trail.csv"])
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (15, 15, 0)
    entries = {row[0]: row[1:] for row in case.con.execute(
        "SELECT entry_id, status, created_by, strftime(created_at, '%Y-%m-%d %H:%M'), changed_by, "
        "strftime(changed_at, '%Y-%m-%d %H:%M') FROM journal_entries").fetchall()}
    assert entries == {
        "Check 1041": ("posted", "Admin", "2025-12-28 09:12", None, None),
        "Check 1042": ("changed", "Bookkeeper", "2025-12-29 10:41", "Admin", "2026-01-20 16:05"),
        "Deposit (entered 2025-12-15 11:02:19)": ("deleted", "Bookkeeper", "2025-12-15 11:02", "Admin",
                                                  "2026-02-03 22:47"),
        "Check 1044": ("voided", "Bookkeeper", "2025-12-20 13:30", "Admin", "2026-01-05 08:15"),
        "General Journal 17": ("posted", "Bookkeeper", "2026-03-03 07:58", None, None),
    }
    before = case.con.execute("SELECT version_no, modified_by, sum(debit) FROM entry_versions "
                              "WHERE entry_id = 'Check 1042' GROUP BY ALL").fetchall()
    assert before == [(1, "Bookkeeper", Decimal("4500.00"))]
    assert case.con.execute("SELECT count(*) FROM entry_versions").fetchone() == (6,)


def test_audit_trail_bad_rows_are_quarantined(case):
    [result] = ingest_files(case, [DATA / "audit_trail_bad_rows.csv"], IngestOptions(format="qb_audit_trail"))
    assert result.rows_read == result.rows_loaded + result.rows_quarantined == 5
    assert result.quarantine_reasons == {"no_transaction_heading": 1, "bad_timestamp": 1, "bad_amount": 1,
                                         "no_latest_version": 1}


def test_audit_trail_exported_to_xlsx_reads_like_the_csv(case, tmp_path):
    import csv

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    with (DATA / "audit_trail.csv").open(encoding="cp1252", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    path = tmp_path / "audit_trail.xlsx"
    workbook.save(path)
    [result] = ingest_files(case, [path], IngestOptions(format="qb_audit_trail"))
    assert (result.rows_read, result.entries, result.format) == (15, 5, "qb_audit_trail")


@pytest.mark.parametrize(("content", "error", "fmt"), [
    (b"!TRNS\tTRNSID\x00\x00binary", IngestError, "iif"),
    (b"no headers here\tat all\r\n", IngestError, "iif"),
    (b"\"Audit Trail\"\r\n\"Num\",\"Date\"\r\n", IngestError, "qb_audit_trail"),
    (b"Entered/Last Modified,Last modified by,State,Date\r\n", IngestError, "qb_audit_trail"),
    (b"!ACCNT\tNAME\r\nACCNT\tBad \x81 byte\r\n", SourceEncodingError, "iif"),
    (b"PK\x03\x04not really a workbook", IngestError, "qb_audit_trail"),
])
def test_fatal_problems_roll_back_the_ingest(case, tmp_path, content, error, fmt):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(error) as raised:
        ingest_files(case, [path], IngestOptions(format=fmt))
    assert raised.value.where and raised.value.hint
    assert case.con.execute("SELECT count(*) FROM sources").fetchone() == (0,)


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(transactions=st.lists(st.lists(money, min_size=1, max_size=4), min_size=1, max_size=6),
       junk=st.lists(st.sampled_from(["SPL\tx\tCHECK\t01/02/2025\tSales\t\t\t1.00", "TRNS\t\tCHECK\tnot a date",
                                      "INVITEM\tWidget"]), max_size=3))
def test_iif_round_trip_loads_every_amount_or_quarantines_the_row(tmp_path_factory, transactions, junk):
    """Property: splits negate the TRNS line, so a written transaction comes back balanced with the same total;
    stray rows are quarantined and rows_read == rows_loaded + rows_quarantined."""
    lines = ["!TRNS\tTRNSID\tTRNSTYPE\tDATE\tACCNT\tNAME\tCLASS\tAMOUNT",
             "!SPL\tSPLID\tTRNSTYPE\tDATE\tACCNT\tNAME\tCLASS\tAMOUNT", "!ENDTRNS", *junk]
    for number, splits in enumerate(transactions, start=1):
        lines.append(f"TRNS\t{number}\tCHECK\t03/{number:02d}/2025\tChecking\t\t\t{-sum(splits):,}")
        lines.extend(f"SPL\t{number}{i}\tCHECK\t03/{number:02d}/2025\tExpense {i}\t\t\t{amount}"
                     for i, amount in enumerate(splits))
        lines.append("ENDTRNS")
    root = tmp_path_factory.mktemp("iif")
    path = root / "random.iif"
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    with init_case(root / "case") as case:
        [result] = ingest_files(case, [path])
        totals = case.con.execute("SELECT count(DISTINCT entry_id), sum(debit), sum(credit) FROM journal_lines")
        entries, debit, credit = totals.fetchone()
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    assert result.rows_quarantined == len(junk)
    assert entries == len(transactions)
    assert debit == credit == sum(sum(splits) for splits in transactions)
