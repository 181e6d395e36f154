"""CSV ledger ingest for exports from any ERP, driven by a YAML mapping file.

A mapping names the file's encoding, delimiter, date format, decimal and thousands separators and which column
holds each canonical field, in one of two layouts:

- ``lines``: one row per journal line; amounts in ``debit``/``credit`` columns, or one signed ``amount`` column
  (positive = debit), or an unsigned ``amount`` with a ``side`` indicator column (``side_values``).
- ``entries``: one row per posting with ``debit_account``, ``credit_account`` and ``amount`` (1C, many
  cash-book exports); each row becomes an entry with a debit and a credit line.

Each data row is one source row: it is loaded or quarantined with its line number and the reason.
Shipped mappings live in ``taxaudit/ingest/mappings``; ``--mapping NAME`` picks one of them.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from taxaudit.errors import MappingError, SourceEncodingError
from taxaudit.ingest.loader import Loader
from taxaudit.ingest.pipeline import IngestOptions, ParseOutcome
from taxaudit.ingest.xmlsafe import CountingReader
from taxaudit.model.money import AmountError, parse_amount

NAME = "csv"
LAYOUTS = ("lines", "entries")
STATUSES = ("posted", "changed", "deleted", "voided")
LINE_FIELDS = ("entry_id", "line_no", "journal_id", "period", "posting_date", "document_date", "account_id",
               "party_id", "description", "debit", "credit", "amount", "side", "currency", "tax_code", "tax_amount",
               "created_at", "created_by", "changed_at", "changed_by", "status", "source_ref", "entry_description")
ENTRY_FIELDS = ("entry_id", "journal_id", "period", "posting_date", "document_date", "debit_account", "credit_account",
                "debit_party", "credit_party", "amount", "description", "currency", "created_at", "created_by",
                "changed_at", "changed_by", "status", "source_ref")
csv.field_size_limit(16 << 20)


@dataclass
class Mapping:
    """A validated CSV mapping (see the module docstring and README, 'CSV mappings')."""

    name: str
    layout: str
    columns: dict[str, str]
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    quotechar: str = '"'
    skip_rows: int = 0
    date_format: str = "%Y-%m-%d"
    datetime_format: str = "%Y-%m-%d %H:%M:%S"
    decimal_separator: str = "."
    thousands_separator: str = ""
    constants: dict[str, str] = field(default_factory=dict)
    optional: list[str] = field(default_factory=list)
    side_values: dict[str, list[str]] = field(default_factory=dict)
    source: str = ""


def shipped_mappings() -> list[str]:
    """Return the names of the mappings shipped with taxaudit."""
    folder = resources.files("taxaudit.ingest") / "mappings"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_mapping(spec: str | None) -> Mapping:
    """Return the mapping from a YAML file path or a shipped mapping name; raise MappingError if invalid."""
    if not spec:
        raise MappingError("CSV ingest needs a mapping", hint=f"pass --mapping FILE.yaml or one of: "
                                                             f"{', '.join(shipped_mappings())}")
    path = Path(spec)
    if path.is_file():
        text, where = path.read_text(encoding="utf-8"), str(path)
    elif spec in shipped_mappings():
        resource = resources.files("taxaudit.ingest") / "mappings" / f"{spec}.yaml"
        text, where = resource.read_text(encoding="utf-8"), f"shipped mapping {spec}"
    else:
        raise MappingError(f"mapping {spec!r} is neither a file nor a shipped mapping", where=spec,
                           hint=f"shipped mappings: {', '.join(shipped_mappings())}")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"the mapping is not valid YAML: {exc}", where=where) from exc
    if not isinstance(data, dict):
        raise MappingError("the mapping must be a YAML mapping of settings", where=where)
    known = set(Mapping.__dataclass_fields__) - {"source"}
    unknown = set(data) - known - {"description"}
    if unknown:
        raise MappingError(f"unknown mapping settings: {', '.join(sorted(unknown))}", where=where,
                           hint=f"allowed: {', '.join(sorted(known))}")
    layout = data.get("layout")
    if layout not in LAYOUTS:
        raise MappingError(f"layout must be one of {LAYOUTS}, not {layout!r}", where=where)
    columns = data.get("columns") or {}
    allowed = LINE_FIELDS if layout == "lines" else ENTRY_FIELDS
    bad = [k for k in columns if k not in allowed]
    if bad:
        raise MappingError(f"fields not known in the {layout} layout: {', '.join(bad)}", where=where,
                           hint=f"map columns to: {', '.join(allowed)}")
    required = ["posting_date", "account_id"] if layout == "lines" else ["posting_date", "debit_account",
                                                                        "credit_account", "amount"]
    if layout == "lines":
        required.append("entry_id")
        if not ({"debit", "credit"} <= set(columns) or "amount" in columns):
            raise MappingError("a lines mapping needs debit and credit columns, or an amount column", where=where)
        if "side" in columns and not data.get("side_values"):
            raise MappingError("a side column needs side_values: {debit: [...], credit: [...]}", where=where)
    missing = [k for k in required if k not in columns and k not in (data.get("constants") or {})]
    if missing:
        raise MappingError(f"the mapping does not say which column holds: {', '.join(missing)}", where=where)
    try:
        codecs.lookup(str(data.get("encoding", "utf-8-sig")))
    except LookupError as exc:
        raise MappingError(f"unknown encoding {data.get('encoding')!r}", where=where) from exc
    mapping = Mapping(**{k: v for k, v in data.items() if k in known}, source=where)
    mapping.columns = {k: str(v) for k, v in columns.items()}
    mapping.constants = {k: str(v) for k, v in (data.get("constants") or {}).items()}
    return mapping


def sniff(head: bytes) -> bool:
    """CSV has no reliable signature; CSV ingest is chosen with --mapping or --format csv."""
    return False


class _Bad(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class _RowReader:
    """Typed access to one CSV row through the mapping."""

    def __init__(self, mapping: Mapping, index: dict[str, int]) -> None:
        self.m = mapping
        self.index = index

    def text(self, row: list[str], name: str) -> str | None:
        column = self.m.columns.get(name)
        if column is None:
            return self.m.constants.get(name)
        position = self.index.get(column)
        if position is None or position >= len(row):
            return None
        value = row[position].strip()
        return value or None

    def required(self, row: list[str], name: str) -> str:
        value = self.text(row, name)
        if value is None:
            raise _Bad("missing_value", f"{name} ({self.m.columns.get(name, 'constant')}) is empty")
        return value

    def amount(self, row: list[str], name: str, *, required: bool = True) -> Decimal | None:
        value = self.text(row, name)
        if value is None:
            if required:
                raise _Bad("missing_amount", f"{name} ({self.m.columns.get(name)}) is empty")
            return None
        try:
            return parse_amount(value, decimal_separator=self.m.decimal_separator,
                                thousands_separator=self.m.thousands_separator)
        except AmountError as exc:
            raise _Bad("bad_amount", f"{name}: {exc}") from None

    def day(self, row: list[str], name: str, *, required: bool = False) -> date | None:
        value = self.text(row, name)
        if value is None:
            if required:
                raise _Bad("missing_value", f"{name} ({self.m.columns.get(name)}) is empty")
            return None
        try:
            return datetime.strptime(value, self.m.date_format).date()
        except ValueError:
            raise _Bad("bad_date", f"{name} {value!r} is not a date in the format {self.m.date_format}") from None

    def stamp(self, row: list[str], name: str) -> datetime | None:
        value = self.text(row, name)
        if value is None:
            return None
        for fmt in (self.m.datetime_format, self.m.date_format):
            try:
                return datetime.strptime(value, fmt)
            except ValueError:
                continue
        raise _Bad("bad_date", f"{name} {value!r} matches neither {self.m.datetime_format} nor {self.m.date_format}")

    def status(self, row: list[str]) -> str:
        value = (self.text(row, "status") or "posted").lower()
        if value not in STATUSES:
            raise _Bad("bad_status", f"status {value!r} is not one of {', '.join(STATUSES)}")
        return value

    def entry_header(self, row: list[str], entry_id: str, description_field: str) -> tuple[Any, ...]:
        posting = self.day(row, "posting_date", required=True)
        period = self.text(row, "period") or (f"{posting:%Y-%m}" if posting else None)
        return (
            entry_id, self.text(row, "journal_id"), None, period, posting.year if posting else None, posting,
            self.day(row, "document_date"), self.stamp(row, "created_at"), self.text(row, "created_by"),
            self.stamp(row, "changed_at"), self.text(row, "changed_by"), self.status(row),
            self.text(row, description_field), self.text(row, "source_ref"), None,
        )


def _open_rows(path: Path, mapping: Mapping, progress: Callable[[int], None]):
    handle = path.open("rb")
    counting = CountingReader(handle, progress)
    text = io.TextIOWrapper(io.BufferedReader(counting), encoding=mapping.encoding, errors="strict", newline="")
    reader = csv.reader(text, delimiter=mapping.delimiter, quotechar=mapping.quotechar, strict=True)
    return handle, reader


def parse(path: Path, loader: Loader, options: IngestOptions, progress: Callable[[int], None]) -> ParseOutcome:
    """Read a CSV ledger with its mapping into the loader; return counts (rows = data rows of the file)."""
    mapping = load_mapping(options.mapping)
    where = loader.source_name or path.name
    handle, reader = _open_rows(path, mapping, progress)
    rows_read = rows_loaded = 0
    entries: dict[str, tuple[Any, ...]] = {}
    line_numbers: dict[str, int] = {}
    try:
        try:
            for _ in range(mapping.skip_rows):
                next(reader, None)
            header = next(reader, None)
            if header is None:
                raise MappingError("the CSV file is empty", where=where, hint="check the file")
            index = {name.strip(): i for i, name in enumerate(header)}
            needed = [c for f, c in mapping.columns.items() if c not in mapping.optional and f not in mapping.optional]
            absent = [c for c in needed if c not in index]
            if absent:
                raise MappingError(
                    f"columns named in the mapping are not in the file's header: {', '.join(absent)}",
                    where=f"{where}, line {reader.line_num} (header)",
                    hint=f"the header has: {', '.join(header[:30])}; fix the mapping {mapping.source} or choose "
                         "another (check delimiter and encoding too)",
                )
            get = _RowReader(mapping, index)
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue  # blank lines carry no data
                rows_read += 1
                locator = f"line {line}"
                try:
                    if len(row) != len(header):
                        raise _Bad("bad_row", f"the row has {len(row)} fields, the header {len(header)}")
                    if mapping.layout == "lines":
                        _line_row(get, row, loader, entries, line_numbers)
                    else:
                        _entry_row(get, row, loader, entries, line_numbers, line)
                except _Bad as bad:
                    loader.quarantine(locator, bad.code, bad.reason, mapping.delimiter.join(row)[:20000])
                    continue
                rows_loaded += 1
        except UnicodeDecodeError as exc:
            raise SourceEncodingError(
                f"the file is not valid {mapping.encoding}: {exc.reason} (byte 0x{exc.object[exc.start]:02x})",
                where=f"{where}, near line {reader.line_num + 1}",
                hint="the mapping's encoding does not match the file; set 'encoding' in the mapping (e.g. cp1251, "
                     "cp1252, latin-1) or ask for a UTF-8 export",
            ) from exc
        except csv.Error as exc:
            raise MappingError(f"the file cannot be read as CSV with this mapping: {exc}",
                               where=f"{where}, line {reader.line_num}",
                               hint="check the mapping's delimiter and quotechar") from exc
    finally:
        handle.close()
    for header_row in entries.values():
        loader.add_entry(header_row)
    return ParseOutcome(format_version=f"mapping:{mapping.name}", rows_read=rows_read, rows_loaded=rows_loaded,
                        details={"mapping": mapping.name, "layout": mapping.layout})


def _line_row(get: _RowReader, row: list[str], loader: Loader, entries: dict[str, tuple[Any, ...]],
              line_numbers: dict[str, int]) -> None:
    entry_id = get.required(row, "entry_id")
    account = get.required(row, "account_id")
    zero = Decimal("0.00")
    if "amount" in get.m.columns:
        amount = get.amount(row, "amount")
        assert amount is not None
        if "side" in get.m.columns:
            side = (get.text(row, "side") or "").upper()
            values = {k: [v.upper() for v in vs] for k, vs in get.m.side_values.items()}
            if amount < 0:
                raise _Bad("negative_amount", "amount is negative although a side column gives the direction")
            if side in values.get("debit", []):
                debit, credit = amount, zero
            elif side in values.get("credit", []):
                debit, credit = zero, amount
            else:
                raise _Bad("bad_side", f"side {side!r} is none of {values}")
        else:
            debit, credit = (amount, zero) if amount >= 0 else (zero, -amount)
    else:
        debit = get.amount(row, "debit", required=False) or zero
        credit = get.amount(row, "credit", required=False) or zero
        if debit < 0 or credit < 0:
            raise _Bad("negative_amount", "debit and credit columns must not be negative")
        if debit and credit:
            raise _Bad("both_sides", "the row has both a debit and a credit amount")
    header = get.entry_header(row, entry_id, "entry_description")
    line_no_text = get.text(row, "line_no")
    line_numbers[entry_id] = line_numbers.get(entry_id, 0) + 1
    line_no = int(line_no_text) if line_no_text and line_no_text.isdigit() else line_numbers[entry_id]
    entries.setdefault(entry_id, header)
    loader.add_line((entry_id, line_no, account, get.text(row, "party_id"), debit, credit, get.text(row, "currency"),
                     get.text(row, "tax_code"), get.amount(row, "tax_amount", required=False),
                     get.text(row, "description")))


def _entry_row(get: _RowReader, row: list[str], loader: Loader, entries: dict[str, tuple[Any, ...]],
               line_numbers: dict[str, int], line: int) -> None:
    # 1C numbers documents, not postings: the rows of one document become the lines of one entry.
    entry_id = get.text(row, "entry_id") or f"line-{line}"
    amount = get.amount(row, "amount")
    assert amount is not None
    if amount < 0:
        raise _Bad("negative_amount", "a posting's amount must not be negative (swap the accounts instead)")
    debit_account = get.required(row, "debit_account")
    credit_account = get.required(row, "credit_account")
    header = get.entry_header(row, entry_id, "description")
    zero = Decimal("0.00")
    currency, description = get.text(row, "currency"), get.text(row, "description")
    entries.setdefault(entry_id, header)
    number = line_numbers.get(entry_id, 0)
    line_numbers[entry_id] = number + 2
    loader.add_line((entry_id, number + 1, debit_account, get.text(row, "debit_party"), amount, zero, currency, None,
                     None, description))
    loader.add_line((entry_id, number + 2, credit_account, get.text(row, "credit_party"), zero, amount, currency, None,
                     None, description))
