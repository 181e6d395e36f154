"""Cross-match deductions claimed in purchase books against VAT charged in sales books, and classify each invoice.

This is the comparison ASK NDS-2 runs on every VAT return (seed 002; Tax Code of the Russian Federation art. 88
p. 3: a discrepancy between a return and the counterparties' returns triggers a request for explanations).
Everything here is an Ibis expression built once and run by whichever engine :mod:`taxaudit.engine` gave.

Classes of a purchase-book row (a deduction claimed), the first that applies:

``duplicate_claim``     the same invoice (seller, number, date) is claimed again — by the same buyer or another;
                        the first claim (the one naming the buyer the seller invoiced, then the earliest) keeps
                        its own class
``matched``             the seller's sales book has the invoice and VAT agrees within the tolerance and period
``vat_mismatch``        the invoice is in the sales book but the VAT differs by more than the tolerance
``period_mismatch``     the invoice is in the sales book of another tax period
``date_mismatch``       the seller has an invoice with this number for this buyer, but of another date
``seller_not_filed``    no such sale, and the seller filed no book at all for the period (missing trader)
``no_matching_sale``    no such sale although the seller filed: the VAT gap ("разрыв")

A sales-book row with a named buyer that no purchase book claims is ``sale_not_claimed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import ibis
from ibis.expr import types as ir

from taxaudit.match.normalize import NumberNormalization, invoice_key

CLAIM_CLASSES = (
    "matched",
    "vat_mismatch",
    "period_mismatch",
    "date_mismatch",
    "duplicate_claim",
    "seller_not_filed",
    "no_matching_sale",
)
SALE_CLASSES = ("sale_not_claimed",)
CLASSES = CLAIM_CLASSES + SALE_CLASSES
# Deductions without any seller's VAT behind them: the whole claimed VAT is the gap.
GAP_CLASSES = ("duplicate_claim", "seller_not_filed", "no_matching_sale")
# Deductions the seller never charged at all: the point where a chain of invoices breaks ("разрыв").
BREAK_CLASSES = ("seller_not_filed", "no_matching_sale")
AMOUNT = "decimal(18, 2)"

INVOICE_COLUMNS = (
    "side",
    "match_class",
    "reporter_tax_id",
    "period",
    "seller_tax_id",
    "buyer_tax_id",
    "invoice_no",
    "invoice_key",
    "invoice_date",
    "vat_amount",
    "counterpart_vat",
    "counterpart_period",
    "counterpart_date",
    "confirmed_vat",
    "gap_vat",
    "source_file",
)


@dataclass(frozen=True)
class MatchOptions:
    """How strictly invoices are compared: VAT tolerance (absolute, in currency units) and number rules."""

    vat_tolerance: Decimal = Decimal("1.00")
    numbers: NumberNormalization = field(default_factory=NumberNormalization)


def classify_invoices(books: ir.Table, options: MatchOptions | None = None) -> ir.Table:
    """Return one row per purchase-book row and per unclaimed sale, with its class and confirmed/gap VAT.

    ``books`` is the validated canonical layout (:mod:`taxaudit.ingest.vat_books`), optionally already carrying
    the ``invoice_key`` of :func:`with_invoice_key` (then ``options.numbers`` is not applied again).
    Columns: :data:`INVOICE_COLUMNS`.
    """
    options = options or MatchOptions()
    if "source_file" not in books.columns:
        books = books.mutate(source_file=ibis.null("string"))
    keyed = books if "invoice_key" in books.columns else with_invoice_key(books, options)
    sales = keyed.filter(keyed.book == "sales")
    purchases = keyed.filter(keyed.book == "purchases")

    exact = sales.group_by(
        s_seller=sales.seller_tax_id, s_buyer=sales.buyer_tax_id, s_key=sales.invoice_key, s_date=sales.invoice_date
    ).aggregate(s_vat=sales.vat_amount.sum(), s_period=sales.period.min())
    loose = sales.group_by(
        l_seller=sales.seller_tax_id, l_buyer=sales.buyer_tax_id, l_key=sales.invoice_key
    ).aggregate(l_vat=sales.vat_amount.sum(), l_period=sales.period.min(), l_date=sales.invoice_date.min())
    filers = keyed.select(f_reporter=keyed.reporter_tax_id, f_period=keyed.period).distinct()

    joined = (
        purchases.left_join(
            exact,
            [purchases.seller_tax_id == exact.s_seller, purchases.buyer_tax_id == exact.s_buyer,
             purchases.invoice_key == exact.s_key, purchases.invoice_date == exact.s_date],
        )
        .left_join(
            loose,
            [purchases.seller_tax_id == loose.l_seller, purchases.buyer_tax_id == loose.l_buyer,
             purchases.invoice_key == loose.l_key],
        )
        .left_join(filers, [purchases.seller_tax_id == filers.f_reporter, purchases.period == filers.f_period])
    )
    # Carry only what the classes need through the window's sort: the join keys of the right sides are dead weight.
    joined = joined.select(
        "reporter_tax_id", "period", "seller_tax_id", "buyer_tax_id", "invoice_no", "invoice_key", "invoice_date",
        "net_amount", "vat_amount", "source_file", "s_vat", "s_period", "s_date", "l_vat", "l_period", "l_date",
        "f_reporter",
    )
    claim_order = ibis.window(
        group_by=[joined.seller_tax_id, joined.invoice_key, joined.invoice_date],
        order_by=[joined.s_vat.isnull().cast("int8"), joined.period, joined.buyer_tax_id, joined.reporter_tax_id,
                  joined.vat_amount, joined.net_amount, joined.invoice_no, joined.source_file],
    )
    ranked = joined.mutate(claim_rank=ibis.row_number().over(claim_order))

    tolerance = ibis.literal(options.vat_tolerance, type=AMOUNT)
    found_exact = ranked.s_vat.notnull()
    match_class = ibis.cases(
        (ranked.claim_rank > 0, "duplicate_claim"),  # row_number is 0-based in Ibis
        (found_exact & ((ranked.vat_amount - ranked.s_vat).abs() > tolerance), "vat_mismatch"),
        (found_exact & (ranked.period != ranked.s_period), "period_mismatch"),
        (found_exact, "matched"),
        (ranked.l_vat.notnull(), "date_mismatch"),
        (ranked.f_reporter.isnull(), "seller_not_filed"),
        else_="no_matching_sale",
    )
    counterpart_vat = ibis.coalesce(ranked.s_vat, ranked.l_vat).cast(AMOUNT)
    classified = ranked.mutate(
        match_class=match_class,
        counterpart_vat=counterpart_vat,
        counterpart_period=ibis.coalesce(ranked.s_period, ranked.l_period),
        counterpart_date=ibis.coalesce(ranked.s_date, ranked.l_date),
    )
    confirmed = ibis.ifelse(
        classified.match_class.isin(GAP_CLASSES),
        ibis.literal(Decimal("0.00"), type=AMOUNT),
        ibis.least(classified.vat_amount, classified.counterpart_vat),
    ).cast(AMOUNT)
    claims = classified.mutate(side=ibis.literal("purchase"), confirmed_vat=confirmed)
    # Ibis types a difference of two DECIMAL(18,2) as DECIMAL(18,2) and elides a cast to it, while the engines
    # widen it to (19,2); going through (38,2) makes the stored type DECIMAL(18,2) on both engines.
    claims = claims.mutate(gap_vat=(claims.vat_amount - claims.confirmed_vat).cast("decimal(38, 2)").cast(AMOUNT))

    # An anti-join needs no distinct right side (DISTINCT here was a whole extra aggregation of the purchases).
    claimed_keys = purchases.select(
        c_seller=purchases.seller_tax_id, c_buyer=purchases.buyer_tax_id, c_key=purchases.invoice_key
    )
    named_sales = sales.filter(sales.buyer_tax_id.notnull())
    unclaimed = named_sales.anti_join(
        claimed_keys,
        [named_sales.seller_tax_id == claimed_keys.c_seller, named_sales.buyer_tax_id == claimed_keys.c_buyer,
         named_sales.invoice_key == claimed_keys.c_key],
    )
    null_amount = ibis.null(AMOUNT)
    unclaimed = unclaimed.mutate(
        side=ibis.literal("sale"),
        match_class=ibis.literal("sale_not_claimed"),
        counterpart_vat=null_amount,
        counterpart_period=ibis.null("string"),
        counterpart_date=ibis.null("date"),
        confirmed_vat=null_amount,
        gap_vat=null_amount,
    )
    return claims.select(*INVOICE_COLUMNS).union(unclaimed.select(*INVOICE_COLUMNS))


def with_invoice_key(books: ir.Table, options: MatchOptions | None = None) -> ir.Table:
    """Return the books with their normalised ``invoice_key``; keep the result to normalise each number once."""
    options = options or MatchOptions()
    if "source_file" not in books.columns:
        books = books.mutate(source_file=ibis.null("string"))
    return books.mutate(invoice_key=invoice_key(books.invoice_no, options.numbers))


def class_totals(invoices: ir.Table) -> ir.Table:
    """Return per class: number of invoice rows and their VAT (claimed VAT for claims, charged VAT for sales)."""
    return invoices.group_by("match_class").aggregate(
        count=invoices.count(), vat=invoices.vat_amount.sum().cast("decimal(38, 2)")
    )


def _taxpayer_rows(table: ir.Table, tax_id: ir.StringValue, **values: ir.Value) -> ir.Table:
    """Return one row per input row in the long layout :func:`taxpayer_summary` sums; unnamed figures are zero."""
    zero_amount = ibis.literal(Decimal("0.00"), type=AMOUNT)
    zero_count = ibis.literal(0).cast("int64")
    defaults: dict[str, ir.Value] = {
        "filed": ibis.literal(0).cast("int64"), "claimed_vat": zero_amount, "confirmed_vat": zero_amount,
        "vat_gap": zero_amount, "charged_vat": zero_amount, "unfiled_vat_claimed_from": zero_amount,
        "claims": zero_count, "gap_claims": zero_count, "duplicate_claims": zero_count, "vat_mismatches": zero_count,
        "nonfiling_seller": ibis.null("string"),
    }
    columns = {name: values.get(name, default).cast(default.type()) for name, default in defaults.items()}
    return table.select(tax_id=tax_id, **columns)


def taxpayer_summary(invoices: ir.Table, books: ir.Table) -> ir.Table:
    """Return one row per taxpayer (reporter, buyer or seller) with the figures the risk rules read.

    ``claimed_vat``, ``confirmed_vat`` and ``vat_gap`` are the buyer's deductions; ``charged_vat`` the VAT of its
    sales book; ``unfiled_vat_claimed_from`` the VAT others claimed on its invoices while it filed nothing.
    """
    claims = invoices.filter(invoices.side == "purchase")
    as_buyer = _taxpayer_rows(
        claims, claims.buyer_tax_id,
        claimed_vat=claims.vat_amount, confirmed_vat=claims.confirmed_vat, vat_gap=claims.gap_vat,
        claims=ibis.literal(1), gap_claims=claims.match_class.isin(GAP_CLASSES),
        duplicate_claims=claims.match_class == "duplicate_claim", vat_mismatches=claims.match_class == "vat_mismatch",
        nonfiling_seller=ibis.ifelse(claims.match_class == "seller_not_filed", claims.seller_tax_id,
                                     ibis.null("string")),
    )
    unfiled = claims.filter(claims.match_class == "seller_not_filed")
    as_missing_seller = _taxpayer_rows(unfiled, unfiled.seller_tax_id, unfiled_vat_claimed_from=unfiled.vat_amount)
    sold = books.filter(books.book == "sales")
    as_seller = _taxpayer_rows(sold, sold.reporter_tax_id, filed=ibis.literal(1), charged_vat=sold.vat_amount)
    filers = books.filter(books.book == "purchases").select("reporter_tax_id").distinct()
    as_filer = _taxpayer_rows(filers, filers.reporter_tax_id, filed=ibis.literal(1))
    rows = as_buyer.union(as_missing_seller).union(as_seller).union(as_filer)
    money = "decimal(38, 2)"
    return rows.group_by("tax_id").aggregate(
        filed=rows.filed.max(),
        claimed_vat=rows.claimed_vat.sum().cast(money),
        confirmed_vat=rows.confirmed_vat.sum().cast(money),
        vat_gap=rows.vat_gap.sum().cast(money),
        charged_vat=rows.charged_vat.sum().cast(money),
        unfiled_vat_claimed_from=rows.unfiled_vat_claimed_from.sum().cast(money),
        claims=rows.claims.sum(),
        gap_claims=rows.gap_claims.sum(),
        duplicate_claims=rows.duplicate_claims.sum(),
        vat_mismatches=rows.vat_mismatches.sum(),
        nonfiling_counterparties=rows.nonfiling_seller.nunique(),
    )


def counterparty_edges(invoices: ir.Table) -> ir.Table:
    """Return the seller→buyer links weighted by VAT: invoices, VAT, gap VAT, break VAT, first/last invoice dates.

    ``gap_vat`` is every unconfirmed deduction on the link (mismatches and duplicates included); ``break_vat`` only
    the deductions the seller never charged (``no_matching_sale``, ``seller_not_filed``), where a chain breaks.
    """
    linked = invoices.filter(invoices.buyer_tax_id.notnull())
    is_break = linked.match_class.isin(BREAK_CLASSES)
    return linked.group_by(seller=linked.seller_tax_id, buyer=linked.buyer_tax_id).aggregate(
        invoices=linked.count(),
        vat=linked.vat_amount.sum().cast("decimal(38, 2)"),
        gap_vat=linked.gap_vat.sum().fill_null(Decimal("0.00")).cast("decimal(38, 2)"),
        break_vat=ibis.ifelse(is_break, linked.vat_amount, ibis.literal(Decimal("0.00"), type=AMOUNT))
        .sum().cast("decimal(38, 2)"),
        first_date=linked.invoice_date.min(),
        last_date=linked.invoice_date.max(),
    )
