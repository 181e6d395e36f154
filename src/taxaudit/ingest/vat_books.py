"""Invoice books (VAT sales and purchase books) of many reporting taxpayers: load, validate, quarantine.

The canonical layout, one row per invoice line of a book, is :data:`BOOK_COLUMNS`. It mirrors the books that
Russian VAT returns carry (sales book, section 9; purchase book, section 8 — Tax Code of the Russian Federation
art. 169 p. 3, art. 174 p. 5.1) and any country's invoice registers. Validation is written once as Ibis
expressions, so it runs on DuckDB or Spark alike; rows that fail are returned with their reasons in a quarantine
table, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend
from ibis.expr import types as ir

from taxaudit import engine
from taxaudit.errors import IngestError

BOOK_COLUMNS = (
    "reporter_tax_id",
    "book",
    "period",
    "seller_tax_id",
    "buyer_tax_id",
    "invoice_no",
    "invoice_date",
    "net_amount",
    "vat_amount",
    "vat_rate",
    "operation_code",
)
REQUIRED_COLUMNS = tuple(c for c in BOOK_COLUMNS if c not in {"vat_rate", "operation_code"})
BOOKS = ("sales", "purchases")

# Weights of the INN check digits, as python-stdnum's stdnum.ru.inn and the FNS-published examples use them: the
# 10-digit INN of an organisation has one check digit, the 12-digit INN of a person two; each is the weighted
# sum of the digits before it, mod 11, mod 10.
INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

AMOUNT_TYPE = "decimal(18, 2)"
RATE_TYPE = "decimal(9, 4)"
_AMOUNT_RE = r"^-?[0-9]{1,16}([.,][0-9]{1,2})?$"
_RATE_RE = r"^[0-9]{1,2}([.,][0-9]{1,4})?%?$"
_ISO_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_RU_DATE_RE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"
_PERIOD_RE = r"^[0-9]{4}-(Q[1-4]|0[1-9]|1[0-2])$"
_GENERIC_TAX_ID_RE = r"^[0-9A-Za-z]{2,32}$"


@dataclass(frozen=True)
class VatBooks:
    """Every invoice-book row once, typed, with its verdict: the valid rows and the quarantined ones derive from it.

    ``checked`` has the canonical columns, ``source_file`` and the quarantine's ``_q_locator``, ``_q_reason_code``,
    ``_q_reason`` and ``_q_raw``, which are NULL on valid rows. Keeping (materialising) ``checked`` — with more
    columns added, such as the invoice key — and taking :func:`valid_rows` and :func:`quarantined_rows` of the kept
    table validates the books in one pass instead of one pass for each.
    """

    checked: ir.Table

    @property
    def books(self) -> ir.Table:
        """The valid rows, typed, in the canonical layout plus ``source_file``."""
        return valid_rows(self.checked)

    @property
    def quarantine(self) -> ir.Table:
        """The rejected rows: file, locator, first reason's code, every reason, and the raw values."""
        return quarantined_rows(self.checked)


def valid_rows(checked: ir.Table) -> ir.Table:
    """Return the rows of a checked table (see :class:`VatBooks`) that passed every check, without verdict columns."""
    kept = checked.filter(checked._q_reason_code.isnull())
    return kept.drop(*[c for c in kept.columns if c.startswith("_q_")])


def quarantined_rows(checked: ir.Table) -> ir.Table:
    """Return the quarantine of a checked table (see :class:`VatBooks`): file, locator, code, reasons, raw values."""
    bad = checked.filter(checked._q_reason_code.notnull())
    return bad.select(source_file=bad.source_file, locator=bad._q_locator, reason_code=bad._q_reason_code,
                      reason=bad._q_reason, raw=bad._q_raw)


def inn_check_digits(body: str) -> str:
    """Return the check digit(s) completing a Russian INN body of 9 (organisation) or 10 (person) digits."""
    digits = [int(ch) for ch in body]
    if len(digits) == 9:
        return str(sum(w * d for w, d in zip(INN10_WEIGHTS, digits, strict=True)) % 11 % 10)
    if len(digits) == 10:
        first = sum(w * d for w, d in zip(INN11_WEIGHTS, digits, strict=True)) % 11 % 10
        second = sum(w * d for w, d in zip(INN12_WEIGHTS, [*digits, first], strict=True)) % 11 % 10
        return f"{first}{second}"
    raise ValueError(f"an INN body has 9 or 10 digits, not {len(digits)}")


def inn_is_valid(text: str | None) -> bool:
    """Return True if ``text`` is a 10- or 12-digit Russian INN whose check digits are right."""
    if text is None or not re.fullmatch(r"[0-9]{10}|[0-9]{12}", text):
        return False
    return inn_check_digits(text[:-1] if len(text) == 10 else text[:-2]) == text[-(1 if len(text) == 10 else 2):]


def inn_valid_expr(tax_id: ir.StringValue) -> ir.BooleanValue:
    """Return an Ibis expression that is True where ``tax_id`` is a valid 10- or 12-digit Russian INN.

    The digits are taken arithmetically from the id read as one integer, which engines do far faster than
    twelve substring casts.
    """
    # The shape test stays outside the digits: engines repeat an expression at every use inside a pushed-down
    # filter, and a regular expression per digit made this check cost more than the matching.
    number = tax_id.try_cast("int64")

    def digits(length: int) -> list[ir.IntegerValue]:
        return [(number // 10 ** (length - 1 - i)) % 10 for i in range(length)]

    def check(weights: Sequence[int], digit: list[ir.IntegerValue]) -> ir.IntegerValue:
        total = digit[0] * weights[0]
        for i, weight in enumerate(weights[1:], start=1):
            total = total + digit[i] * weight
        return total % 11 % 10

    d10, d12 = digits(10), digits(12)
    organisation = (tax_id.length() == 10) & (check(INN10_WEIGHTS, d10) == d10[9])
    person = (
        (tax_id.length() == 12)
        & (check(INN11_WEIGHTS, d12) == d12[10])
        & (check(INN12_WEIGHTS, d12) == d12[11])
    )
    return (tax_id.re_search(r"^([0-9]{10}|[0-9]{12})$") & (organisation | person)).fill_null(False)


def _text(col: ir.Value) -> ir.StringValue:
    """Return the column as text, empty as NULL (surrounding blanks of text files are stripped on reading)."""
    text = col if col.type().is_string() else col.cast("string")
    return text.nullif("")


def strip_text(raw: ir.Table) -> ir.Table:
    """Return ``raw`` with surrounding blanks stripped from every text column (for CSV and other typed-by-hand text).

    Parquet strings are taken as written: a padded tax id there is a data error the quarantine should show.
    """
    return raw.mutate(**{c: raw[c].strip() for c in raw.columns if raw[c].type().is_string() and c != "source_file"})


def _date(col: ir.Value) -> tuple[ir.DateValue, ir.BooleanValue]:
    """Return (parsed date, ok) for ISO 8601 ``YYYY-MM-DD`` or the Russian ``DD.MM.YYYY`` form."""
    if col.type().is_date():
        return col, col.notnull()
    if col.type().is_timestamp():
        return col.date(), col.notnull()
    text = _text(col)
    iso = ibis.cases(
        (text.re_search(_ISO_DATE_RE), text),
        (text.re_search(_RU_DATE_RE), text.substr(6, 4) + "-" + text.substr(3, 2) + "-" + text.substr(0, 2)),
        else_=ibis.null("string"),
    )
    parsed = iso.try_cast("date")
    return parsed, parsed.notnull()


def _decimal(col: ir.Value, pattern: str, dtype: str) -> tuple[ir.DecimalValue, ir.BooleanValue]:
    """Return (parsed decimal, ok); text must match ``pattern`` so no digit is silently rounded away."""
    if col.type().is_decimal() or col.type().is_integer():
        value = col.cast(dtype)
        return value, value.notnull()
    text = _text(col).replace(",", ".").replace("%", "")
    good = _text(col).re_search(pattern).fill_null(False)
    value = ibis.ifelse(good, text, ibis.null("string")).try_cast(dtype)
    return value, value.notnull()


def conform_layout(raw: ir.Table, *, where: str) -> ir.Table:
    """Return ``raw`` reduced to the canonical columns (optional ones added empty); raise if a required one lacks."""
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise IngestError(
            f"invoice book lacks column(s) {', '.join(missing)}",
            where=where,
            hint=f"the canonical layout is: {', '.join(BOOK_COLUMNS)} (see docs/match.md)",
        )
    optional = {c: ibis.null("string") for c in ("vat_rate", "operation_code") if c not in raw.columns}
    return raw.mutate(**optional).select(*BOOK_COLUMNS, *(["source_file"] if "source_file" in raw.columns else []))


def validate_books(raw: ir.Table, *, source: str = "", country: str | None = "RU",
                   where: str | None = None, strip: bool = True) -> VatBooks:
    """Return the typed valid rows and the quarantined rows (with every reason) of a raw invoice-book table.

    Tax ids are checked with the INN check digits when ``country`` is ``RU`` (10 or 12 digits), otherwise for a
    plausible shape. Dates may be ISO 8601 or ``DD.MM.YYYY``; amounts take ``.`` or ``,`` as decimal separator
    and at most two decimals; periods are ``YYYY-Qn`` (the Russian VAT tax period is the quarter, Tax Code art.
    163) or ``YYYY-MM``. The file name comes from a ``source_file`` column if the table has one, else ``source``.
    With ``strip`` surrounding blanks of text columns are removed first (see :func:`strip_text`).
    """
    raw = conform_layout(raw, where=where or source)
    if strip:
        raw = strip_text(raw)
    if "source_file" not in raw.columns:
        raw = raw.mutate(source_file=ibis.literal(source))
    tax_id_ok = inn_valid_expr if country == "RU" else (lambda t: t.re_search(_GENERIC_TAX_ID_RE).fill_null(False))

    # Built in stages (parsed values, then flags, then verdict) so each engine computes every parsed value once;
    # Spark's optimizer keeps stages apart when merging them would repeat costly expressions.
    invoice_date, date_ok = _date(raw.invoice_date)
    net, net_ok = _decimal(raw.net_amount, _AMOUNT_RE, AMOUNT_TYPE)
    vat, vat_ok = _decimal(raw.vat_amount, _AMOUNT_RE, AMOUNT_TYPE)
    rate, rate_ok = _decimal(raw.vat_rate, _RATE_RE, RATE_TYPE)
    parsed = raw.select(
        *[raw[c].name(f"_raw_{c}") for c in BOOK_COLUMNS], raw.source_file,
        reporter_tax_id=_text(raw.reporter_tax_id), book=_text(raw.book).lower(), period=_text(raw.period).upper(),
        seller_tax_id=_text(raw.seller_tax_id), buyer_tax_id=_text(raw.buyer_tax_id),
        invoice_no=_text(raw.invoice_no), invoice_date=invoice_date, net_amount=net, vat_amount=vat,
        vat_rate=rate, operation_code=_text(raw.operation_code),
        _date_ok=date_ok, _net_ok=net_ok, _vat_ok=vat_ok, _rate_ok=rate_ok | _text(raw.vat_rate).isnull(),
    )

    # Tax ids repeat across millions of rows, so each distinct id is checked once and the few bad ones are
    # joined back (a per-row check-digit computation costs more than the whole matching).
    ids = (parsed.select(tax_id=parsed.reporter_tax_id)
           .union(parsed.select(tax_id=parsed.seller_tax_id))
           .union(parsed.select(tax_id=parsed.buyer_tax_id)))
    ids = ids.filter(ids.tax_id.notnull())
    ids = ids.group_by("tax_id").aggregate(uses=ids.count())
    # The check reads the count so that engines cannot push it below the grouping and run it on every row.
    bad_ids = ids.filter(ibis.ifelse(ids.uses > 0, ~tax_id_ok(ids.tax_id), False))
    joined = parsed
    for column in ("reporter", "seller", "buyer"):
        bad = bad_ids.select(**{f"_bad_{column}": bad_ids.tax_id})
        joined = joined.left_join(bad, joined[f"{column}_tax_id"] == bad[f"_bad_{column}"])

    # Each check: (reason_code, failed?, reason text). A purchase book always names the buyer (the reporter);
    # a sales book may leave it empty for sales to people who are not VAT payers.
    j = joined
    checks = [
        ("bad_book", ~j.book.isin(BOOKS).fill_null(False), "book is not 'sales' or 'purchases'"),
        ("bad_period", ~j.period.re_search(_PERIOD_RE).fill_null(False), "period is not YYYY-Qn or YYYY-MM"),
        ("bad_tax_id", j.reporter_tax_id.isnull() | j._bad_reporter.notnull(),
         "reporter_tax_id fails the tax-id check"),
        ("bad_tax_id", j.seller_tax_id.isnull() | j._bad_seller.notnull(), "seller_tax_id fails the tax-id check"),
        ("bad_tax_id", (j.buyer_tax_id.isnull() & (j.book == "purchases")) | j._bad_buyer.notnull(),
         "buyer_tax_id fails the tax-id check"),
        ("missing_invoice_no", j.invoice_no.isnull(), "invoice_no is empty"),
        ("bad_date", ~j._date_ok, "invoice_date is not a valid date"),
        ("bad_amount", ~j._net_ok, "net_amount is not an amount with at most 2 decimals"),
        ("bad_amount", ~j._vat_ok, "vat_amount is not an amount with at most 2 decimals"),
        ("bad_vat_rate", ~j._rate_ok, "vat_rate is not a percentage"),
    ]
    flagged = joined.mutate(**{f"_f{n}": flag.fill_null(True) for n, (_, flag, _) in enumerate(checks)})
    flags = [flagged[f"_f{n}"] for n in range(len(checks))]
    any_failed = flags[0]
    for flag in flags[1:]:
        any_failed = any_failed | flag
    verdict = flagged.mutate(_failed=any_failed)

    # The quarantine's columns are computed for failed rows only (a CASE evaluates its branch only where it holds).
    failed = verdict._failed
    reason = ibis.literal("")
    for n, (_, _, text) in enumerate(checks):
        reason = reason + ibis.ifelse(verdict[f"_f{n}"], text + "; ", "")
    reason_code = ibis.cases(*[(verdict[f"_f{n}"], code) for n, (code, _, _) in enumerate(checks)],
                             else_=ibis.null("string"))

    def raw_text(column: str) -> ir.StringValue:
        return _text(verdict[f"_raw_{column}"]).fill_null("")

    def when_failed(value: ir.StringValue) -> ir.StringValue:
        return ibis.ifelse(failed, value, ibis.null("string"))

    checked = verdict.select(
        *BOOK_COLUMNS, "source_file",
        _q_locator=when_failed(verdict.source_file + "#" + ibis.literal("/").join(
            [raw_text(c) for c in ("seller_tax_id", "buyer_tax_id", "invoice_no")])),
        _q_reason_code=when_failed(reason_code),
        _q_reason=when_failed(reason.re_replace("; $", "")),
        _q_raw=when_failed(ibis.literal("|").join([raw_text(c) for c in BOOK_COLUMNS])),
    )
    return VatBooks(checked=checked)


def read_vat_books(con: BaseBackend, paths: Sequence[str | Path], *, country: str | None = "RU",
                   extra: Sequence[pa.Table] = ()) -> VatBooks:
    """Return the validated union of the invoice-book files (CSV or Parquet) and of ``extra`` Arrow tables.

    A path may be a URI (``hdfs://…``, ``s3a://…``) the engine reads itself. ``extra`` takes tables in the
    canonical layout, e.g. from :func:`case_invoice_books`.
    """
    parts: list[ir.Table] = []
    for given in paths:
        remote = "://" in str(given)
        path = str(given) if remote else Path(given)
        if not remote and not path.is_file():
            raise IngestError("invoice book file not found", where=str(path), hint="check the path")
        try:
            raw = engine.read_file(con, path, text=True)
        except IngestError:
            raise
        except Exception as exc:
            raise IngestError(f"cannot read invoice book: {exc}".splitlines()[0], where=str(path),
                              hint="give a CSV (header row, comma-separated, UTF-8) or Parquet file") from exc
        name = str(path).rstrip("/").rsplit("/", 1)[-1] if remote else path.name
        part = conform_layout(raw, where=str(path))
        if Path(name).suffix.lower() not in {".parquet", ".pq"}:
            part = strip_text(part)
        parts.append(part.mutate(source_file=ibis.literal(name)))
    for n, table in enumerate(extra):
        raw = engine.from_arrow(con, table, f"taxaudit_case_books_{n}")
        part = strip_text(conform_layout(raw, where="case invoices"))
        parts.append(part.mutate(source_file=ibis.literal(f"case-invoices-{n}")))
    if not parts:
        raise IngestError("no invoice books given", hint="pass --invoices PATH (CSV or Parquet) or --case DIR")
    # One validation over the union: tax ids are then collected and checked once for all files. Files whose
    # column types differ (typed Parquet beside text CSV) are unioned as text and parsed alike.
    if any(part.schema() != parts[0].schema() for part in parts[1:]):
        parts = [part.select(*[part[c].cast("string").name(c) for c in part.columns]) for part in parts]
    union = parts[0]
    for part in parts[1:]:
        union = union.union(part)
    return validate_books(union, country=country, strip=False)


def case_invoice_books(con_case: object) -> pa.Table:
    """Return a case's ``invoices`` table (e.g. SAF-T SourceDocuments) in the canonical invoice-book layout.

    The reporter is the seller for sales and the buyer for purchases; the period is taken from the invoice
    date's quarter when the source gave none.
    """
    query = """
        SELECT CASE WHEN book = 'sales' THEN seller_tax_id ELSE buyer_tax_id END AS reporter_tax_id,
               book,
               coalesce(period, strftime(invoice_date, '%Y') || '-Q' || CAST(quarter(invoice_date) AS VARCHAR))
                   AS period,
               seller_tax_id, buyer_tax_id, invoice_no,
               CAST(invoice_date AS VARCHAR) AS invoice_date,
               CAST(net_amount AS VARCHAR) AS net_amount,
               CAST(vat_amount AS VARCHAR) AS vat_amount,
               CAST(vat_rate AS VARCHAR) AS vat_rate,
               CAST(NULL AS VARCHAR) AS operation_code
        FROM invoices
    """
    return con_case.execute(query).to_arrow_table()  # type: ignore[attr-defined]
