"""QuickBooks Desktop ingest: IIF files and the Audit Trail report exported to CSV or XLSX.

**IIF** (Intuit Interchange Format) is tab-separated text, usually Windows-1252. A line starting with ``!``
declares the columns of a record type (``!HDR``, ``!TRNS``, ``!SPL``, ``!ENDTRNS``, ``!ACCNT``, ``!CUST``,
``!VEND``, ``!EMP``, ``!OTHERNAME``); the lines after it carry records of that type. HDR (the exporting
program) becomes the format version; list types that are not books (INVITEM, CLASS, CTYPE, ...) are
quarantined as ``unsupported_record`` so nothing is silently dropped. A transaction is one ``TRNS`` line, its
``SPL`` (split) lines and an ``ENDTRNS`` line. Amounts are signed: positive debits, negative credits; the splits
negate the TRNS line so a balanced transaction sums to zero. Dates are ``MM/DD/YYYY`` (or ``M/D/YY``).
Source rows: every TRNS, SPL and list line (the ``!`` headers and ENDTRNS are structure). Locator: ``line N``.

**Audit Trail** (Reports > Accountant & Taxes > Audit Trail, exported): after a title block, a header row with
``Type, Num, Entered/Last Modified, Last modified by, State, Date, Name, Memo, Account, Split, Debit, Credit``
(Type may be missing); group rows "Transactions entered or modified by USER"; a heading row per transaction
("Check 1041"); then one row per split of each version of the transaction: the ``Latest`` version first and the
``Prior`` versions under it. A deleted transaction's latest version has State ``Deleted`` (or the memo
"Deleted") and zero amounts; a voided one has amounts of zero and a memo starting ``VOID``. The latest version
goes to ``journal_entries``/``journal_lines`` (with ``created_at/by`` from the oldest version,
``changed_at/by`` from the latest and ``status`` posted|changed|deleted|voided); every prior version row goes
to ``entry_versions``. Source rows: every split row of every version. Locator: ``row N``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from taxaudit.errors import IngestError, SourceEncodingError
from taxaudit.ingest.loader import Loader
from taxaudit.ingest.pipeline import IngestOptions, ParseOutcome
from taxaudit.model.entry_versions import ensure_entry_versions
from taxaudit.model.money import AmountError, parse_amount

ZERO = Decimal("0.00")
PARTY_LISTS = {"CUST": "customer", "VEND": "supplier", "EMP": "employee", "OTHERNAME": "other"}
IIF_KEYWORDS = (b"TRNS", b"SPL", b"ENDTRNS", b"ACCNT", b"CUST", b"VEND", b"EMP", b"OTHERNAME", b"CLASS",
                b"INVITEM", b"HDR")


class _Bad(Exception):
    """A row-level problem: the row goes to quarantine with this reason code and text."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def decode(path: Path, where: str) -> tuple[str, str]:
    """Return the text of an export and the encoding it was read with: UTF-8 (with or without BOM) when the
    bytes are valid UTF-8, else Windows-1252 (what QuickBooks Desktop writes on US/Western systems)."""
    data = path.read_bytes()
    if b"\x00" in data[:65536]:
        raise IngestError("the file contains NUL bytes: it is binary (a .QBW/.QBB company file or UTF-16 "
                          "text?), not a QuickBooks text export", where=where,
                          hint="export the report or IIF as text from QuickBooks (File > Utilities > Export, or the "
                               "report's Excel > Create New Worksheet > CSV)")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise SourceEncodingError(f"the file is neither UTF-8 nor Windows-1252 text: byte {data[exc.start]:#04x} at "
                                  f"offset {exc.start} is undefined in Windows-1252", where=where,
                                  hint="re-export from QuickBooks, or convert the file to UTF-8 first") from None


def parse_qb_date(text: str | None, what: str) -> date:
    """Return the date of a QuickBooks date field: MM/DD/YYYY, M/D/YY or ISO YYYY-MM-DD."""
    value = (text or "").strip()
    if not value:
        raise _Bad("missing_date", f"{what} is missing")
    for pattern in ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise _Bad("bad_date", f"{what} {value!r} is not a date (QuickBooks writes MM/DD/YYYY)")


def parse_qb_timestamp(value: Any, what: str) -> datetime:
    """Return the timestamp of an Entered/Last Modified field (``MM/DD/YYYY HH:MM:SS``, 12-hour with AM/PM, or
    a spreadsheet date-time)."""
    if isinstance(value, datetime):
        return value
    text = re.sub(r"\s+", " ", str(value or "").strip())
    if not text:
        raise _Bad("missing_timestamp", f"{what} is missing")
    for pattern in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p",
                    "%m/%d/%y %H:%M:%S", "%m/%d/%y %I:%M:%S %p", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise _Bad("bad_timestamp", f"{what} {text!r} is not a date and time (MM/DD/YYYY HH:MM:SS)")


def parse_qb_amount(text: Any, what: str, *, blank_is_zero: bool = False) -> Decimal:
    """Return a QuickBooks amount exactly: optional thousands commas, a minus sign or parentheses for negatives."""
    if isinstance(text, int | float | Decimal) and not isinstance(text, bool):
        text = f"{Decimal(str(text)):f}"
    value = (text or "").strip()
    if not value and blank_is_zero:
        return ZERO
    try:
        return parse_amount(value, decimal_separator=".", thousands_separator=",")
    except AmountError as exc:
        raise _Bad("bad_amount", f"{what} {value!r}: {exc}") from None


def entry_key(kind: str, number: str | None, fallback: str, taken: set[str]) -> str:
    """Return the entry id QuickBooks shows for a transaction: its type and number ("Check 1041"), or the type
    and ``fallback`` in parentheses when it has no number. A number used twice gets a trailing ``*`` so the
    numbering check still sees the same number twice."""
    entry_id = f"{kind} {number}" if number else f"{kind} ({fallback})"
    while entry_id in taken:
        entry_id += "*"
    return entry_id


def _period(day: date) -> tuple[str, int]:
    return f"{day.year}-{day.month:02d}", day.year


# --------------------------------------------------------------------------------------------------- IIF ----
@dataclass
class _IifTransaction:
    rows: list[tuple[int, str, dict[str, str], str]] = field(default_factory=list)  # (line, key, record, raw)


class IifFormat:
    """The IIF format module (``--format iif``)."""

    NAME = "iif"

    def sniff(self, head: bytes) -> bool:
        """Return True when one of the first lines is an IIF header line such as ``!TRNS`` or ``!ACCNT``."""
        for line in head.lstrip(b"\xef\xbb\xbf").splitlines()[:50]:
            if line.startswith(b"!") and line[1:].split(b"\t", 1)[0].strip().upper() in IIF_KEYWORDS:
                return True
        return False

    def parse(self, path: Path, loader: Loader, options: IngestOptions,
              progress: Callable[[int], None]) -> ParseOutcome:
        """Load the accounts, names and transactions of an IIF file; bad rows go to quarantine."""
        where = loader.source_name or path.name
        text, encoding = decode(path, where)
        reader = _IifReader(loader, where)
        reader.read(text, progress)
        program = " ".join(v for v in (reader.hdr.get("PROD"), reader.hdr.get("VER"), reader.hdr.get("REL")) if v)
        return ParseOutcome(format_version=f"IIF ({program})" if program else "IIF", rows_read=reader.rows_read,
                            details={"encoding": encoding, "transactions": reader.transactions,
                                     "record_types": dict(sorted(reader.record_types.items())),
                                     "hdr": reader.hdr})


def _split_iif(line: str) -> list[str]:
    fields = line.split("\t")
    out = []
    for value in fields:
        value = value.strip("\r")
        if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
            value = value[1:-1].replace('""', '"')
        out.append(value)
    return out


class _IifReader:
    def __init__(self, loader: Loader, where: str) -> None:
        self.loader = loader
        self.where = where
        self.rows_read = 0
        self.transactions = 0
        self.headers: dict[str, list[str]] = {}
        self.record_types: dict[str, int] = {}
        self.accounts: set[str] = set()
        self.parties: set[tuple[str, str]] = set()
        self.entry_ids: set[str] = set()
        self.trnsids: set[str] = set()
        self.open: _IifTransaction | None = None
        self.hdr: dict[str, str] = {}

    def read(self, text: str, progress: Callable[[int], None]) -> None:
        done = 0
        saw_header = False
        for number, raw in enumerate(text.splitlines(), start=1):
            done += len(raw) + 1
            if number % 5000 == 0:
                progress(done)
            if not raw.strip():
                continue
            fields = _split_iif(raw)
            key = fields[0].strip().upper()
            if key.startswith("!"):
                saw_header = True
                self.headers[key[1:]] = [name.strip().upper() for name in fields]
                continue
            if key == "ENDTRNS":
                self._end_transaction(number, raw)
                continue
            if key == "HDR":  # the exporting program and version: file metadata, not a ledger row
                header = self.headers.get(key, [])
                self.hdr = {name: fields[i].strip() for i, name in enumerate(header) if i and i < len(fields)}
                continue
            self.rows_read += 1
            self.record_types[key] = self.record_types.get(key, 0) + 1
            header = self.headers.get(key)
            if header is None:
                self.loader.quarantine(f"line {number}", "no_header",
                                       f"{key or 'an empty record type'} row before any !{key} header line", raw)
                continue
            record = {name: (fields[i].strip() if i < len(fields) else "") for i, name in enumerate(header) if i}
            if key == "TRNS":
                if self.open is not None:
                    self._quarantine_open("unterminated_transaction",
                                          f"transaction has no ENDTRNS before the next TRNS at line {number}")
                self.open = _IifTransaction([(number, key, record, raw)])
            elif key == "SPL":
                if self.open is None:
                    self.loader.quarantine(f"line {number}", "orphan_split", "SPL line outside a TRNS ... ENDTRNS "
                                           "transaction", raw)
                else:
                    self.open.rows.append((number, key, record, raw))
            elif key == "ACCNT":
                self._account(number, record, raw)
            elif key in PARTY_LISTS:
                self._party(number, key, record, raw)
            else:
                self.loader.quarantine(f"line {number}", "unsupported_record",
                                       f"{key} records (items, classes, terms ...) are not part of the books", raw)
        if self.open is not None:
            self._quarantine_open("unterminated_transaction", "the file ends inside a transaction (no ENDTRNS)")
        if not saw_header:
            raise IngestError("no IIF header line (!TRNS, !ACCNT, ...) in the file", where=self.where,
                              hint="this is not an IIF export; give --format explicitly if it is another format")

    def _quarantine_open(self, code: str, reason: str) -> None:
        assert self.open is not None
        for number, _key, _record, raw in self.open.rows:
            self.loader.quarantine(f"line {number}", code, reason, raw)
        self.open = None

    def _account(self, number: int, record: dict[str, str], raw: str) -> None:
        try:
            name = record.get("NAME", "")
            if not name:
                raise _Bad("missing_field", "ACCNT NAME is empty")
            if name in self.accounts:
                raise _Bad("duplicate_key", f"account {name!r} is listed twice")
            opening = parse_qb_amount(record.get("OBAMOUNT"), "OBAMOUNT", blank_is_zero=True)
        except _Bad as bad:
            self.loader.quarantine(f"line {number}", bad.code, bad.reason, raw)
            return
        self.accounts.add(name)
        self.loader.add("accounts", (
            name, record.get("DESC") or name, record.get("ACCNTTYPE") or None, record.get("ACCNUM") or None, None,
            opening if opening > 0 else ZERO, -opening if opening < 0 else ZERO, None, None))

    def _party(self, number: int, key: str, record: dict[str, str], raw: str) -> None:
        role = PARTY_LISTS[key]
        name = record.get("NAME", "")
        if not name or (role, name) in self.parties:
            reason = f"{key} NAME is empty" if not name else f"{key} {name!r} is listed twice"
            self.loader.quarantine(f"line {number}", "missing_field" if not name else "duplicate_key", reason, raw)
            return
        self.parties.add((role, name))
        full_name = " ".join(p for p in (record.get("FIRSTNAME"), record.get("LASTNAME")) if p) or name
        self.loader.add("parties", (name, role, record.get("COMPANYNAME") or full_name,
                                    record.get("TAXID") or None, None, None, None, None, None, None))

    def _end_transaction(self, number: int, raw: str) -> None:
        if self.open is None:
            return  # a stray ENDTRNS carries no data; nothing to load or lose
        transaction, self.open = self.open, None
        self.transactions += 1
        head_line, _, head, _ = transaction.rows[0]
        try:
            posting_date = parse_qb_date(head.get("DATE"), "TRNS DATE")
            trnsid = head.get("TRNSID") or ""
            if trnsid and trnsid in self.trnsids:
                raise _Bad("duplicate_key", f"TRNSID {trnsid} appears twice")
            kind = (head.get("TRNSTYPE") or "Transaction").title()
            docnum = head.get("DOCNUM") or ""
            entry_id = entry_key(kind, docnum, f"TRNSID {trnsid}" if trnsid else f"line {head_line}",
                                 self.entry_ids)
        except _Bad as bad:
            for line, _key, _record, text in transaction.rows:
                self.loader.quarantine(f"line {line}", bad.code, f"transaction at line {head_line}: {bad.reason}",
                                       text)
            return
        self.entry_ids.add(entry_id)
        if trnsid:
            self.trnsids.add(trnsid)
        loaded = 0
        for line_no, (line, key, record, text) in enumerate(transaction.rows, start=1):
            try:
                account = record.get("ACCNT", "")
                if not account:
                    raise _Bad("missing_field", f"{key} ACCNT is empty")
                amount = parse_qb_amount(record.get("AMOUNT"), f"{key} AMOUNT")
            except _Bad as bad:
                self.loader.quarantine(f"line {line}", bad.code, bad.reason, text)
                continue
            loaded += 1
            self.loader.add_line((entry_id, line_no, account, record.get("NAME") or None,
                                  amount if amount > 0 else ZERO, -amount if amount < 0 else ZERO, None, None, None,
                                  record.get("MEMO") or None))
        if loaded:
            period, year = _period(posting_date)
            self.loader.add_entry((entry_id, kind, kind, period, year, posting_date, posting_date, None, None, None,
                                   None, "posted", head.get("MEMO") or head.get("NAME") or None, trnsid or None,
                                   head.get("TRNSTYPE") or None))


# ------------------------------------------------------------------------------------------- Audit Trail ----
AUDIT_COLUMNS = {"type": "type", "num": "num", "entered/last modified": "entered", "last modified by": "user",
                 "state": "state", "date": "date", "name": "name", "memo": "memo", "account": "account",
                 "split": "split", "debit": "debit", "credit": "credit"}
REQUIRED_AUDIT_COLUMNS = ("entered", "user", "state", "date", "account", "debit", "credit")
USER_GROUP = re.compile(r"^transactions\s+entered\s+or\s+modified\s+by\s+(.+)$", re.IGNORECASE)
HEADING = re.compile(r"^(?P<type>[A-Za-z][A-Za-z .&/-]*?)(?:\s+(?P<num>\S*\d\S*))?$")


@dataclass
class _Version:
    state: str
    entered: datetime
    user: str
    rows: list[tuple[int, dict[str, Any], str]] = field(default_factory=list)


@dataclass
class _AuditTransaction:
    heading: str
    row: int
    type: str
    num: str | None
    versions: list[_Version] = field(default_factory=list)


class AuditTrailFormat:
    """The QuickBooks Audit Trail report format module (``--format qb_audit_trail``; CSV sniffed, XLSX named)."""

    NAME = "qb_audit_trail"

    def sniff(self, head: bytes) -> bool:
        """Return True for a CSV whose first lines hold the Audit Trail header (Entered/Last Modified, State)."""
        return b"Entered/Last Modified" in head and b"Last modified by" in head and b"State" in head

    def parse(self, path: Path, loader: Loader, options: IngestOptions,
              progress: Callable[[int], None]) -> ParseOutcome:
        """Load the latest version of each transaction as an entry and its prior versions into entry_versions."""
        where = loader.source_name or path.name
        ensure_entry_versions(loader.con)
        with path.open("rb") as handle:
            is_xlsx = handle.read(4) == b"PK\x03\x04"
        if is_xlsx:
            rows, encoding = _xlsx_rows(path, where), "xlsx"
        else:
            text, encoding = decode(path, where)
            rows = ([cell for cell in row] for row in csv.reader(io.StringIO(text, newline="")))
        reader = _AuditReader(loader, where)
        reader.read(rows, progress)
        return ParseOutcome(format_version="QuickBooks Audit Trail", rows_read=reader.rows_read,
                            details={"encoding": encoding, "transactions": reader.transactions,
                                     "prior_version_rows": reader.prior_rows,
                                     "statuses": dict(sorted(reader.statuses.items()))})


def _xlsx_rows(path: Path, where: str) -> Iterator[list[Any]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    handle = path.open("rb")  # a file object: the evidence copy has no .xlsx suffix for openpyxl to check
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError, InvalidFileException) as exc:
        handle.close()
        raise IngestError(f"cannot read the XLSX workbook: {exc}", where=where,
                          hint="open it in Excel and save it again as .xlsx, or export the report as CSV") from None
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield ["" if value is None else value for value in row]
    finally:
        workbook.close()
        handle.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%m/%d/%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%m/%d/%Y")
    return str(value).strip()


class _AuditReader:
    def __init__(self, loader: Loader, where: str) -> None:
        self.loader = loader
        self.where = where
        self.rows_read = 0
        self.prior_rows = 0
        self.transactions = 0
        self.statuses: dict[str, int] = {}
        self.columns: dict[str, int] = {}
        self.entry_ids: set[str] = set()
        self.current: _AuditTransaction | None = None

    def read(self, rows: Iterator[list[Any]], progress: Callable[[int], None]) -> None:
        for number, cells in enumerate(rows, start=1):
            if number % 5000 == 0:
                progress(number)
            if not self.columns:
                self._header(cells)
                continue
            values = {key: cells[i] if i < len(cells) else "" for key, i in self.columns.items()}
            text = {key: _cell(value) for key, value in values.items()}
            raw = ",".join(_cell(c) for c in cells)
            if not any(_cell(c) for c in cells):
                continue
            if not (text["account"] or text["debit"] or text["credit"] or text["state"]):
                self._heading(number, [_cell(c) for c in cells if _cell(c)])
                continue
            self.rows_read += 1
            if self.current is None:
                self.loader.quarantine(f"row {number}", "no_transaction_heading",
                                       "a split row before any transaction heading (e.g. 'Check 1041')", raw)
                continue
            self._version_row(number, values, text, raw)
        if not self.columns:
            raise IngestError("no Audit Trail header row (Entered/Last Modified, Last modified by, State, ...) found",
                              where=self.where, hint="export the QuickBooks Audit Trail report with its column "
                                                     "headers, or give the right --format")
        self._finish()

    def _header(self, cells: list[Any]) -> None:
        names = [_cell(c).lower() for c in cells]
        if "entered/last modified" not in names or "state" not in names:
            return
        self.columns = {AUDIT_COLUMNS[name]: i for i, name in enumerate(names) if name in AUDIT_COLUMNS}
        missing = [c for c in REQUIRED_AUDIT_COLUMNS if c not in self.columns]
        if missing:
            raise IngestError(f"the Audit Trail header lacks the column(s) {', '.join(missing)}", where=self.where,
                              hint="export the report with its default columns (Customize Report > Display)")

    def _heading(self, number: int, texts: list[str]) -> None:
        label = texts[0]
        if USER_GROUP.match(label) or label.lower().startswith("total") or len(texts) > 1:
            return  # user groups, totals and title lines structure the report; they carry no ledger data
        self._finish()
        match = HEADING.match(label)
        kind, num = (match.group("type").strip(), match.group("num")) if match else (label, None)
        self.current = _AuditTransaction(label, number, kind, num)

    def _version_row(self, number: int, values: dict[str, Any], text: dict[str, str], raw: str) -> None:
        assert self.current is not None
        versions = self.current.versions
        try:
            state = text["state"] or (versions[-1].state if versions else "")
            if not state:
                raise _Bad("missing_state", "State is empty on the first row of a version")
            entered = (parse_qb_timestamp(values["entered"], "Entered/Last Modified") if text["entered"]
                       else versions[-1].entered if versions else None)
            if entered is None:
                raise _Bad("missing_timestamp", "Entered/Last Modified is empty on the first row of a version")
            user = text["user"] or (versions[-1].user if versions and text["state"] == "" else "")
            row = {
                "date": parse_qb_date(text["date"], "Date") if text["date"] else None,
                "name": text["name"] or None, "memo": text["memo"] or None, "account": text["account"],
                "debit": parse_qb_amount(values["debit"], "Debit", blank_is_zero=True),
                "credit": parse_qb_amount(values["credit"], "Credit", blank_is_zero=True),
                "num": text.get("num") or None,
            }
        except _Bad as bad:
            self.loader.quarantine(f"row {number}", bad.code, bad.reason, raw)
            return
        if not versions or versions[-1].entered != entered or versions[-1].state != state:
            versions.append(_Version(state, entered, user))
        versions[-1].rows.append((number, row, raw))

    def _finish(self) -> None:
        transaction, self.current = self.current, None
        if transaction is None or not transaction.versions:
            return
        self.transactions += 1
        current = next((v for v in transaction.versions if v.state.lower() in {"latest", "deleted"}), None)
        if current is None:
            for version in transaction.versions:
                for number, _row, raw in version.rows:
                    self.loader.quarantine(f"row {number}", "no_latest_version",
                                           f"{transaction.heading} (row {transaction.row}) has no Latest version", raw)
            return
        priors = sorted((v for v in transaction.versions if v is not current), key=lambda v: v.entered)
        lines = [row for _n, row, _raw in current.rows]
        memos = [row["memo"] or "" for row in lines]
        if current.state.lower() == "deleted" or any(m.strip().lower() == "deleted" for m in memos):
            status = "deleted"
        elif any(m.strip().upper().startswith("VOID") for m in memos):
            status = "voided"
        else:
            status = "changed" if priors else "posted"
        self.statuses[status] = self.statuses.get(status, 0) + 1
        entered = min(v.entered for v in transaction.versions)
        entry_id = entry_key(transaction.type, transaction.num, f"entered {entered:%Y-%m-%d %H:%M:%S}",
                             self.entry_ids)
        self.entry_ids.add(entry_id)
        dated = [row["date"] for row in lines if row["date"]] or \
            [row["date"] for v in reversed(priors) for _n, row, _r in v.rows if row["date"]]
        posting_date = dated[0] if dated else None
        for version_no, version in enumerate(priors, start=1):
            for line_no, (_number, row, _raw) in enumerate(version.rows, start=1):
                self.prior_rows += 1
                self.loader.add("entry_versions", (
                    entry_id, version_no, version.state, version.entered, version.user or None, row["date"],
                    row["num"], line_no, row["account"] or None, row["name"], row["debit"], row["credit"],
                    row["memo"]))
        for line_no, (_number, row, _raw) in enumerate(current.rows, start=1):
            self.loader.add_line((entry_id, line_no, row["account"] or "(none)", row["name"], row["debit"],
                                  row["credit"], None, None, None, row["memo"]))
        first = priors[0] if priors else current
        period, year = _period(posting_date) if posting_date else (None, None)
        # A deleted version's memo just says "Deleted": describe the entry by what it was before.
        described = [row for _n, row, _r in priors[-1].rows] if status == "deleted" and priors else lines
        description = next((r["memo"] for r in described if r["memo"]), None) or \
            next((r["name"] for r in described if r["name"]), None)
        self.loader.add_entry((
            entry_id, transaction.type, transaction.type, period, year, posting_date, posting_date,
            first.entered, first.user or None, current.entered if priors else None,
            (current.user or None) if priors else None, status, description, transaction.num, transaction.type))


IIF = IifFormat()
AUDIT_TRAIL = AuditTrailFormat()
