"""SAF-T ingest: public samples, header fields, invoices, control totals and every kind of bad input."""

from __future__ import annotations

import hashlib
import os
from decimal import Decimal
from pathlib import Path

import pytest

from taxaudit.errors import HostileXMLError, IngestError, SourceEncodingError
from taxaudit.ingest import ingest_files
from taxaudit.ingest.pipeline import IngestOptions
from taxaudit.store import Case
from tests.conftest import shared_file
from tests.ingest.saft_docs import HEADER, NS_OECD, PAYMENT, SALE, document, line, transaction

SAMPLE_110 = "ExampleFile SAF-T Financial_999999999_20161125213512.xml"
SAMPLE_130 = "generated_auditfile_formatted_v_1.30.xml"


def write(tmp_path: Path, text: str | bytes, name: str = "file.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def snapshot(case: Case) -> tuple:
    """Everything a failed ingest must leave untouched."""
    tables = ("sources", "journal_entries", "journal_lines", "accounts", "parties", "quarantine", "findings")
    counts = tuple(case.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
    log = (case.root / "custody.jsonl").read_bytes()
    evidence = sorted(p.name for p in (case.root / "evidence").iterdir())
    return counts, hashlib.sha256(log).hexdigest(), evidence


# -- the public samples (../shared/data/saft) ------------------------------------------------------------------

@pytest.mark.parametrize(("name", "version", "entries", "lines", "total"), [
    (SAMPLE_110, "1.0", 2, 5, Decimal("25000.00")),
    (SAMPLE_130, "1.30", 3, 8, Decimal("37500.00")),
])
def test_public_samples_match_their_headers(case: Case, name: str, version: str, entries: int, lines: int,
                                            total: Decimal) -> None:
    [result] = ingest_files(case, [shared_file(name)])
    assert (result.format, result.format_version) == ("saft", version)
    assert (result.entries, result.lines) == (entries, lines)
    assert result.total_debit == result.total_credit == total
    assert result.rows_quarantined == 0
    assert result.rows_read == result.rows_loaded
    declared = case.con.execute(
        "SELECT declared_entries, declared_total_debit, declared_total_credit FROM source_headers").fetchone()
    assert declared == (entries, total, total)
    assert case.con.execute("SELECT count(*) FROM findings").fetchone() == (0,)


def test_sample_130_header_master_files_and_lines(case: Case) -> None:
    ingest_files(case, [shared_file(SAMPLE_130)])
    header = case.con.execute(
        "SELECT company_name, registration_number, country, currency, period_start, period_end, software_id "
        "FROM source_headers").fetchone()
    assert header[:4] == ("Company INC", "999999999", "NO", "NOK")
    assert (str(header[4]), str(header[5]), header[6]) == ("2025-01-01", "2025-12-31", "Accounting System")
    accounts = dict(case.con.execute("SELECT account_id, standard_account FROM accounts").fetchall())
    assert accounts["2700"] == "2740" and len(accounts) == 7
    party = case.con.execute("SELECT party_id, role, name, tax_id, account_id, closing_debit FROM parties "
                             "WHERE role = 'customer'").fetchone()
    assert party == ("15000", "customer", "Local Retail Inc", "987654321", "1500", Decimal("12500.00"))
    assert case.con.execute("SELECT tax_code, percentage FROM tax_codes ORDER BY 1").fetchall() == [
        ("10", Decimal("25.0000")), ("30", Decimal("25.0000"))]
    entry = case.con.execute(
        "SELECT journal_id, period, posting_date, created_by, changed_at, status, voucher_type FROM journal_entries "
        "WHERE entry_id = 'A1001'").fetchone()
    assert entry[0:2] == ("A001", "2025-09") and str(entry[2]) == "2025-09-27"
    assert entry[3] == "EMP002" and str(entry[4]) == "2025-10-01 00:00:00" and entry[5:] == ("changed", "PI")
    tax_line = case.con.execute("SELECT account_id, debit, tax_code, tax_amount FROM journal_lines "
                                "WHERE entry_id = 'A1001' AND line_no = 1").fetchone()
    assert tax_line == ("4000", Decimal("10000.00"), "10", Decimal("2500.00"))
    # created_at takes the earliest line SystemEntryTime on the SystemEntryDate
    created = case.con.execute("SELECT created_at FROM journal_entries WHERE entry_id = 'A1001'").fetchone()[0]
    assert str(created) == "2025-09-27 11:54:37"


def test_sample_110_validates_against_its_schema(case: Case) -> None:
    options = IngestOptions(validate=True, schema=str(shared_file("Norwegian_SAF-T_Financial_Schema_v_1.10.xsd")))
    [result] = ingest_files(case, [shared_file(SAMPLE_110)], options)
    assert result.findings == 0


def test_validation_failure_is_a_finding_not_a_loss(case: Case) -> None:
    # The 1.30 example is not valid against the 1.10 schema (1.30 is not backward compatible).
    options = IngestOptions(validate=True, schema=str(shared_file("Norwegian_SAF-T_Financial_Schema_v_1.10.xsd")))
    [result] = ingest_files(case, [shared_file(SAMPLE_130)], options)
    assert result.findings == 1 and result.rows_loaded == 19
    check, message = case.con.execute("SELECT check_id, message FROM findings").fetchone()
    assert check == "integrity.schema_validation" and "schema errors" in message


def test_validate_without_schema_says_where_to_get_one(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAXAUDIT_SAFT_XSD", raising=False)
    with pytest.raises(IngestError) as info:
        ingest_files(case, [shared_file(SAMPLE_130)], IngestOptions(validate=True))
    assert "TAXAUDIT_SAFT_XSD" in info.value.message


def test_schema_from_environment_variable(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXAUDIT_SAFT_XSD", str(shared_file("Norwegian_SAF-T_Financial_Schema_v_1.30.xsd")))
    [result] = ingest_files(case, [shared_file(SAMPLE_130)], IngestOptions(validate=True))
    assert result.findings == 0


def test_synthetic_file_validates_against_130_schema(case: Case, small_saft: Path) -> None:
    options = IngestOptions(validate=True, schema=str(shared_file("Norwegian_SAF-T_Financial_Schema_v_1.30.xsd")))
    [result] = ingest_files(case, [small_saft], options)
    assert result.findings == 0 and result.rows_quarantined == 0


# -- structure and content ------------------------------------------------------------------------------------

def test_hand_built_document(case: Case, tmp_path: Path) -> None:
    [result] = ingest_files(case, [write(tmp_path, document())])
    assert (result.entries, result.lines, result.total_debit) == (2, 5, Decimal("1350.00"))
    assert result.rows_read == 3 + 1 + 1 + 1 + 5  # accounts, customer, supplier, tax code, lines
    supplier = case.con.execute("SELECT account_id, opening_credit FROM parties WHERE role='supplier'").fetchone()
    assert supplier == ("2400", Decimal("10.00"))
    assert case.con.execute("SELECT party_id FROM journal_lines WHERE entry_id='T1' AND line_no=1").fetchone() == (
        "K1",)


def test_oecd_namespace_is_accepted(case: Case, tmp_path: Path) -> None:
    [result] = ingest_files(case, [write(tmp_path, document(namespace=NS_OECD))])
    assert result.entries == 2


def test_source_documents_go_to_invoices(case: Case, tmp_path: Path) -> None:
    totals = ("<DocumentTotals><TaxInformationTotals><TaxType>MVA</TaxType><TaxCode>3</TaxCode>"
              "<TaxPercentage>25</TaxPercentage><TaxBase>1000.00</TaxBase><TaxAmount><Amount>250.00</Amount>"
              "</TaxAmount></TaxInformationTotals><NetTotal>1000.00</NetTotal><GrossTotal>1250.00</GrossTotal>"
              "</DocumentTotals>")
    sales = (f"<SalesInvoices><NumberOfEntries>1</NumberOfEntries><TotalDebit>0</TotalDebit><TotalCredit>1000.00"
             f"</TotalCredit><Invoice><InvoiceNo>INV-7</InvoiceNo><CustomerInfo><CustomerID>K1</CustomerID>"
             f"</CustomerInfo><Period>3</Period><PeriodYear>2025</PeriodYear><InvoiceDate>2025-03-03</InvoiceDate>"
             f"{totals}</Invoice></SalesInvoices>")
    purchases = ("<PurchaseInvoices><Invoice><InvoiceNo>P-1</InvoiceNo><SupplierInfo><SupplierID>L1</SupplierID>"
                 "</SupplierInfo><InvoiceDate>2025-13-01</InvoiceDate><DocumentTotals><NetTotal>5</NetTotal>"
                 "</DocumentTotals></Invoice></PurchaseInvoices>")
    path = write(tmp_path, document(source_documents=f"<SourceDocuments>{sales}{purchases}</SourceDocuments>"))
    [result] = ingest_files(case, [path])
    invoice = case.con.execute("SELECT book, seller_tax_id, buyer_tax_id, invoice_no, invoice_date, net_amount, "
                               "vat_amount, vat_rate, period FROM invoices").fetchone()
    assert invoice[:4] == ("sales", "999999999MVA", "911111118", "INV-7")
    assert str(invoice[4]) == "2025-03-03" and invoice[5:] == (
        Decimal("1000.00"), Decimal("250.00"), Decimal("25.0000"), "2025-03")
    assert result.rows_quarantined == 1
    locator, code = case.con.execute("SELECT locator, reason_code FROM quarantine").fetchone()
    assert (locator, code) == ("/AuditFile/SourceDocuments/PurchaseInvoices/Invoice[1]", "bad_date")


def test_header_totals_that_disagree_become_a_finding(case: Case, tmp_path: Path) -> None:
    path = write(tmp_path, document(entries="3", debit="1400.00", credit="1350.00"))
    [result] = ingest_files(case, [path])
    assert result.entries == 2 and result.findings == 1
    row = case.con.execute("SELECT check_id, severity, amount, message, evidence FROM findings").fetchone()
    assert row[:3] == ("integrity.header_control_totals", "high", Decimal("50.00"))
    assert "NumberOfEntries declared 3, loaded 2" in row[3] and "TotalDebit declared 1400.00, loaded 1350.00" in row[3]
    actions = [e.action for e in case.events()]
    assert actions[-1] == "finding_raised"


def test_duplicate_ingest_is_a_no_op(case: Case, tmp_path: Path) -> None:
    path = write(tmp_path, document())
    ingest_files(case, [path])
    before = snapshot(case)
    [again] = ingest_files(case, [write(tmp_path, document(), "copy.xml")])
    assert again.already_present and again.entries == 2
    assert snapshot(case) == before


def test_evidence_is_an_exact_read_only_copy(case: Case, tmp_path: Path) -> None:
    path = write(tmp_path, document())
    [result] = ingest_files(case, [path])
    evidence = case.root / "evidence" / result.sha256
    assert evidence.read_bytes() == path.read_bytes()
    assert hashlib.sha256(evidence.read_bytes()).hexdigest() == result.sha256
    assert evidence.stat().st_mode & 0o222 == 0


# -- rows that go to quarantine -------------------------------------------------------------------------------

@pytest.mark.parametrize(("transactions", "code", "locator"), [
    (transaction("T5", line(1, "1500", "Debit", "12,50") + line(2, "3000", "Credit", "12.50")),
     "bad_amount", "/AuditFile/GeneralLedgerEntries/Journal[1]/Transaction[1]/Line[1]"),
    (transaction("T5", line(1, "1500", "Debit", "-12.50") + line(2, "3000", "Credit", "12.50")),
     "negative_amount", "/AuditFile/GeneralLedgerEntries/Journal[1]/Transaction[1]/Line[1]"),
    (transaction("T5", line(1, "1500", "Debit", "12.501") + line(2, "3000", "Credit", "12.50")),
     "bad_amount", "/AuditFile/GeneralLedgerEntries/Journal[1]/Transaction[1]/Line[1]"),
    (transaction("T5", line(1, "", "Debit", "12.50") + line(2, "3000", "Credit", "12.50")),
     "missing_element", "/AuditFile/GeneralLedgerEntries/Journal[1]/Transaction[1]/Line[1]"),
    (transaction("T5", "<Line><RecordID>1</RecordID><AccountID>1500</AccountID></Line>"
                 + line(2, "3000", "Credit", "12.50")),
     "missing_amount", "/AuditFile/GeneralLedgerEntries/Journal[1]/Transaction[1]/Line[1]"),
])
def test_bad_lines_are_quarantined_with_locator(case: Case, tmp_path: Path, transactions: str, code: str,
                                                locator: str) -> None:
    [result] = ingest_files(case, [write(tmp_path, document(SALE + transactions, entries="2"))])
    assert result.rows_quarantined == 1
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    row = case.con.execute("SELECT locator, reason_code, raw FROM quarantine").fetchone()
    assert row[:2] == (locator.replace("Transaction[1]", "Transaction[2]"), code)
    assert row[2].startswith("<Line")
    assert result.findings == 1  # the loaded totals no longer match the header


@pytest.mark.parametrize(("transactions", "code"), [
    (transaction("T1", line(1, "1500", "Debit", "1.00") + line(2, "3000", "Credit", "1.00"), date="2025-02-30"),
     "bad_date"),
    (transaction("T1", line(1, "1500", "Debit", "1.00") + line(2, "3000", "Credit", "1.00"), entry="2025-13-01"),
     "bad_date"),
    (transaction("", line(1, "1500", "Debit", "1.00") + line(2, "3000", "Credit", "1.00")), "missing_element"),
])
def test_bad_transactions_quarantine_all_their_lines(case: Case, tmp_path: Path, transactions: str,
                                                      code: str) -> None:
    [result] = ingest_files(case, [write(tmp_path, document(PAYMENT + transactions))])
    assert result.rows_quarantined == 2 and result.entries == 1
    codes = case.con.execute("SELECT DISTINCT reason_code FROM quarantine").fetchall()
    assert codes == [(code,)]


def test_duplicate_transaction_id_is_quarantined(case: Case, tmp_path: Path) -> None:
    duplicate = SALE.replace("<Description>Tx T1</Description>", "<Description>copy</Description>")
    [result] = ingest_files(case, [write(tmp_path, document(SALE + PAYMENT + duplicate, entries="3"))])
    assert result.entries == 2 and result.rows_quarantined == 3
    reason = case.con.execute("SELECT DISTINCT reason FROM quarantine").fetchone()[0]
    assert "TransactionID T1 appears twice" in reason
    assert "first at /AuditFile/GeneralLedgerEntries/Journal[1]/Transaction[1]" in reason
    locators = case.con.execute("SELECT locator FROM quarantine ORDER BY locator").fetchall()
    assert locators == [(f"/AuditFile/GeneralLedgerEntries/Journal[1]/Transaction[3]/Line[{n}]",) for n in (1, 2, 3)]
    description = case.con.execute("SELECT description FROM journal_entries WHERE entry_id = 'T1'").fetchone()
    assert description == ("Tx T1",)  # the first occurrence is the one loaded


def test_transaction_without_lines_is_one_quarantined_row(case: Case, tmp_path: Path) -> None:
    [result] = ingest_files(case, [write(tmp_path, document(SALE + transaction("T9", "")))])
    assert result.rows_quarantined == 1
    assert case.con.execute("SELECT reason_code FROM quarantine").fetchone() == ("no_lines",)


# -- fatal input: nothing changes in the case ------------------------------------------------------------------

XXE = ('<?xml version="1.0"?>\n<!DOCTYPE AuditFile [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       '<AuditFile xmlns="urn:StandardAuditFile-Taxation-Financial:NO"><Header><AuditFileVersion>&xxe;'
       '</AuditFileVersion></Header></AuditFile>')
LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                    for i in range(1, 10))
          + ']>\n<AuditFile xmlns="urn:StandardAuditFile-Taxation-Financial:NO"><Header>&lol9;</Header></AuditFile>')


@pytest.mark.parametrize(("content", "error", "words"), [
    (document()[:-300], IngestError, "truncated"),
    (document().replace("</Journal>", "</Jurnal>"), IngestError, "not well-formed"),
    ("this is not xml at all", IngestError, "format"),
    (XXE, HostileXMLError, "DOCTYPE"),
    (LAUGHS, HostileXMLError, "DOCTYPE"),
    (document(namespace="urn:example:not-saft"), IngestError, "not a SAF-T Financial file"),
    (document(header=""), IngestError, "no Header"),
    (document(header=HEADER.replace("Test Company AS", "Tëst Company AS")).encode("latin-1"),
     SourceEncodingError, "declared encoding"),
])
def test_fatal_input_leaves_the_case_exactly_as_it_was(case: Case, tmp_path: Path, content: str | bytes,
                                                       error: type[Exception], words: str) -> None:
    good = write(tmp_path, document(), "good.xml")
    before = snapshot(case)
    bad = write(tmp_path, content, "bad.xml")
    with pytest.raises(error) as info:
        ingest_files(case, [good, bad], IngestOptions(format="saft") if "not xml" not in str(content) else None)
    assert words in info.value.message
    assert "bad.xml" in (info.value.where or "") or words == "format"
    assert info.value.hint
    assert snapshot(case) == before


def test_entities_are_never_expanded(case: Case, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = XXE.replace("file:///etc/passwd", secret.as_uri())
    with pytest.raises(HostileXMLError):
        ingest_files(case, [write(tmp_path, xxe)], IngestOptions(format="saft"))
    assert not any(b"TOP-SECRET" in p.read_bytes() for p in case.root.rglob("*") if p.is_file()
                   and os.access(p, os.R_OK))
