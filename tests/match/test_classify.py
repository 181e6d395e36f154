"""Matching classes: a worked example computed by hand, and every planted case of the economy in its class."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxaudit import engine
from taxaudit.ingest.vat_books import validate_books
from taxaudit.match.classify import MatchOptions, class_totals, classify_invoices, taxpayer_summary
from taxaudit.match.normalize import normalize_invoice_no
from taxaudit.match.run import run_match
from taxaudit.synth.economy import Economy, make_inns

S1, S2, GHOST, B1, B2 = make_inns(5, start=500)


def _book(reporter: str, book: str, seller: str, buyer: str, number: str, day: str, vat: str,
          period: str = "2024-Q1") -> dict[str, str]:
    net = str(Decimal(vat) * 5)
    return {"reporter_tax_id": reporter, "book": book, "period": period, "seller_tax_id": seller,
            "buyer_tax_id": buyer, "invoice_no": number, "invoice_date": day, "net_amount": net, "vat_amount": vat,
            "vat_rate": "20", "operation_code": "01"}


# Seller S1 issues four invoices to B1 and one to B2; S2 one to B1; GHOST files nothing.
WORKED = [
    _book(S1, "sales", S1, B1, "0001", "2024-01-10", "200.00"),
    _book(S1, "sales", S1, B1, "0002", "2024-01-11", "300.00"),
    _book(S1, "sales", S1, B1, "0003", "2024-01-12", "400.00", period="2024-Q2"),
    _book(S1, "sales", S1, B1, "0004", "2024-01-13", "500.00"),
    _book(S1, "sales", S1, B2, "0005", "2024-01-14", "600.00"),
    _book(S2, "sales", S2, B1, "A-9", "2024-02-01", "700.00"),
    _book(B1, "purchases", S1, B1, "1", "2024-01-10", "200.00"),        # matched (leading zeros)
    _book(B1, "purchases", S1, B1, "2", "2024-01-11", "350.00"),        # VAT 50.00 more than charged
    _book(B1, "purchases", S1, B1, "3", "2024-01-12", "400.00"),        # seller reported it in Q2
    _book(B1, "purchases", S1, B1, "4", "2024-01-14", "500.00"),        # wrong date
    _book(B1, "purchases", S1, B1, "1", "2024-01-10", "200.00"),        # claimed a second time
    _book(B1, "purchases", S1, B1, "77", "2024-01-20", "800.00"),       # no such sale: the gap
    _book(B1, "purchases", GHOST, B1, "X1", "2024-01-21", "900.00"),    # seller filed nothing
    _book(B2, "purchases", S1, B2, "00005", "2024-01-14", "600.00"),    # matched
    # S2's sale A-9 to B1 is never claimed
]


@pytest.fixture(scope="module")
def worked() -> tuple[list[dict], dict[str, dict]]:
    con = engine.connect()
    books = validate_books(ibis.memtable(pa.Table.from_pylist(WORKED)), source="worked.csv").books
    invoices = classify_invoices(books)
    rows = engine.to_arrow(con, invoices).to_pylist()
    summary = {r["tax_id"]: r for r in engine.to_arrow(con, taxpayer_summary(invoices, books)).to_pylist()}
    return rows, summary


def test_worked_example_classes(worked: tuple[list[dict], dict[str, dict]]) -> None:
    rows, _ = worked
    got = Counter((r["seller_tax_id"], r["invoice_key"], r["match_class"]) for r in rows)
    assert got == Counter({
        (S1, "1", "matched"): 1, (S1, "1", "duplicate_claim"): 1, (S1, "2", "vat_mismatch"): 1,
        (S1, "3", "period_mismatch"): 1, (S1, "4", "date_mismatch"): 1, (S1, "77", "no_matching_sale"): 1,
        (GHOST, "X1", "seller_not_filed"): 1, (S1, "5", "matched"): 1, (S2, "A9", "sale_not_claimed"): 1,
    })


def test_worked_example_buyer_totals(worked: tuple[list[dict], dict[str, dict]]) -> None:
    _, summary = worked
    b1 = summary[B1]
    # Claimed: 200 + 350 + 400 + 500 + 200 + 800 + 900 = 3350. Confirmed: 200 + min(350, 300) + 400 + 500 = 1400
    # (the duplicate, the gap and the non-filer's invoice confirm nothing). Gap = 3350 - 1400 = 1950.
    assert b1["claimed_vat"] == Decimal("3350.00")
    assert b1["confirmed_vat"] == Decimal("1400.00")
    assert b1["vat_gap"] == Decimal("1950.00")
    assert b1["nonfiling_counterparties"] == 1 and b1["duplicate_claims"] == 1 and b1["vat_mismatches"] == 1
    assert summary[B2]["vat_gap"] == Decimal("0.00")
    assert summary[GHOST]["filed"] == 0 and summary[GHOST]["unfiled_vat_claimed_from"] == Decimal("900.00")
    assert summary[S2]["charged_vat"] == Decimal("700.00")


def test_tolerance_is_configurable() -> None:
    con = engine.connect()
    books = validate_books(ibis.memtable(pa.Table.from_pylist(WORKED)), source="w").books
    loose = MatchOptions(vat_tolerance=Decimal("50.00"))
    classes = {r["match_class"]: r["count"] for r in engine.to_arrow(con, class_totals(
        classify_invoices(books, loose))).to_pylist()}
    assert "vat_mismatch" not in classes and classes["matched"] == 3


def test_every_planted_case_is_found_in_its_class(economy: Economy, economy_files: list[Path]) -> None:
    con = engine.connect()
    from taxaudit.ingest.vat_books import read_vat_books

    books = read_vat_books(con, economy_files)
    rows = engine.to_arrow(con, classify_invoices(books.books)).to_pylist()
    quarantined = engine.to_arrow(con, books.quarantine).to_pylist()
    index: dict[tuple, list[str]] = {}
    for r in rows:
        index.setdefault((r["seller_tax_id"], r["buyer_tax_id"], r["invoice_key"], str(r["invoice_date"])),
                         []).append(r["match_class"])
    planted = [k for k in economy.answer_key if k["kind"] != "bad_row"]
    assert planted
    for case in planted:
        key = (case["seller_tax_id"], case["buyer_tax_id"], normalize_invoice_no(case["invoice_no"]),
               case["invoice_date"])
        assert case["expected_class"] in index.get(key, []), case
    # Nothing else is flagged: the honest economy matches exactly.
    flagged = Counter(r["match_class"] for r in rows if r["match_class"] != "matched")
    expected = Counter(k["expected_class"] for k in planted)
    assert flagged == expected
    reasons = Counter(r["reason_code"] for r in quarantined)
    assert reasons == Counter(k["reason_code"] for k in economy.answer_key if k["kind"] == "bad_row")


def test_run_finds_planted_carousels_and_risk_groups(economy: Economy, economy_files: list[Path],
                                                     tmp_path: Path) -> None:
    run = run_match(economy_files, out_dir=tmp_path / "out")
    planted = {frozenset(k["members"].split(",")) for k in economy.answer_key if k["kind"] == "carousel"}
    assert {frozenset(c.members) for c in run.cycles} == planted
    groups = {a.tax_id: a for a in run.assessments}
    for members in planted:
        for member in members:
            assert groups[member].group == "high" and "RU-VAT-CAROUSEL" in groups[member].rules_fired
    for case in economy.answer_key:
        if case["kind"] == "non_filer":
            assert "RU-VAT-MISSING-TRADER" in groups[case["seller_tax_id"]].rules_fired
            assert "RU-VAT-NONFILING-SUPPLIER" in groups[case["buyer_tax_id"]].rules_fired
    summary = run.summary()
    assert summary["quarantined"] == 5 and summary["cycles"] == len(planted)
    assert sum(summary["risk_groups"].values()) == len(run.assessments)
    gap = sum(Decimal(summary["classes"][c]["vat"]) for c in ("no_matching_sale", "seller_not_filed",
                                                               "duplicate_claim"))
    # Every mismatch confirms only the smaller VAT, so the gap is at least the three gap classes' VAT.
    assert Decimal(summary["vat_gap"]) >= gap
    for name in ("discrepancies", "taxpayers", "quarantine", "xlsx", "cycles"):
        assert run.outputs[name].is_file()


BOOK_ROWS = st.lists(
    st.tuples(st.sampled_from(["sales", "purchases"]), st.sampled_from([S1, S2, GHOST]), st.sampled_from([B1, B2]),
              st.sampled_from(["1", "01", "2", "A-3"]), st.sampled_from(["2024-01-10", "2024-01-11"]),
              st.sampled_from(["100.00", "100.50", "250.00"]), st.sampled_from(["2024-Q1", "2024-Q2"])),
    min_size=1, max_size=30,
)


@settings(max_examples=8, deadline=None)
@given(BOOK_ROWS)
def test_every_claim_gets_one_class_and_vat_adds_up(rows: list[tuple]) -> None:
    books_in = [_book(buyer if book == "purchases" else seller, book, seller, buyer, number, day, vat, period)
                for book, seller, buyer, number, day, vat, period in rows]
    con = engine.connect()
    books = validate_books(ibis.memtable(pa.Table.from_pylist(books_in)), source="h").books
    out = engine.to_arrow(con, classify_invoices(books)).to_pylist()
    claims = [r for r in out if r["side"] == "purchase"]
    purchases = [r for r in books_in if r["book"] == "purchases"]
    assert len(claims) == len(purchases)  # nothing dropped, nothing doubled by the joins
    for claim in claims:
        assert claim["confirmed_vat"] + claim["gap_vat"] == claim["vat_amount"]
        assert Decimal("0.00") <= claim["confirmed_vat"] <= claim["vat_amount"]
    distinct = {(r["seller_tax_id"], normalize_invoice_no(r["invoice_no"]), r["invoice_date"]) for r in purchases}
    assert sum(c["match_class"] == "duplicate_claim" for c in claims) == len(purchases) - len(distinct)
