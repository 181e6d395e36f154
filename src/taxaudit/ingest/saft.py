"""SAF-T Financial ingest: Norway 1.10/1.20/1.30 and OECD 2.0-style audit files, streamed with iterparse.

Memory stays flat for any file size: each Transaction, Invoice and master-file record is processed when its
end tag is read and then cleared from the tree. Elements are matched by local name inside the file's own
namespace, so the NO variants (which continue OECD SAF-T 2.0) and OECD 2.0-style files share one reader.

Source rows, the unit of ``rows_read == rows_loaded + rows_quarantined``: every GeneralLedgerAccount,
Customer, Supplier, TaxCodeDetails, Transaction Line (a Transaction without lines counts as one row),
and SourceDocuments Invoice. Locators are XPaths by local name, e.g.
``/AuditFile/GeneralLedgerEntries/Journal[2]/Transaction[17]/Line[3]``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from contextlib import suppress
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from taxaudit.errors import IngestError, SchemaValidationError
from taxaudit.ingest.loader import Loader
from taxaudit.ingest.pipeline import IngestOptions, ParseOutcome
from taxaudit.ingest.saft_load import StagedPart, load_parts
from taxaudit.ingest.xmlsafe import HARDENED, CountingReader, refuse_dtd, root_element, xml_error
from taxaudit.model.finding import Finding
from taxaudit.model.money import CENT, MAX_AMOUNT, fmt

NAME = "saft"
SCHEMA_ENV = "TAXAUDIT_SAFT_XSD"
NAMESPACE_PATTERNS = (
    re.compile(r"^urn:StandardAuditFile-Taxation-Financial:[A-Z]{2}$"),  # Norway (and Denmark) SAF-T Financial
    re.compile(r"^urn:OECD:StandardAuditFile-Tax(ation)?:2\.0+$"),  # OECD SAF-T 2.0
)
CONTROL_TOTALS_CITATION = (
    "SAF-T Financial (NO) GeneralLedgerEntries/NumberOfEntries, TotalDebit, TotalCredit; "
    "OECD SAF-T 2.0 (2010) section GeneralLedgerEntries"
)
# Repeated elements of sections taxaudit does not load; they are cleared as they end so memory stays flat.
SKIPPED_RECORDS = ("Payment", "StockMovement", "Asset", "AssetTransaction", "PhysicalStockEntry", "Product",
                   "UOMTableEntry", "MovementTypeTableEntry", "AnalysisTypeTableEntry", "Owner", "Employee")


class _Bad(Exception):
    """A row-level problem: the row goes to quarantine with this reason code and text."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def sniff(head: bytes) -> bool:
    """Return True when the first bytes look like a SAF-T audit file."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"<") and b"AuditFile" in head and b"StandardAuditFile" in head


def namespace_allowed(namespace: str) -> bool:
    return any(p.match(namespace) for p in NAMESPACE_PATTERNS)


def _amount(text: str | None, what: str, *, allow_negative: bool = False) -> Decimal:
    if text is None or not text.strip():
        raise _Bad("missing_amount", f"{what} is missing")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise _Bad("bad_amount", f"{what} {text.strip()!r} is not a number") from None
    if not value.is_finite():
        raise _Bad("bad_amount", f"{what} {text.strip()!r} is not a finite number")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and value != value.quantize(CENT):
        raise _Bad("bad_amount", f"{what} {text.strip()!r} has more than 2 decimals (SAFmonetaryType allows 2)")
    if abs(value) > MAX_AMOUNT:
        raise _Bad("bad_amount", f"{what} {text.strip()!r} exceeds 18 digits")
    if value < 0 and not allow_negative:
        raise _Bad("negative_amount", f"{what} is negative ({text.strip()}); a SAF-T debit or credit amount must "
                                      "be zero or positive, a reversal belongs on the opposite side")
    return value.quantize(CENT)


def _cents(text: str | None, what: str, *, allow_negative: bool = False) -> int:
    """Return an amount in integer cents; plain ``1234.5``-style text takes a fast path, the rest :func:`_amount`."""
    if text is not None:
        value = text.strip()
        whole, dot, fraction = value.partition(".")
        if value.isascii() and whole.isdigit() and len(whole) <= 16 and (
                not dot or (fraction.isdigit() and len(fraction) <= 2)):
            return int(whole) * 100 + (int(fraction.ljust(2, "0")) if dot else 0)
    return int(_amount(text, what, allow_negative=allow_negative) * 100)


def _date(text: str | None, what: str, *, required: bool = True) -> date | None:
    if text is None or not text.strip():
        if required:
            raise _Bad("missing_element", f"{what} is missing")
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise _Bad("bad_date", f"{what} {text.strip()!r} is not a valid date") from None


def _timestamp(text: str | None, what: str, *, required: bool = True) -> datetime | None:
    if text is None or not text.strip():
        if required:
            raise _Bad("missing_element", f"{what} is missing")
        return None
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time())
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.replace(tzinfo=None)
    except ValueError:
        raise _Bad("bad_date", f"{what} {value!r} is not a valid date or date-time") from None


def _optional_amount(node: Any, tag: str, what: str) -> Decimal | None:
    text = node.findtext(tag)
    if text is None or not text.strip():
        return None
    return _amount(text, what, allow_negative=True)


class _Tags:
    """Qualified tag names in the file's namespace, computed once."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def __getattr__(self, local: str) -> str:
        qualified = f"{{{self.ns}}}{local}" if self.ns else local
        setattr(self, local, qualified)
        return qualified


class SaftReader:
    """State of one streaming pass over a SAF-T file."""

    def __init__(self, loader: Loader, namespace: str, where: str, *, emit_master: bool = True) -> None:
        self.emit_master = emit_master  # False in the second part of a parallel parse: master data is read there
        self.loader = loader
        self.t = _Tags(namespace)
        self.where = where
        self.rows_read = 0
        self.header: dict[str, Any] = {}
        self.declared: dict[str, Any] = {}
        self.transactions_read = 0
        self.account_ids: set[str] = set()
        self.journal_index = 0
        self.journal: Any = None
        self.journal_id: str | None = None
        self.journal_description: str | None = None
        self.transaction_index = 0
        self.record_index: dict[str, int] = {}
        self.customer_tax_ids: dict[str, str | None] = {}
        self.supplier_tax_ids: dict[str, str | None] = {}
        self.company_tax_id: str | None = None
        self.currency: str | None = None

    # -- helpers -------------------------------------------------------------------------------------------
    def _local(self, element: Any) -> str:
        tag = element.tag
        return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""

    def _quarantine(self, locator: str, bad: _Bad, element: Any) -> None:
        raw = etree.tostring(element, encoding="unicode")
        self.loader.quarantine(locator, bad.code, bad.reason, raw[:20000])

    def _next_index(self, key: str) -> int:
        value = self.record_index.get(key, 0) + 1
        self.record_index[key] = value
        return value

    # -- header --------------------------------------------------------------------------------------------
    def header_element(self, element: Any) -> None:
        t = self.t
        get = element.findtext
        company = element.find(t.Company)
        selection = element.find(t.SelectionCriteria)
        h: dict[str, Any] = {
            "country": get(t.AuditFileCountry),
            "currency": get(t.DefaultCurrencyCode),
            "software_company": get(t.SoftwareCompanyName),
            "software_id": get(t.SoftwareID),
            "software_version": get(t.SoftwareVersion),
            "tax_accounting_basis": get(t.TaxAccountingBasis),
        }
        self.header["format_version"] = (get(t.AuditFileVersion) or "").strip() or None
        try:
            h["file_created"] = _date(get(t.AuditFileDateCreated), "AuditFileDateCreated", required=False)
        except _Bad:
            h["file_created"] = None
        if company is not None:
            h["company_name"] = company.findtext(t.Name)
            h["registration_number"] = company.findtext(t.RegistrationNumber)
            tax = company.find(t.TaxRegistration)
            h["tax_registration_number"] = tax.findtext(t.TaxRegistrationNumber) if tax is not None else None
        if selection is not None:
            for key, tag in (("period_start_no", t.PeriodStart), ("period_start_year", t.PeriodStartYear),
                             ("period_end_no", t.PeriodEnd), ("period_end_year", t.PeriodEndYear)):
                text = selection.findtext(tag)
                h[key] = int(text) if text and text.strip().isdigit() else None
            try:
                start = _date(selection.findtext(t.SelectionStartDate), "SelectionStartDate", required=False)
                end = _date(selection.findtext(t.SelectionEndDate), "SelectionEndDate", required=False)
            except _Bad:
                start = end = None
            if start is None and h.get("period_start_year") and 1 <= (h.get("period_start_no") or 0) <= 12:
                start = date(h["period_start_year"], h["period_start_no"], 1)
            if end is None and h.get("period_end_year") and 1 <= (h.get("period_end_no") or 0) <= 12:
                month = h["period_end_no"]
                following = date(h["period_end_year"] + (month == 12), month % 12 + 1, 1)
                end = date.fromordinal(following.toordinal() - 1)
            h["period_start"], h["period_end"] = start, end
        self.company_tax_id = h.get("tax_registration_number") or h.get("registration_number")
        self.currency = h.get("currency")
        self.header.update(h)

    # -- master files --------------------------------------------------------------------------------------
    def account(self, element: Any) -> None:
        if not self.emit_master:
            return
        t = self.t
        self.rows_read += 1
        locator = f"/AuditFile/MasterFiles/GeneralLedgerAccounts/Account[{self._next_index('Account')}]"
        try:
            account_id = (element.findtext(t.AccountID) or "").strip()
            if not account_id:
                raise _Bad("missing_element", "AccountID is missing")
            row = (
                account_id, element.findtext(t.AccountDescription), element.findtext(t.AccountType),
                element.findtext(t.StandardAccountID) or element.findtext(t.GroupingCode),
                element.findtext(t.GroupingCategory),
                _optional_amount(element, t.OpeningDebitBalance, "OpeningDebitBalance"),
                _optional_amount(element, t.OpeningCreditBalance, "OpeningCreditBalance"),
                _optional_amount(element, t.ClosingDebitBalance, "ClosingDebitBalance"),
                _optional_amount(element, t.ClosingCreditBalance, "ClosingCreditBalance"),
            )
            if account_id in self.account_ids:
                raise _Bad("duplicate_key", f"AccountID {account_id} appears twice")
            self.account_ids.add(account_id)
        except _Bad as bad:
            self._quarantine(locator, bad, element)
            return
        self.loader.add("accounts", row)

    def party(self, element: Any, role: str) -> None:
        t = self.t
        if self.emit_master:
            self.rows_read += 1
        tag = "Customer" if role == "customer" else "Supplier"
        section = "Customers" if role == "customer" else "Suppliers"
        locator = f"/AuditFile/MasterFiles/{section}/{tag}[{self._next_index(tag)}]"
        try:
            party_id = (element.findtext(t.CustomerID if role == "customer" else t.SupplierID) or "").strip()
            if not party_id:
                raise _Bad("missing_element", f"{tag}ID is missing")
            tax = element.find(t.TaxRegistration)
            tax_id = (tax.findtext(t.TaxRegistrationNumber) if tax is not None else None) or \
                element.findtext(t.RegistrationNumber)
            address = element.find(t.Address)
            country = address.findtext(t.Country) if address is not None else None
            balances = element.findall(t.BalanceAccount) or [element]
            sums: list[Decimal | None] = [None, None, None, None]
            account_id = None
            for balance in balances:
                account_id = account_id or balance.findtext(t.AccountID)
                for i, name in enumerate(("OpeningDebitBalance", "OpeningCreditBalance",
                                          "ClosingDebitBalance", "ClosingCreditBalance")):
                    value = _optional_amount(balance, getattr(t, name), name)
                    if value is not None:
                        sums[i] = (sums[i] or Decimal("0.00")) + value
            ids = self.customer_tax_ids if role == "customer" else self.supplier_tax_ids
            if party_id in ids:
                raise _Bad("duplicate_key", f"{tag}ID {party_id} appears twice")
            ids[party_id] = tax_id
        except _Bad as bad:
            if self.emit_master:
                self._quarantine(locator, bad, element)
            return
        if self.emit_master:
            self.loader.add("parties", (party_id, role, element.findtext(t.Name), tax_id, country, account_id, *sums))

    def tax_table_entry(self, element: Any) -> None:
        if not self.emit_master:
            return
        t = self.t
        tax_type = element.findtext(t.TaxType)
        entry_index = self._next_index("TaxTableEntry")
        for number, detail in enumerate(element.findall(t.TaxCodeDetails), start=1):
            self.rows_read += 1
            locator = f"/AuditFile/MasterFiles/TaxTable/TaxTableEntry[{entry_index}]/TaxCodeDetails[{number}]"
            try:
                code = (detail.findtext(t.TaxCode) or "").strip()
                if not code:
                    raise _Bad("missing_element", "TaxCode is missing")
                row = (
                    tax_type, code, detail.findtext(t.Description),
                    _optional_rate(detail.findtext(t.TaxPercentage), "TaxPercentage"),
                    detail.findtext(t.Country), detail.findtext(t.StandardTaxCode),
                    _date(detail.findtext(t.EffectiveDate), "EffectiveDate", required=False),
                    _date(detail.findtext(t.ExpirationDate), "ExpirationDate", required=False),
                    _optional_rate(detail.findtext(t.BaseRate), "BaseRate"),
                )
            except _Bad as bad:
                self._quarantine(locator, bad, detail)
                continue
            self.loader.add("tax_codes", row)

    # -- general ledger ------------------------------------------------------------------------------------
    def control_total(self, element: Any) -> None:
        name = self._local(element)
        text = (element.text or "").strip()
        try:
            self.declared[name] = int(text) if name == "NumberOfEntries" else _amount(text, name, allow_negative=True)
        except (ValueError, _Bad):
            self.declared[name] = text  # unreadable: reported as is in the control-totals finding

    def transaction(self, tx: Any) -> None:
        t = self.t
        journal = tx.getparent()
        if journal is not self.journal:
            self.journal = journal
            self.journal_index += 1
            self.transaction_index = 0
            self.journal_id = journal.findtext(t.JournalID)
            self.journal_description = journal.findtext(t.Description)
        self.transaction_index += 1
        self.transactions_read += 1
        locator = f"/AuditFile/GeneralLedgerEntries/Journal[{self.journal_index}]/Transaction[{self.transaction_index}]"
        # One pass over the children is several times faster than a find() per field on big files.
        line_tag = t.Line
        fields: dict[str, str | None] = {}
        lines = []
        for child in tx:
            tag = child.tag
            if tag == line_tag:
                lines.append(child)
            elif tag not in fields:
                fields[tag] = child.text
        get = fields.get
        try:
            entry_id = (get(t.TransactionID) or "").strip()
            if not entry_id:
                raise _Bad("missing_element", "TransactionID is missing")
            document_date = _date(get(t.TransactionDate), "TransactionDate")
            posting_date = _date(get(t.GLPostingDate), "GLPostingDate")
            created_at = _timestamp(get(t.SystemEntryDate), "SystemEntryDate")
            changed_at = _timestamp(get(t.ModificationDate), "ModificationDate", required=False)
            period_text = (get(t.Period) or "").strip()
            year_text = (get(t.PeriodYear) or "").strip()
            period_year = int(year_text) if year_text.isdigit() else None
            if period_text.isdigit() and period_year:
                period = f"{period_year}-{int(period_text):02d}"
            else:
                period = period_text or None
            if not lines:
                raise _Bad("no_lines", "the Transaction has no Line elements")
        except _Bad as bad:
            if lines:
                for number, line in enumerate(lines, start=1):
                    self.rows_read += 1
                    self._quarantine(f"{locator}/Line[{number}]", _Bad(bad.code, f"transaction: {bad.reason}"), line)
            else:
                self.rows_read += 1
                self._quarantine(locator, bad, tx)
            return
        tx_party = get(t.CustomerID) or get(t.SupplierID)
        day_prefix = created_at.date().isoformat() if created_at is not None else None
        first_time: str | None = None
        loaded_lines = 0
        for number, line in enumerate(lines, start=1):
            self.rows_read += 1
            try:
                row, entry_time = self._line(line, entry_id, number, tx_party)
            except _Bad as bad:
                self._quarantine(f"{locator}/Line[{number}]", bad, line)
                continue
            # ISO date-times sort as text: keep the earliest on the SystemEntryDate, parse it once below.
            on_day = entry_time and day_prefix and entry_time.startswith(day_prefix)
            if on_day and (first_time is None or entry_time < first_time):
                first_time = entry_time
            # Staging extras: the transaction's ordinal and the line's position, for duplicate detection at load.
            self.loader.add_line((*row, self.transactions_read, number))
            loaded_lines += 1
        if loaded_lines == 0:
            return
        if first_time is not None and created_at is not None and created_at.time() == datetime.min.time():
            with suppress(_Bad):  # the line's time is optional detail; SystemEntryDate stays authoritative
                created_at = _timestamp(first_time, "SystemEntryTime") or created_at
        status = "changed" if changed_at is not None and created_at is not None and \
            changed_at.date() > created_at.date() else "posted"
        self.loader.add_entry((
            entry_id, self.journal_id, self.journal_description, period, period_year, posting_date, document_date,
            created_at, (get(t.SourceID) or "").strip() or None, changed_at, None, status, get(t.Description),
            get(t.SystemID) or get(t.BatchID), get(t.VoucherType), self.transactions_read, locator,
        ))

    def _line(self, line: Any, entry_id: str, number: int,
              tx_party: str | None) -> tuple[tuple[Any, ...], str | None]:
        t = self.t
        debit_tag, credit_tag, tax_tag = t.DebitAmount, t.CreditAmount, t.TaxInformation
        fields: dict[str, Any] = {}
        taxes = []
        for child in line:
            tag = child.tag
            if tag == tax_tag:
                taxes.append(child)
            elif tag in (debit_tag, credit_tag):
                if tag in fields:
                    raise _Bad("duplicate_element", f"the Line has two {self._local(child)} elements")
                fields[tag] = child
            elif tag not in fields:
                fields[tag] = child.text
        get = fields.get
        account_id = (get(t.AccountID) or "").strip()
        if not account_id:
            raise _Bad("missing_element", "AccountID is missing")
        debit_node = get(debit_tag)
        credit_node = get(credit_tag)
        if debit_node is not None and credit_node is not None:
            raise _Bad("both_sides", "the Line has both DebitAmount and CreditAmount")
        if debit_node is None and credit_node is None:
            raise _Bad("missing_amount", "the Line has neither DebitAmount nor CreditAmount")
        if debit_node is not None:
            debit, credit = _cents(_amount_text(debit_node, t), "DebitAmount"), 0
        else:
            debit, credit = 0, _cents(_amount_text(credit_node, t), "CreditAmount")
        tax_code = None
        tax_amount = None
        for info in taxes:
            tax_code = tax_code or info.findtext(t.TaxCode)
            for tag in (t.TaxAmount, t.DebitTaxAmount, t.CreditTaxAmount):
                node = info.find(tag)
                if node is not None:
                    cents = _cents(_amount_text(node, t), "TaxAmount", allow_negative=True)
                    tax_amount = cents if tax_amount is None else tax_amount + cents
        record = get(t.RecordID)
        line_no = int(record) if record and record.strip().isdigit() and len(record.strip()) < 10 else number
        party = get(t.CustomerID) or get(t.SupplierID) or tx_party
        row = (entry_id, line_no, account_id, party, debit, credit, self.currency, tax_code, tax_amount,
               get(t.Description))
        return row, get(t.SystemEntryTime)

    # -- source documents ----------------------------------------------------------------------------------
    def invoice(self, element: Any, book: str) -> None:
        t = self.t
        self.rows_read += 1
        section = "SalesInvoices" if book == "sales" else "PurchaseInvoices"
        locator = f"/AuditFile/SourceDocuments/{section}/Invoice[{self._next_index(section)}]"
        try:
            number = (element.findtext(t.InvoiceNo) or "").strip()
            if not number:
                raise _Bad("missing_element", "InvoiceNo is missing")
            invoice_date = _date(element.findtext(t.InvoiceDate), "InvoiceDate")
            totals = element.find(t.DocumentTotals)
            if totals is None:
                raise _Bad("missing_element", "DocumentTotals is missing")
            net = _amount(totals.findtext(t.NetTotal), "NetTotal", allow_negative=True)
            gross = _optional_amount(totals, t.GrossTotal, "GrossTotal")
            vat: Decimal | None = None
            rates: set[Decimal] = set()
            for info in totals.iter(t.TaxInformationTotals, t.TaxInformation):
                rate = _optional_rate(info.findtext(t.TaxPercentage), "TaxPercentage")
                if rate is not None:
                    rates.add(rate)
                for tag in (t.TaxAmount, t.DebitTaxAmount, t.CreditTaxAmount):
                    node = info.find(tag)
                    if node is not None:
                        value = _amount(_amount_text(node, t), "TaxAmount", allow_negative=True)
                        vat = value if vat is None else vat + value
            if vat is None and gross is not None:
                vat = gross - net
            if book == "sales":
                info = element.find(t.CustomerInfo)
                party = info.findtext(t.CustomerID) if info is not None else None
                seller, buyer = self.company_tax_id, self.customer_tax_ids.get(party or "") or party
            else:
                info = element.find(t.SupplierInfo)
                party = info.findtext(t.SupplierID) if info is not None else None
                seller, buyer = self.supplier_tax_ids.get(party or "") or party, self.company_tax_id
            period_text = (element.findtext(t.Period) or "").strip()
            year_text = (element.findtext(t.PeriodYear) or "").strip()
            period = f"{year_text}-{int(period_text):02d}" if period_text.isdigit() and year_text.isdigit() \
                else (period_text or None)
        except _Bad as bad:
            self._quarantine(locator, bad, element)
            return
        rate = next(iter(rates)) if len(rates) == 1 else None
        self.loader.add("invoices", (book, seller, buyer, number, invoice_date, net, vat, rate, self.currency, period))


def _amount_text(node: Any, t: _Tags) -> str | None:
    """Return an amount's text from an AmountStructure (``<Amount>`` child) or a plain element."""
    amount_tag = t.Amount
    for child in node:
        if child.tag == amount_tag:
            return child.text
    return node.text


def _optional_rate(text: str | None, what: str) -> Decimal | None:
    if text is None or not text.strip():
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise _Bad("bad_amount", f"{what} {text.strip()!r} is not a number") from None
    if not value.is_finite() or abs(value) >= 100000:
        raise _Bad("bad_amount", f"{what} {text.strip()!r} is out of range")
    return value.quantize(Decimal("0.0001"))


def schema_path(option: str | None) -> Path:
    """Return the XSD to validate against: the option, else ``$TAXAUDIT_SAFT_XSD``; explain when neither is set."""
    chosen = option or os.environ.get(SCHEMA_ENV)
    if not chosen:
        raise IngestError(
            "--validate needs the official SAF-T XSD, which taxaudit does not ship (its licence is unstated)",
            hint=f"download the schema from the tax administration and pass --schema FILE or set {SCHEMA_ENV}",
        )
    path = Path(chosen)
    if not path.is_file():
        raise IngestError("the XSD file does not exist", where=str(path), hint=f"check --schema or {SCHEMA_ENV}")
    return path


def validate(path: Path, xsd: Path, where: str, limit: int = 50) -> tuple[int, list[dict[str, str]]]:
    """Return (error count, first ``limit`` errors) of validating ``path`` against ``xsd``, streaming.

    Uses xmlschema's lazy mode so memory stays flat; the document is read with entity expansion and network
    access disabled (``defuse='always'``, ``allow='sandbox'``).
    """
    import xmlschema

    try:
        schema = xmlschema.XMLSchema(str(xsd), allow="sandbox", defuse="always")
    except (xmlschema.XMLSchemaException, etree.XMLSyntaxError, OSError) as exc:
        raise SchemaValidationError(f"cannot load the XSD: {exc}", where=str(xsd),
                                    hint="point --schema at the official .xsd file") from exc
    resource = xmlschema.XMLResource(str(path), lazy=True, defuse="always", allow="sandbox")
    count = 0
    errors: list[dict[str, str]] = []
    for error in schema.iter_errors(resource):
        count += 1
        if len(errors) < limit:
            errors.append({"path": str(error.path or ""), "reason": str(error.reason or error.message)})
    return count, errors


def _control_findings(reader: SaftReader, loader: Loader, source_id: str) -> list[Finding]:
    declared = reader.declared
    if not declared:
        return []
    totals = loader.totals
    loaded = {"NumberOfEntries": totals.entries, "TotalDebit": totals.debit, "TotalCredit": totals.credit}
    differences = {k: (declared[k], loaded[k]) for k in loaded if k in declared and declared[k] != loaded[k]}
    if not differences:
        return []
    parts = [f"{k} declared {fmt(v[0]) if isinstance(v[0], Decimal) else v[0]}, "
             f"loaded {fmt(v[1]) if isinstance(v[1], Decimal) else v[1]}" for k, v in differences.items()]
    gap = max((abs(v[0] - v[1]) for k, v in differences.items()
               if isinstance(v[0], Decimal) and isinstance(v[1], Decimal)), default=None)
    note = f"; {loader.quarantined} rows were quarantined" if loader.quarantined else ""
    return [Finding(
        check_id="integrity.header_control_totals",
        severity="high",
        message=f"SAF-T header control totals disagree with the entries read: {'; '.join(parts)}{note}",
        subject_table="sources",
        subject_key=source_id,
        amount=gap,
        citation=CONTROL_TOTALS_CITATION,
        evidence={
            "declared": {k: str(v) for k, v in declared.items()},
            "loaded": {k: str(v) for k, v in loaded.items()},
            "transactions_read": reader.transactions_read,
            "rows_quarantined": loader.quarantined,
        },
        check_version="1",
    )]


PARALLEL_MIN_BYTES = 64 << 20


def parallel_worthwhile(path: Path) -> bool:
    """Return True when a second process would pay off: a big file and a second core."""
    return (os.cpu_count() or 1) >= 2 and path.stat().st_size >= PARALLEL_MIN_BYTES and \
        os.environ.get("TAXAUDIT_SAFT_PARALLEL", "1") != "0"


def consume(reader: SaftReader, source: Any) -> None:
    """Run one hardened iterparse pass over ``source`` (a binary file-like object), feeding ``reader``."""
    t = reader.t
    where = reader.where
    handlers: dict[str, Callable[[Any], None]] = {
        t.Header: reader.header_element,
        t.Account: reader.account,
        t.Customer: lambda e: reader.party(e, "customer"),
        t.Supplier: lambda e: reader.party(e, "supplier"),
        t.TaxTableEntry: reader.tax_table_entry,
        t.Transaction: reader.transaction,
    }
    parents_of_totals = {t.GeneralLedgerEntries}
    invoice_books = {t.SalesInvoices: "sales", t.PurchaseInvoices: "purchases"}
    skipped = {getattr(t, name) for name in SKIPPED_RECORDS}
    tags = [*handlers, t.NumberOfEntries, t.TotalDebit, t.TotalCredit, t.Invoice, t.Journal, *skipped]
    try:
        context = etree.iterparse(source, events=("end",), tag=tags, **HARDENED)
        checked_dtd = False
        for _event, element in context:
            if not checked_dtd:
                refuse_dtd(element.getroottree(), where)
                checked_dtd = True
            tag = element.tag
            parent = element.getparent()
            if tag in handlers:
                if tag == t.Account and parent is not None and parent.tag != t.GeneralLedgerAccounts:
                    continue  # an <Account> inside another record is handled with that record
                handlers[tag](element)
            elif tag == t.Invoice and parent is not None and parent.tag in invoice_books:
                reader.invoice(element, invoice_books[parent.tag])
            elif tag in (t.NumberOfEntries, t.TotalDebit, t.TotalCredit):
                if parent is not None and parent.tag in parents_of_totals:
                    reader.control_total(element)
                continue  # small and inside a section; cleared with it
            elif tag != t.Journal and tag not in skipped:
                continue
            element.clear(keep_tail=False)
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as error:
        raise xml_error(error, where) from error


def parse(path: Path, loader: Loader, options: IngestOptions, progress: Callable[[int], None]) -> ParseOutcome:
    """Stream a SAF-T file into the loader and return its header, counts and control-total findings."""
    where = loader.source_name or path.name
    namespace, local = root_element(path, where)
    if local != "AuditFile" or not namespace_allowed(namespace):
        raise IngestError(
            f"not a SAF-T Financial file: the root element is {{{namespace}}}{local}",
            where=where,
            hint="expected <AuditFile> in urn:StandardAuditFile-Taxation-Financial:NO (Norway 1.10-1.30) or "
                 "urn:OECD:StandardAuditFile-Tax:2.00; for CSV ledgers use --format csv --mapping FILE",
        )
    findings: list[Finding] = []
    details: dict[str, Any] = {"namespace": namespace}
    if options.validate:
        xsd = schema_path(options.schema)
        count, errors = validate(path, xsd, where)
        details["schema"] = {"xsd": str(xsd), "errors": count}
        if count:
            findings.append(Finding(
                check_id="integrity.schema_validation", severity="high",
                message=f"the file does not validate against {xsd.name}: {count} schema errors "
                        f"(first: {errors[0]['path']}: {errors[0]['reason']})",
                subject_table="sources", subject_key=loader.source_id, citation=f"XSD {xsd.name}",
                evidence={"errors": errors, "error_count": count}, check_version="1"))
    loader.extras = True
    parsed = None
    if parallel_worthwhile(path):
        from taxaudit.ingest.saft_parallel import parse_in_two_parts

        parsed = parse_in_two_parts(path, loader, namespace, where, progress)
    if parsed is None:
        reader = SaftReader(loader, namespace, where)
        with path.open("rb") as handle:
            consume(reader, CountingReader(handle, progress))
        parts = [StagedPart(loader.take_staged())]
    else:
        reader, parts = parsed
    if reader.header:
        load_parts(loader, parts)
    if not reader.header:
        raise IngestError("the SAF-T file has no Header", where=where,
                          hint="a SAF-T audit file must start with <Header>; ask for a complete export")
    findings.extend(_control_findings(reader, loader, loader.source_id))
    declared = reader.declared
    header_row = {k: v for k, v in reader.header.items() if k != "format_version"}
    header_row["declared_entries"] = declared.get("NumberOfEntries") if isinstance(
        declared.get("NumberOfEntries"), int) else None
    header_row["declared_total_debit"] = declared.get("TotalDebit") if isinstance(
        declared.get("TotalDebit"), Decimal) else None
    header_row["declared_total_credit"] = declared.get("TotalCredit") if isinstance(
        declared.get("TotalCredit"), Decimal) else None
    details["transactions_read"] = reader.transactions_read
    return ParseOutcome(format_version=reader.header.get("format_version"), rows_read=reader.rows_read,
                        header=header_row, findings=findings, details=details)
