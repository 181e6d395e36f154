"""Invoice-book validation: Russian INN check digits, dates, amounts; bad rows quarantined with reasons."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxaudit import engine
from taxaudit.errors import IngestError
from taxaudit.ingest.vat_books import (
    BOOK_COLUMNS,
    inn_check_digits,
    inn_is_valid,
    inn_valid_expr,
    read_vat_books,
    validate_books,
)

# Vectors from python-stdnum's stdnum/ru/inn.py doctests (valid: 123456789047, 1234567894; invalid: 123456789037,
# 1234567895) and the published INN of Sberbank (7707083893).
VALID = ["123456789047", "1234567894", "7707083893"]
INVALID = ["123456789037", "1234567895", "770708389", "77070838931", "77O7083893", "", "0000000001"]


@pytest.mark.parametrize("inn", VALID)
def test_known_valid_inns(inn: str) -> None:
    assert inn_is_valid(inn)


@pytest.mark.parametrize("inn", INVALID)
def test_known_invalid_inns(inn: str) -> None:
    assert not inn_is_valid(inn)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=9, max_size=9) | st.text(alphabet="0123456789", min_size=10,
                                                                       max_size=10),
       st.integers(min_value=0, max_value=11), st.integers(min_value=1, max_value=9))
def test_changing_one_digit_breaks_the_check(body: str, position: int, shift: int) -> None:
    inn = body + inn_check_digits(body)
    assert inn_is_valid(inn)
    position %= len(inn)
    if position >= len(body):  # altering a check digit itself
        broken = inn[:position] + str((int(inn[position]) + shift) % 10) + inn[position + 1:]
        assert not inn_is_valid(broken)


def test_ibis_expression_agrees_with_python() -> None:
    samples = [*VALID, *INVALID, "500100732259", "12345678904", None]
    con = engine.connect()
    table = ibis.memtable(pa.table({"tax_id": pa.array(samples, pa.string())}))
    got = engine.to_arrow(con, table.select(ok=inn_valid_expr(table.tax_id))).column("ok").to_pylist()
    assert got == [inn_is_valid(s) for s in samples]


def _row(**changes: str) -> dict[str, str]:
    row = {"reporter_tax_id": "7707083893", "book": "purchases", "period": "2024-Q1", "seller_tax_id": "1234567894",
           "buyer_tax_id": "7707083893", "invoice_no": "17", "invoice_date": "2024-01-15",
           "net_amount": "1000.00", "vat_amount": "200.00", "vat_rate": "20", "operation_code": "01"}
    row.update(changes)
    return row


def _validate(rows: list[dict[str, str]]):
    con = engine.connect()
    raw = ibis.memtable(pa.Table.from_pylist(rows))
    books = validate_books(raw, source="t.csv")
    return engine.to_arrow(con, books.books).to_pylist(), engine.to_arrow(con, books.quarantine).to_pylist()


def test_good_row_is_typed_with_russian_date_and_comma_decimals() -> None:
    good, bad = _validate([_row(invoice_date="15.01.2024", net_amount="1000,5", vat_amount=" 200,10 ")])
    assert bad == []
    assert good[0]["invoice_date"] == date(2024, 1, 15)
    assert good[0]["net_amount"] == Decimal("1000.50")
    assert good[0]["vat_amount"] == Decimal("200.10")
    assert good[0]["vat_rate"] == Decimal("20.0000")


BAD_ROWS = [
    ({"seller_tax_id": "1234567895"}, "bad_tax_id"),
    ({"buyer_tax_id": ""}, "bad_tax_id"),
    ({"book": "sale"}, "bad_book"),
    ({"period": "2024Q1"}, "bad_period"),
    ({"invoice_no": "  "}, "missing_invoice_no"),
    ({"invoice_date": "2024-02-30"}, "bad_date"),
    ({"invoice_date": "yesterday"}, "bad_date"),
    ({"vat_amount": "200.001"}, "bad_amount"),
    ({"net_amount": "1e5"}, "bad_amount"),
    ({"vat_rate": "twenty"}, "bad_vat_rate"),
]


def test_bad_rows_are_quarantined_with_their_reason() -> None:
    rows = [_row(invoice_no=f"ok-{n}") for n in range(3)]
    rows += [_row(**dict({"invoice_no": f"bad-{n}"}, **changes)) for n, (changes, _) in enumerate(BAD_ROWS)]
    good, bad = _validate(rows)
    assert sorted(r["invoice_no"] for r in good) == ["ok-0", "ok-1", "ok-2"]
    assert len(bad) == len(BAD_ROWS)  # nothing dropped: every row is either loaded or quarantined
    by_locator = {r["locator"]: r for r in bad}
    for n, (changes, code) in enumerate(BAD_ROWS):
        number = changes.get("invoice_no", f"bad-{n}").strip()
        seller = changes.get("seller_tax_id", "1234567894")
        buyer = changes.get("buyer_tax_id", "7707083893")
        found = by_locator[f"t.csv#{seller}/{buyer}/{number}"]
        assert found["reason_code"] == code
        assert found["source_file"] == "t.csv"
        assert found["raw"].count("|") == len(BOOK_COLUMNS) - 1


def test_every_reason_is_listed() -> None:
    _, bad = _validate([_row(seller_tax_id="1", invoice_date="x", vat_amount="?")])
    assert bad[0]["reason_code"] == "bad_tax_id"
    assert bad[0]["reason"].split("; ") == ["seller_tax_id fails the tax-id check", "invoice_date is not a valid date",
                                            "vat_amount is not an amount with at most 2 decimals"]


def test_sale_to_a_non_vat_payer_may_omit_the_buyer() -> None:
    good, bad = _validate([_row(book="sales", reporter_tax_id="1234567894", buyer_tax_id="")])
    assert bad == [] and good[0]["buyer_tax_id"] is None


def test_missing_column_is_an_error_naming_the_layout(tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    path.write_text("reporter_tax_id,book\n7707083893,sales\n", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        read_vat_books(engine.connect(), [path])
    assert "seller_tax_id" in caught.value.what and caught.value.where == str(path)


def test_missing_file_and_unknown_type_are_errors(tmp_path: Path) -> None:
    with pytest.raises(IngestError):
        read_vat_books(engine.connect(), [tmp_path / "nope.csv"])
    odd = tmp_path / "books.xls"
    odd.write_bytes(b"\x00")
    with pytest.raises(Exception, match="unsupported file type"):
        read_vat_books(engine.connect(), [odd])


def test_csv_and_parquet_give_the_same_books(economy_files: list[Path], economy_csv: list[Path]) -> None:
    con = engine.connect()
    order = ["book", "seller_tax_id", "buyer_tax_id", "invoice_no", "invoice_date", "reporter_tax_id", "period",
             "vat_amount"]
    cols = [c for c in BOOK_COLUMNS]
    a = engine.to_arrow(con, read_vat_books(con, economy_files).books.select(*cols).order_by(order))
    b = engine.to_arrow(con, read_vat_books(con, economy_csv).books.select(*cols).order_by(order))
    assert a.to_pylist() == b.to_pylist()


# Per column: values that pass and values that must be quarantined.
FIELD_VALUES = {
    "book": ["purchases", "sales", "refunds", ""],
    "period": ["2024-Q1", "2024-03", "2024-Q5", "Q1"],
    "seller_tax_id": ["1234567894", "123456789047", "1234567895", ""],
    "invoice_no": ["17", "СФ-0017", ""],
    "invoice_date": ["2024-01-15", "15.01.2024", "2024-02-30", "yesterday"],
    "vat_amount": ["200.00", "200,1", "200.001", "two hundred"],
    "vat_rate": ["20", "10%", "", "twenty"],
}


@settings(max_examples=20, deadline=None)
@given(st.lists(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in FIELD_VALUES.items()}),
                min_size=1, max_size=30))
def test_one_pass_splits_every_row_into_books_or_quarantine(changes: list[dict[str, str]]) -> None:
    """Kept once (as run_match keeps it), the checked table yields each row exactly once, valid or quarantined."""
    from taxaudit.ingest.vat_books import quarantined_rows, valid_rows

    con = engine.connect()
    rows = [_row(**c) for c in changes]
    checked = validate_books(ibis.memtable(pa.Table.from_pylist(rows)), source="t.csv").checked
    kept = engine.materialize(con, checked, "t_checked")
    good = engine.to_arrow(con, valid_rows(kept)).to_pylist()
    bad = engine.to_arrow(con, quarantined_rows(kept)).to_pylist()
    assert len(good) + len(bad) == len(rows)
    assert all(not c.startswith("_q_") for c in valid_rows(kept).columns)
    assert all(r["reason_code"] and r["reason"] and r["raw"].count("|") == len(BOOK_COLUMNS) - 1 for r in bad)
    # The same split as validating without keeping anything.
    direct = validate_books(ibis.memtable(pa.Table.from_pylist(rows)), source="t.csv")
    assert sorted(map(str, engine.to_arrow(con, direct.books).to_pylist())) == sorted(map(str, good))
