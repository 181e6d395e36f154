"""Load tax returns into the canonical ``return_lines`` table, with return-level facts in ``returns``.

Formats:

* **RU VAT return XML** (КНД 1151001; electronic format 5.0x, Приложение № 2 к приказу ФНС России от
  29.10.2014 № ММВ-7-3/558@ as amended). Layout read (see docs/cases.md for the full table):
  ``Файл@ВерсФорм`` / ``Документ@КНД, ДатаДок, Период, ОтчетГод, НомКорр, КодНО`` /
  ``СвНП/НПЮЛ@ИННЮЛ, КПП, НаимОрг`` (or ``НПФЛ@ИННФЛ``) / ``НДС/СумУплНП@СумПУ_173.5, СумПУ_173.1`` (section 1,
  lines 030, 040/050) / ``НДС/СумУпл164@НалПУ164`` (section 3 line 200, or 210 when negative) /
  ``СумУпл164/СумНалОб`` (lines 010-118: ``РеалТов20@НалБаза, СумНал`` ... ``@НалВосстОбщ`` = line 118) /
  ``СумУпл164/СумНалВыч`` (lines 120-190: ``@НалПредНППриоб`` ... ``@НалВычОбщ`` = line 190).
  Line codes are stored as ``s<section>_<line>`` (tax column) and ``s<section>_<line>_base`` (tax base).
* **CSV**: columns ``return_type, period, line_code, amount`` and optionally ``correction_no, filed_on,
  taxpayer_tax_id, taxpayer_name``; one return per (return_type, period) per file.
* **JSON**: ``{"return_type", "period", "correction_no", "filed_on", "taxpayer": {"tax_id", "name"},
  "lines": {"s3_118": "1200.00", ...}}``.

Bad lines go to ``quarantine`` with a reason; a file that cannot be read at all raises :class:`IngestError`.
XML is parsed with entity resolution, DTD loading and network access off, and any DOCTYPE is refused.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from calendar import monthrange
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from taxaudit.errors import HostileXMLError, IngestError
from taxaudit.model.money import AmountError, parse_amount
from taxaudit.store.case import Case
from taxaudit.store.custody import current_actor

RU_VAT = "RU-VAT"
DUE_RULES = {RU_VAT: "ru.vat_return_due"}
PERIOD_PATTERN = re.compile(r"^(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?$")
LINE_CODE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")

# Tax period codes of the VAT return (Приложение № 3 к Порядку заполнения декларации): 21-24 quarters,
# 51, 54, 55, 56 the same quarters for a reorganised or liquidated organisation.
VAT_PERIOD_CODES = {"21": 1, "22": 2, "23": 3, "24": 4, "51": 1, "54": 2, "55": 3, "56": 4}

# Section 3 tax-calculation elements (child of СумНалОб) carrying НалБаза and СумНал: line code by element.
VAT_S3_BASE_ELEMENTS = {
    "РеалТов20": "010", "РеалТов18": "010", "РеалТов10": "020", "РеалТов120": "030", "РеалТов118": "030",
    "РеалТов110": "040", "РеалПредИК": "050", "ВыпСМРСоб": "060", "ОплПредПост": "070",
    "КорРеалТов20": "105", "КорРеалТов18": "105", "КорРеалТов10": "106", "КорРеалТов120": "107",
    "КорРеалТов118": "107", "КорРеалТов110": "108",
}
VAT_S3_RESTORED = {"СумНалВс": "080", "СумНал170.3.3": "090", "СумНалОперСт0": "100"}
VAT_S3_DEDUCTIONS = {
    "НалПредНППриоб": "120", "НалПредНПКапСтр": "125", "НалПредНППок": "130", "НалИсчСМР": "140",
    "НалУплТамож": "150", "НалУплНОТовТС": "160", "НалИсчПрод": "170", "НалУплПокНА": "180",
    "НалВыч171.14": "185", "НалВычОбщ": "190",
}

HARDENED_PARSER = {"resolve_entities": False, "no_network": True, "load_dtd": False, "dtd_validation": False,
                   "huge_tree": False, "remove_comments": True, "remove_pis": True}

RETURNS_TABLE = """
CREATE TABLE IF NOT EXISTS returns (
    source_id VARCHAR NOT NULL,
    return_type VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    correction_no INTEGER NOT NULL,
    kind VARCHAR NOT NULL CHECK (kind IN ('original', 'corrective')),
    filed_on DATE,
    due_on DATE,
    taxpayer_tax_id VARCHAR,
    taxpayer_name VARCHAR,
    tax_authority VARCHAR,
    form_code VARCHAR,
    form_version VARCHAR,
    PRIMARY KEY (source_id, return_type, period)
)
"""


@dataclass
class ParsedReturn:
    """A return read from a file: its header facts, its lines and the lines refused (quarantined)."""

    return_type: str
    period: str
    correction_no: int = 0
    filed_on: date | None = None
    taxpayer_tax_id: str | None = None
    taxpayer_name: str | None = None
    tax_authority: str | None = None
    form_code: str | None = None
    form_version: str | None = None
    lines: dict[str, Decimal] = field(default_factory=dict)
    quarantined: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    rows_read: int = 0

    def quarantine(self, locator: str, reason_code: str, reason: str, raw: str | None = None) -> None:
        self.quarantined.append((locator, reason_code, reason, raw))

    def add_line(self, locator: str, line_code: str, text: str | None, raw: str | None = None) -> None:
        """Add one line amount, quarantining bad codes, bad amounts and duplicates instead of failing."""
        self.rows_read += 1
        if not line_code or not LINE_CODE_PATTERN.match(line_code):
            self.quarantine(locator, "bad_line_code", f"line code {line_code!r} is not a valid code", raw)
            return
        try:
            amount = parse_amount(text)
        except AmountError as exc:
            self.quarantine(locator, "bad_amount", str(exc), raw)
            return
        if line_code in self.lines:
            self.quarantine(locator, "duplicate_line", f"line {line_code} appears twice in the return", raw)
            return
        self.lines[line_code] = amount


@dataclass(frozen=True)
class ReturnLoad:
    """What loading a return did: the new source, the return's key facts and the row counts."""

    source_id: str
    file: str
    sha256: str
    format: str
    return_type: str
    period: str
    correction_no: int
    kind: str
    filed_on: date | None
    due_on: date | None
    filed_late: bool | None
    lines_loaded: int
    rows_quarantined: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def period_bounds(period: str, where: str) -> tuple[date, date]:
    """Return the first and last day of a canonical period (``2025``, ``2025-Q1`` or ``2025-03``)."""
    match = PERIOD_PATTERN.match(period or "")
    if not match:
        raise IngestError(f"period {period!r} is not YYYY, YYYY-Qn or YYYY-MM", where=where,
                          hint="write the tax period as e.g. 2025-Q1")
    year = int(match.group(1))
    if match.group(2):
        first_month = 3 * int(match.group(2)) - 2
        last_month = first_month + 2
    elif match.group(3):
        first_month = last_month = int(match.group(3))
    else:
        first_month, last_month = 1, 12
    return date(year, first_month, 1), date(year, last_month, monthrange(year, last_month)[1])


def _parse_date(text: str | None, where: str) -> date | None:
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise IngestError(f"date {text!r} is neither YYYY-MM-DD nor DD.MM.YYYY", where=where,
                      hint="write dates as 2025-04-25 (or 25.04.2025 as in FNS files)")


def _parse_correction(text: Any, where: str) -> int:
    try:
        number = int(str(text).strip() or "0")
    except ValueError:
        raise IngestError(f"correction number {text!r} is not a whole number", where=where,
                          hint="0 for the original return, 1, 2, ... for corrective returns") from None
    if number < 0:
        raise IngestError(f"correction number {number} is negative", where=where,
                          hint="0 for the original return, 1, 2, ... for corrective returns")
    return number


def parse_vat_xml(payload: bytes, where: str) -> ParsedReturn:
    """Return the VAT return (КНД 1151001, приказ ФНС ММВ-7-3/558@) in ``payload``, parsed without DTDs."""
    head = payload[:4096].lstrip()
    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in payload[:65536].upper():
        raise HostileXMLError("the XML declares a DOCTYPE or entities; taxaudit refuses DTDs in returns",
                              where=where, hint="ask for the return as filed with the FNS (it has no DOCTYPE)")
    parser = etree.XMLParser(**HARDENED_PARSER)
    try:
        root = etree.fromstring(payload, parser)
    except etree.XMLSyntaxError as exc:
        raise IngestError(f"the return is not well-formed XML: {exc.msg}", where=where,
                          hint="check that this is the XML file as sent to the FNS, not edited or cut") from exc
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise HostileXMLError("the XML declares a DOCTYPE; taxaudit refuses DTDs", where=where,
                              hint="ask for the return as filed with the FNS")
    document = root.find("Документ")
    if root.tag != "Файл" or document is None:
        raise IngestError("not an FNS return file (expected root Файл with a Документ element)", where=where,
                          hint="give the NO_NDS_*.xml file of the VAT return")
    form_code = document.get("КНД")
    if form_code != "1151001":
        raise IngestError(f"КНД {form_code!r} is not the VAT return (1151001)", where=f"{where}: Файл/Документ/@КНД",
                          hint="only the VAT return XML format is supported; load other returns as CSV or JSON")
    version = root.get("ВерсФорм") or ""
    if not version.startswith("5."):
        raise IngestError(f"format version {version!r} is not a 5.x VAT return format",
                          where=f"{where}: Файл/@ВерсФорм",
                          hint="the VAT return formats of приказ ММВ-7-3/558@ are versions 5.0x")
    code = document.get("Период", "")
    year = document.get("ОтчетГод", "")
    if code not in VAT_PERIOD_CODES or not year.isdigit():
        raise IngestError(f"tax period code {code!r} / year {year!r} is not a VAT quarter",
                          where=f"{where}: Файл/Документ/@Период", hint="codes 21-24 (or 51, 54, 55, 56) are quarters")
    organisation = document.find("СвНП/НПЮЛ")
    person = document.find("СвНП/НПФЛ")
    parsed = ParsedReturn(
        return_type=RU_VAT,
        period=f"{year}-Q{VAT_PERIOD_CODES[code]}",
        correction_no=_parse_correction(document.get("НомКорр", "0"), f"{where}: Файл/Документ/@НомКорр"),
        filed_on=_parse_date(document.get("ДатаДок"), f"{where}: Файл/Документ/@ДатаДок"),
        taxpayer_tax_id=(organisation.get("ИННЮЛ") if organisation is not None
                         else person.get("ИННФЛ") if person is not None else None),
        taxpayer_name=organisation.get("НаимОрг") if organisation is not None else None,
        tax_authority=document.get("КодНО"),
        form_code=form_code,
        form_version=version,
    )
    vat = document.find("НДС")
    if vat is None:
        raise IngestError("the return has no НДС element", where=f"{where}: Файл/Документ",
                          hint="the file is incomplete; ask for the return as filed")
    _read_vat_sections(vat, parsed)
    return parsed


def _attribute(parsed: ParsedReturn, element: Any, name: str, line_code: str) -> None:
    value = element.get(name)
    if value is not None:
        locator = f"{element.getroottree().getpath(element)}/@{name}"
        parsed.add_line(locator, line_code, value, f'{name}="{value}"')


def _read_vat_sections(vat: Any, parsed: ParsedReturn) -> None:
    section1 = vat.find("СумУплНП")
    if section1 is not None:
        _attribute(parsed, section1, "СумПУ_173.5", "s1_030")
        signed = section1.get("СумПУ_173.1")
        if signed is not None:
            # One signed attribute carries line 040 (payable) or, negative, line 050 (refundable).
            line = "s1_050" if signed.strip().startswith("-") else "s1_040"
            parsed.add_line(f"{section1.getroottree().getpath(section1)}/@СумПУ_173.1", line,
                            signed.strip().lstrip("-"), f'СумПУ_173.1="{signed}"')
    section3 = vat.find("СумУпл164")
    if section3 is None:
        return
    total = section3.get("НалПУ164")
    if total is not None:
        locator = f"{section3.getroottree().getpath(section3)}/@НалПУ164"
        line = "s3_210" if total.strip().startswith("-") else "s3_200"
        parsed.add_line(locator, line, total.strip().lstrip("-"), f'НалПУ164="{total}"')
    calculated = section3.find("СумНалОб")
    if calculated is not None:
        _attribute(parsed, calculated, "НалВосстОбщ", "s3_118")
        for child in calculated:
            if child.tag in VAT_S3_BASE_ELEMENTS:
                line = VAT_S3_BASE_ELEMENTS[child.tag]
                _attribute(parsed, child, "НалБаза", f"s3_{line}_base")
                _attribute(parsed, child, "СумНал", f"s3_{line}")
            elif child.tag == "СумНалВосст":
                for name, line in VAT_S3_RESTORED.items():
                    _attribute(parsed, child, name, f"s3_{line}")
    deductions = section3.find("СумНалВыч")
    if deductions is not None:
        for name, line in VAT_S3_DEDUCTIONS.items():
            _attribute(parsed, deductions, name, f"s3_{line}")


def _header_from_mapping(data: dict[str, Any], where: str) -> ParsedReturn:
    return_type = str(data.get("return_type") or "").strip()
    if not return_type:
        raise IngestError("the return has no return_type", where=where, hint="give e.g. return_type RU-VAT")
    period = str(data.get("period") or "").strip()
    period_bounds(period, where)
    taxpayer = data.get("taxpayer") if isinstance(data.get("taxpayer"), dict) else {}
    return ParsedReturn(
        return_type=return_type,
        period=period,
        correction_no=_parse_correction(data.get("correction_no", 0) or 0, where),
        filed_on=_parse_date(data.get("filed_on"), where),
        taxpayer_tax_id=taxpayer.get("tax_id") or data.get("taxpayer_tax_id") or None,
        taxpayer_name=taxpayer.get("name") or data.get("taxpayer_name") or None,
        tax_authority=data.get("tax_authority"),
    )


def parse_json_return(payload: bytes, where: str) -> ParsedReturn:
    """Return the return described by a JSON document (header fields and a ``lines`` mapping or list)."""
    try:
        data = json.loads(payload.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IngestError(f"the return is not valid UTF-8 JSON: {exc}", where=where,
                          hint="save the file as UTF-8 JSON") from exc
    if not isinstance(data, dict):
        raise IngestError("the JSON return must be an object", where=where, hint="see docs/cases.md for the shape")
    parsed = _header_from_mapping(data, where)
    lines = data.get("lines")
    if isinstance(lines, dict):
        items = [(code, value) for code, value in lines.items()]
    elif isinstance(lines, list):
        items = [(item.get("line_code"), item.get("amount")) if isinstance(item, dict) else (None, None)
                 for item in lines]
    else:
        raise IngestError("the JSON return has no 'lines' object or list", where=where,
                          hint='add "lines": {"s3_118": "1200.00", ...}')
    for index, (code, value) in enumerate(items):
        text = None if value is None else str(value)
        parsed.add_line(f"lines[{index}]", str(code or ""), text, json.dumps({"line_code": code, "amount": value},
                                                                           ensure_ascii=False, default=str))
    return parsed


def parse_csv_return(payload: bytes, where: str) -> ParsedReturn:
    """Return the return in a CSV file with columns return_type, period, line_code, amount (and optional facts)."""
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"the CSV is not UTF-8: {exc}", where=where, hint="save the file as UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = {"return_type", "period", "line_code", "amount"} - set(reader.fieldnames or [])
    if missing:
        raise IngestError(f"the CSV lacks columns {', '.join(sorted(missing))}", where=f"{where}: header",
                          hint="the header must name return_type, period, line_code and amount")
    rows = list(reader)
    if not rows:
        raise IngestError("the CSV has no lines", where=where, hint="add one row per line of the return")
    parsed = _header_from_mapping(rows[0], f"{where}: line 2")
    key = (parsed.return_type, parsed.period, parsed.correction_no)
    for number, row in enumerate(rows, start=2):
        raw = ",".join(str(value) for value in row.values())
        row_key = (str(row.get("return_type") or "").strip(), str(row.get("period") or "").strip(),
                   _parse_correction(row.get("correction_no", 0) or 0, f"{where}: line {number}"))
        if row_key != key:
            parsed.rows_read += 1
            parsed.quarantine(f"line {number}", "other_return",
                              f"row belongs to {row_key}, not to the file's return {key}", raw)
            continue
        parsed.add_line(f"line {number}", str(row.get("line_code") or "").strip(), row.get("amount"), raw)
    return parsed


def detect_format(path: Path, payload: bytes) -> str:
    """Return ``ru-vat-xml``, ``json`` or ``csv`` from the file name and its first bytes."""
    start = payload[:256].lstrip(b"\xef\xbb\xbf \t\r\n")
    if path.suffix.lower() == ".xml" or start.startswith(b"<"):
        return "ru-vat-xml"
    if path.suffix.lower() == ".json" or start.startswith(b"{"):
        return "json"
    return "csv"


def ensure_table(case: Case, name: str, statement: str) -> None:
    """Create a stage table if the case lacks it; in a read-only case an empty temporary one stands in."""
    exists = case.con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
                              [name]).fetchone()
    if exists:
        return
    if case.read_only:
        statement = statement.replace("CREATE TABLE", "CREATE TEMP TABLE", 1)
    case.con.execute(statement)


def ensure_returns_table(case: Case) -> None:
    """Create the ``returns`` table (return-level facts) if the case does not have it yet."""
    ensure_table(case, "returns", RETURNS_TABLE)


def due_date(return_type: str, period_end: date) -> date | None:
    """Return the filing due date of a return type for a period, from the deadline rule pack, if one applies."""
    rule = DUE_RULES.get(return_type)
    if rule is None:
        return None
    from taxaudit.cases.deadlines import compute_deadline

    return compute_deadline(rule, period_end).due


def load_return(case: Case, path: str | Path, *, format: str | None = None) -> ReturnLoad:
    """Load one return file into ``return_lines`` and ``returns``; log the source and the rows in custody."""
    source = Path(path)
    if not source.is_file():
        raise IngestError("return file not found", where=str(source), hint="check the path")
    payload = source.read_bytes()
    kind_of_file = format or detect_format(source, payload)
    parsers = {"ru-vat-xml": parse_vat_xml, "json": parse_json_return, "csv": parse_csv_return}
    if kind_of_file not in parsers:
        raise IngestError(f"unknown return format {kind_of_file!r}", where="--format",
                          hint=f"use one of: {', '.join(parsers)}")
    parsed = parsers[kind_of_file](payload, str(source))
    if not parsed.lines:
        raise IngestError("no line of the return could be loaded", where=str(source),
                          hint="see the quarantine reasons: " + "; ".join(q[2] for q in parsed.quarantined[:3]))
    start, end = period_bounds(parsed.period, str(source))
    due = due_date(parsed.return_type, end)
    ensure_returns_table(case)
    sha, evidence, created = case.store_evidence(source)
    if case.con.execute("SELECT 1 FROM sources WHERE sha256 = ?", [sha]).fetchone():
        raise IngestError("this exact file is already loaded in the case", where=str(source),
                          hint="a corrective return is a new file with a higher correction number")
    source_id = f"ret-{sha[:12]}"
    kind = "original" if parsed.correction_no == 0 else "corrective"
    with case.unit_of_work() as work:
        if created:
            work.on_rollback.append(lambda: evidence.unlink(missing_ok=True))
        case.con.execute(
            "INSERT INTO sources (source_id, path, file_name, sha256, size_bytes, format, format_version, "
            "imported_at, imported_by, rows_read, rows_loaded, rows_quarantined, options) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [source_id, str(source.resolve()), source.name, sha, len(payload), f"return-{kind_of_file}",
             parsed.form_version, datetime.now(UTC).replace(tzinfo=None), current_actor(), parsed.rows_read,
             len(parsed.lines), len(parsed.quarantined), json.dumps({"format": kind_of_file})],
        )
        case.con.executemany(
            "INSERT INTO return_lines (source_id, return_type, period, line_code, amount) VALUES (?, ?, ?, ?, ?)",
            [[source_id, parsed.return_type, parsed.period, code, amount] for code, amount in parsed.lines.items()],
        )
        if parsed.quarantined:
            case.con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?)",
                                 [[source_id, *row] for row in parsed.quarantined])
        case.con.execute(
            "INSERT INTO returns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [source_id, parsed.return_type, parsed.period, start, end, parsed.correction_no, kind, parsed.filed_on,
             due, parsed.taxpayer_tax_id, parsed.taxpayer_name, parsed.tax_authority, parsed.form_code,
             parsed.form_version],
        )
        work.log("source_added", source_id, sha, file=source.name, format=f"return-{kind_of_file}",
                 return_type=parsed.return_type, period=parsed.period, correction_no=parsed.correction_no)
        work.log("rows_loaded", source_id, None, table="return_lines", rows=len(parsed.lines),
                 quarantined=len(parsed.quarantined), load_id=uuid.uuid4().hex)
    filed_late = None if due is None or parsed.filed_on is None else parsed.filed_on > due
    return ReturnLoad(source_id, source.name, sha, kind_of_file, parsed.return_type, parsed.period,
                      parsed.correction_no, kind, parsed.filed_on, due, filed_late, len(parsed.lines),
                      len(parsed.quarantined))


def latest_return(case: Case, return_type: str, period: str) -> dict[str, Any] | None:
    """Return the facts of the latest filed return (highest correction number) of a type and period."""
    ensure_returns_table(case)
    cursor = case.con.execute(
        "SELECT * FROM returns WHERE return_type = ? AND period = ? ORDER BY correction_no DESC, filed_on DESC "
        "LIMIT 1", [return_type, period])
    row = cursor.fetchone()
    return None if row is None else dict(zip([d[0] for d in cursor.description], row, strict=True))


def return_lines(case: Case, source_id: str) -> dict[str, Decimal]:
    """Return the lines (code -> amount) of the return loaded from ``source_id``."""
    rows = case.con.execute("SELECT line_code, amount FROM return_lines WHERE source_id = ?", [source_id]).fetchall()
    return {code: amount for code, amount in rows}
