"""A seeded synthetic national-like economy of VAT invoice books, with planted discrepancies and an answer key.

Taxpayers trade along power-law links (a few large suppliers and buyers, many small ones) that run from
upstream to downstream only, so the honest economy has no trading cycles; every cycle, gap, mismatch, duplicate
claim, non-filer and unclaimed sale in the books is planted and listed in the answer key with the class the
matching (:mod:`taxaudit.match.classify`) must give it. The same seed gives the same economy on any machine.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from taxaudit.ingest.vat_books import BOOK_COLUMNS, inn_check_digits

BOOK_SCHEMA = pa.schema([
    ("reporter_tax_id", pa.string()),
    ("book", pa.string()),
    ("period", pa.string()),
    ("seller_tax_id", pa.string()),
    ("buyer_tax_id", pa.string()),
    ("invoice_no", pa.string()),
    ("invoice_date", pa.date32()),
    ("net_amount", pa.decimal128(18, 2)),
    ("vat_amount", pa.decimal128(18, 2)),
    ("vat_rate", pa.decimal128(9, 4)),
    ("operation_code", pa.string()),
])
ANSWER_COLUMNS = ("plant_id", "kind", "expected_class", "side", "seller_tax_id", "buyer_tax_id", "invoice_no",
                  "invoice_date", "members", "reason_code")


@dataclass(frozen=True)
class Plants:
    """How many cases of each kind to plant in the honest economy."""

    gaps: int = 6
    vat_mismatches: int = 5
    period_mismatches: int = 4
    date_mismatches: int = 4
    duplicate_same_buyer: int = 3
    duplicate_two_buyers: int = 3
    unclaimed_sales: int = 5
    non_filers: int = 3
    carousels: int = 2
    bad_rows: bool = True


@dataclass
class Economy:
    """Typed invoice books, rows that must be quarantined (as text), taxpayers, and the answer key."""

    books: pa.Table
    bad_rows: pa.Table
    taxpayers: list[str]
    answer_key: list[dict[str, str]]
    period: str
    carousel_window_days: int = 30
    stats: dict[str, int] = field(default_factory=dict)


def make_inns(count: int, *, start: int = 0, person_share: float = 0.1) -> list[str]:
    """Return ``count`` distinct valid Russian INNs (10-digit organisations, some 12-digit persons)."""
    inns = []
    for i in range(start, start + count):
        region = 10 + i % 80
        if (i * 7919) % 1000 < person_share * 1000:
            body = f"{region:02d}{i % 10**8:08d}"
        else:
            body = f"{region:02d}{i % 10**7:07d}"
        inns.append(body + inn_check_digits(body))
    return inns


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """Return the first and last day of a calendar quarter (the Russian VAT tax period, Tax Code art. 163)."""
    first = date(year, 3 * quarter - 2, 1)
    nxt = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return first, nxt - timedelta(days=1)


AMOUNT_TYPE = pa.decimal128(18, 2)


def decimal_from_cents(cents: np.ndarray, scale_type: pa.DataType = AMOUNT_TYPE) -> pa.Array:
    """Return a decimal128 Arrow array whose unscaled values are the integers ``cents`` (no float rounding)."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(scale_type, len(cents), [None, pa.py_buffer(words)])


class _Links:
    """Power-law seller→buyer links running from lower to higher upstream rank (so no honest cycles)."""

    def __init__(self, rng: np.random.Generator, taxpayers: int, links: int, alpha: float = 1.1) -> None:
        size = 1.0 / np.arange(1, taxpayers + 1) ** alpha
        size /= size.sum()
        order = rng.permutation(taxpayers)  # upstream rank of each taxpayer
        seller = rng.choice(taxpayers, size=links, p=size)
        buyer = rng.choice(taxpayers, size=links, p=rng.permutation(size))
        swap = order[seller] > order[buyer]
        seller, buyer = np.where(swap, buyer, seller), np.where(swap, seller, buyer)
        keep = seller != buyer
        pairs = np.unique(np.stack([seller[keep], buyer[keep]], axis=1), axis=0)
        self.seller, self.buyer = pairs[:, 0], pairs[:, 1]
        weight = 1.0 / np.arange(1, len(pairs) + 1) ** 0.8
        self.weight = rng.permutation(weight / weight.sum())
        self.order = order


def _legit_books(rng: np.random.Generator, links: _Links, inns: pa.Array, start: int, count: int,
                 first_day: date, days: int, period: str) -> tuple[pa.Table, pa.Table]:
    """Return (sales, purchases) tables of ``count`` honest invoices numbered from ``start``, row i ↔ row i."""
    pick = rng.choice(len(links.seller), size=count, p=links.weight)
    seller = inns.take(pa.array(links.seller[pick]))
    buyer = inns.take(pa.array(links.buyer[pick]))
    seq = pc.utf8_lpad(pc.cast(pa.array(np.arange(start, start + count) + 1), pa.string()), 7, "0")
    style = rng.integers(0, 10, size=count)
    prefixed = pa.array(style < 3)
    sales_no = pc.if_else(prefixed, pc.binary_join_element_wise("СФ-", seq, ""), seq)
    # Buyers retype the number: sometimes exactly, sometimes without leading zeros, in lower case or spaced.
    typed = pc.if_else(
        prefixed,
        pc.if_else(pa.array(style == 0), pc.binary_join_element_wise("сф ", seq, ""), sales_no),
        pc.if_else(pa.array(style > 6), pc.utf8_ltrim(seq, "0"), seq),
    )
    day = np.datetime64(first_day) + rng.integers(0, days, size=count).astype("timedelta64[D]")
    invoice_date = pa.array(day.astype("datetime64[D]"), type=pa.date32())
    net = np.clip(np.round(np.exp(rng.normal(11.0, 1.6, size=count))), 100, 10**11).astype(np.int64)
    rate = np.where(rng.random(count) < 0.85, 20, 10)
    vat = (net * rate + 50) // 100
    common = {
        "period": pa.array([period] * count, pa.string()),
        "seller_tax_id": seller,
        "buyer_tax_id": buyer,
        "invoice_date": invoice_date,
        "net_amount": decimal_from_cents(net),
        "vat_amount": decimal_from_cents(vat),
        "vat_rate": decimal_from_cents(rate * 10000, pa.decimal128(9, 4)),
        "operation_code": pa.array(["01"] * count, pa.string()),
    }
    sales = dict(common, reporter_tax_id=seller, book=pa.array(["sales"] * count), invoice_no=sales_no)
    purchases = dict(common, reporter_tax_id=buyer, book=pa.array(["purchases"] * count), invoice_no=typed)
    return (pa.table({c: sales[c] for c in BOOK_SCHEMA.names}, schema=BOOK_SCHEMA),
            pa.table({c: purchases[c] for c in BOOK_SCHEMA.names}, schema=BOOK_SCHEMA))


def _setup(taxpayers: int, seed: int, year: int, quarter: int) -> tuple[np.random.Generator, _Links, list[str],
                                                                          date, int, str]:
    rng = np.random.default_rng(seed)
    inns = make_inns(taxpayers)
    links = _Links(rng, taxpayers, links=max(4 * taxpayers, 10))
    first, last = quarter_bounds(year, quarter)
    return rng, links, inns, first, (last - first).days + 1, f"{year}-Q{quarter}"


def generate_economy(taxpayers: int = 2000, invoices: int = 20000, *, seed: int = 0, year: int = 2024,
                     quarter: int = 1, plants: Plants | None = None) -> Economy:
    """Return a seeded economy of ``invoices`` honest invoices among ``taxpayers`` plus the planted cases."""
    plants = plants or Plants()
    rng, links, inns, first, days, period = _setup(taxpayers, seed, year, quarter)
    sales, purchases = _legit_books(rng, links, pa.array(inns), 0, invoices, first, days, period)
    s_rows, p_rows = sales.to_pylist(), purchases.to_pylist()
    key: list[dict[str, str]] = []

    def answer(kind: str, expected: str, side: str, row: dict, **extra: str) -> None:
        key.append({"plant_id": f"{kind}-{len(key) + 1}", "kind": kind, "expected_class": expected, "side": side,
                    "seller_tax_id": row["seller_tax_id"], "buyer_tax_id": row["buyer_tax_id"] or "",
                    "invoice_no": row["invoice_no"], "invoice_date": str(row["invoice_date"]),
                    "members": extra.get("members", ""), "reason_code": extra.get("reason_code", "")})

    # Planted cases use distinct honest invoices, dated before the quarter's last day (room for a shifted date),
    # whose seller sells more than once (so it still files a sales book when one sale is removed).
    sales_per_seller = pc.value_counts(sales["seller_tax_id"]).to_pylist()
    busy = {d["values"] for d in sales_per_seller if d["counts"] > 1}
    last_day = first + timedelta(days=days - 1)
    pool = [i for i in rng.permutation(invoices).tolist()
            if s_rows[i]["seller_tax_id"] in busy and s_rows[i]["invoice_date"] < last_day]
    cursor = iter(pool)
    drop_sales: set[int] = set()
    drop_purchases: set[int] = set()
    extra_purchases: list[dict] = []
    extra_sales: list[dict] = []
    year_q, q = (year, quarter + 1) if quarter < 4 else (year + 1, 1)
    next_period = f"{year_q}-Q{q}"

    for _ in range(plants.gaps):
        i = next(cursor)
        drop_sales.add(i)
        answer("gap", "no_matching_sale", "purchase", p_rows[i])
    for _ in range(plants.vat_mismatches):
        i = next(cursor)
        p_rows[i]["vat_amount"] += 500
        answer("vat_mismatch", "vat_mismatch", "purchase", p_rows[i])
    for _ in range(plants.period_mismatches):
        i = next(cursor)
        s_rows[i]["period"] = next_period
        answer("period_mismatch", "period_mismatch", "purchase", p_rows[i])
    for _ in range(plants.date_mismatches):
        i = next(cursor)
        p_rows[i]["invoice_date"] += timedelta(days=1)
        answer("date_mismatch", "date_mismatch", "purchase", p_rows[i])
    for _ in range(plants.duplicate_same_buyer):
        i = next(cursor)
        extra_purchases.append(dict(p_rows[i]))
        answer("duplicate_same_buyer", "duplicate_claim", "purchase", p_rows[i])
    for _ in range(plants.duplicate_two_buyers):
        i = next(cursor)
        seller_rank = links.order[inns.index(p_rows[i]["seller_tax_id"])]
        other = next(inns[j] for j in rng.permutation(taxpayers).tolist()
                     if links.order[j] > seller_rank and inns[j] != p_rows[i]["buyer_tax_id"])
        twin = dict(p_rows[i], buyer_tax_id=other, reporter_tax_id=other)
        extra_purchases.append(twin)
        answer("duplicate_two_buyers", "duplicate_claim", "purchase", twin)
    for _ in range(plants.unclaimed_sales):
        i = next(cursor)
        drop_purchases.add(i)
        answer("unclaimed_sale", "sale_not_claimed", "sale", s_rows[i])

    fresh = iter(make_inns(plants.non_filers + 4 * plants.carousels, start=taxpayers + 1000))
    template = dict(p_rows[0])
    for n in range(plants.non_filers):
        ghost = next(fresh)
        for m in range(2):
            buyer = inns[int(rng.integers(0, taxpayers))]
            claim = dict(template, reporter_tax_id=buyer, seller_tax_id=ghost, buyer_tax_id=buyer,
                         invoice_no=f"NF{n}-{m + 1}", invoice_date=first + timedelta(days=5 + m))
            extra_purchases.append(claim)
            answer("non_filer", "seller_not_filed", "purchase", claim)

    window = 30
    for c in range(plants.carousels):
        size = 3 + c % 2
        members = [next(fresh) for _ in range(size)]
        start_day = first + timedelta(days=int(rng.integers(0, max(1, days - 12))))
        for k in range(size):
            seller, buyer = members[k], members[(k + 1) % size]
            row = dict(template, seller_tax_id=seller, buyer_tax_id=buyer, invoice_no=f"K{c}-{k + 1}",
                       invoice_date=start_day + timedelta(days=2 * k), net_amount=Decimal("5000000.00"),
                       vat_amount=Decimal("1000000.00"), vat_rate=Decimal("20"))
            claim = dict(row, reporter_tax_id=buyer, book="purchases")
            extra_purchases.append(claim)
            if k == 0:  # the missing trader charges VAT it never reports: the buyer's deduction is a gap
                answer("carousel", "no_matching_sale", "purchase", claim, members=",".join(members))
            else:
                extra_sales.append(dict(row, reporter_tax_id=seller, book="sales"))

    kept_sales = [r for i, r in enumerate(s_rows) if i not in drop_sales] + extra_sales
    kept_purchases = [r for i, r in enumerate(p_rows) if i not in drop_purchases] + extra_purchases
    books = pa.Table.from_pylist(kept_sales + kept_purchases, schema=BOOK_SCHEMA)
    bad = _bad_rows(p_rows[1], answer) if plants.bad_rows else []
    bad_table = pa.table({c: pa.array([r[c] for r in bad], pa.string()) for c in BOOK_COLUMNS})
    return Economy(books=books, bad_rows=bad_table, taxpayers=inns, answer_key=key, period=period,
                   carousel_window_days=window,
                   stats={"sales": len(kept_sales), "purchases": len(kept_purchases), "bad_rows": len(bad)})


def _bad_rows(row: dict, answer: Callable[..., None]) -> list[dict[str, str]]:
    """Return text rows that validation must quarantine, each recorded in the answer key with its reason."""
    text = {c: "" if row[c] is None else str(row[c]) for c in BOOK_COLUMNS}
    broken_inn = text["seller_tax_id"][:-1] + str((int(text["seller_tax_id"][-1]) + 1) % 10)
    cases = [
        ("bad_tax_id", dict(text, seller_tax_id=broken_inn, invoice_no="BAD-INN")),
        ("bad_date", dict(text, invoice_date="2024-02-30", invoice_no="BAD-DATE")),
        ("bad_amount", dict(text, vat_amount="12.345", invoice_no="BAD-AMOUNT")),
        ("missing_invoice_no", dict(text, invoice_no="")),
        ("bad_book", dict(text, book="sale", invoice_no="BAD-BOOK")),
    ]
    rows = []
    for reason, bad in cases:
        rows.append(bad)
        answer("bad_row", "quarantined", "", bad, reason_code=reason)
    return rows


def write_economy(economy: Economy, directory: Path, *, fmt: str = "parquet") -> list[Path]:
    """Write the books (Parquet typed, or CSV text), the rows to quarantine and ``answer_key.csv``; return books."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    if fmt == "parquet":
        paths.append(directory / "books.parquet")
        pq.write_table(economy.books, paths[-1])
    elif fmt == "csv":
        paths.append(directory / "books.csv")
        _write_csv(paths[-1], economy.books)
    else:
        raise ValueError(f"fmt is parquet or csv, not {fmt!r}")
    if economy.bad_rows.num_rows:
        paths.append(directory / "bad_rows.csv")
        _write_csv(paths[-1], economy.bad_rows)
    with (directory / "answer_key.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=ANSWER_COLUMNS)
        writer.writeheader()
        writer.writerows(economy.answer_key)
    return paths


def _write_csv(path: Path, table: pa.Table) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(table.column_names)
        for row in table.to_pylist():
            writer.writerow(["" if v is None else str(v) for v in row.values()])


def honest_batches(taxpayers: int, invoices: int, *, seed: int = 0, year: int = 2024, quarter: int = 1,
                   batch_size: int = 1_000_000) -> Iterator[tuple[pa.Table, pa.Table]]:
    """Yield (sales, purchases) batches of an honest economy too large to hold at once (for benchmarks)."""
    rng, links, inns, first, days, period = _setup(taxpayers, seed, year, quarter)
    ids = pa.array(inns)
    for start in range(0, invoices, batch_size):
        yield _legit_books(rng, links, ids, start, min(batch_size, invoices - start), first, days, period)


def write_honest_parquet(directory: Path, taxpayers: int, invoices: int, *, seed: int = 0,
                         batch_size: int = 1_000_000) -> tuple[Path, Path]:
    """Write an honest economy's sales and purchase books to two Parquet files, batch by batch; return them."""
    directory.mkdir(parents=True, exist_ok=True)
    sales_path, purchases_path = directory / "sales.parquet", directory / "purchases.parquet"
    with pq.ParquetWriter(sales_path, BOOK_SCHEMA) as s_out, pq.ParquetWriter(purchases_path, BOOK_SCHEMA) as p_out:
        for sales, purchases in honest_batches(taxpayers, invoices, seed=seed, batch_size=batch_size):
            s_out.write_table(sales)
            p_out.write_table(purchases)
    return sales_path, purchases_path
