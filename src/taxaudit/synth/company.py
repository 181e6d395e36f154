"""A seeded generator of a realistic small Norwegian trading company's year of books.

Chart of accounts after the Norwegian standard chart (NS 4102) with grouping codes, customers and suppliers
with valid organisation numbers (MOD11), daily sales and purchases with 25 % VAT, customer receipts and
supplier payments, monthly payroll with tax withholding and employer's contribution, bi-monthly VAT settlement,
bank charges; each transaction carries its system entry date and time and the user who keyed it.

Amounts are integer øre (cents) so totals are exact. The same seed always yields the same ledger, which lets the
SAF-T writer make two passes (totals and balances first, then the entries) without holding the year in memory.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

VAT_RATE = 25  # percent, Norwegian standard rate (merverdiavgiftsloven § 5-1)
EMPLOYER_CONTRIBUTION = 141  # per mille, zone 1 arbeidsgiveravgift


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    grouping_category: str
    grouping_code: str
    opening: int = 0  # signed øre, debit positive


CHART: tuple[Account, ...] = (
    Account("1200", "Machinery and equipment", "balanseverdiForAnleggsmiddel", "1200", 45_000_000),
    Account("1500", "Accounts receivable", "balanseverdiForOmloepsmiddel", "1500", 18_250_000),
    Account("1920", "Bank deposits", "balanseverdiForOmloepsmiddel", "1920", 95_000_000),
    Account("2000", "Share capital", "egenkapital", "2000", -30_000_000),
    Account("2050", "Other equity", "egenkapital", "2050", -103_750_000),
    Account("2400", "Accounts payable", "kortsiktigGjeld", "2400", -12_500_000),
    Account("2600", "Tax withholding", "kortsiktigGjeld", "2600", -4_500_000),
    Account("2700", "Output VAT, high rate", "kortsiktigGjeld", "2740", -6_000_000),
    Account("2710", "Input VAT, high rate", "kortsiktigGjeld", "2740", 2_500_000),
    Account("2740", "VAT settlement account", "kortsiktigGjeld", "2740", 0),
    Account("2770", "Employer's contribution payable", "kortsiktigGjeld", "2770", -4_000_000),
    Account("3000", "Sales revenue, subject to VAT, high rate", "salgsinntekt", "3000"),
    Account("4000", "Purchase of goods, high rate", "varekostnad", "4005"),
    Account("5000", "Salaries", "loennskostnad", "5000"),
    Account("5400", "Employer's contribution", "loennskostnad", "5400"),
    Account("6300", "Rent of premises", "annenDriftskostnad", "6300"),
    Account("6800", "Office supplies", "annenDriftskostnad", "6800"),
    Account("7770", "Bank charges", "annenDriftskostnad", "7770"),
)
USERS = ("ANNE", "BJORN", "KARI", "OLA")
CUSTOMER_NAMES = ("Nordlys", "Fjord", "Vik", "Berg", "Havblikk", "Solstreif", "Tindefjell", "Elvebakken", "Lysaker",
                  "Skog", "Bryggen", "Polar", "Kystlinje", "Granli", "Stavanger")
SUFFIXES = ("Handel AS", "Bygg AS", "Service AS", "Import AS", "Drift AS", "Marin AS", "Gruppen AS")
CITIES = (("Oslo", "0150"), ("Bergen", "5003"), ("Trondheim", "7011"), ("Stavanger", "4006"), ("Tromsø", "9008"))


def org_number(rng: random.Random) -> str:
    """Return a random Norwegian organisation number with a valid MOD11 check digit (Brønnøysund rules)."""
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    while True:
        digits = [rng.choice((8, 9))] + [rng.randrange(10) for _ in range(7)]
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        check = 0 if remainder == 0 else 11 - remainder
        if check != 10:
            return "".join(map(str, digits)) + str(check)


@dataclass(frozen=True)
class Party:
    party_id: str
    role: str  # customer | supplier | employee
    name: str
    tax_id: str
    city: str
    postal_code: str
    account_id: str


@dataclass
class Line:
    account_id: str
    debit: int  # øre
    credit: int  # øre
    description: str
    party_id: str | None = None
    tax_code: str | None = None
    tax_amount: int | None = None  # øre, positive; the side follows the line


@dataclass
class Txn:
    transaction_id: str
    journal_id: str
    voucher_type: str
    description: str
    transaction_date: date
    posting_date: date
    system_entry: datetime
    user: str
    lines: list[Line] = field(default_factory=list)
    modified: datetime | None = None

    @property
    def period(self) -> int:
        return self.posting_date.month


@dataclass(frozen=True)
class CompanySpec:
    """What to generate: seed, year and scale (sales invoices per working day sets the size)."""

    seed: int = 42
    year: int = 2025
    name: str = "Nordlys Handel AS"
    customers: int = 40
    suppliers: int = 25
    employees: int = 8
    sales_per_day: float = 6.0
    purchases_per_day: float = 3.0


@dataclass
class Ledger:
    """The generated master data plus a re-iterable stream of transactions."""

    spec: CompanySpec
    org_number: str
    accounts: tuple[Account, ...]
    customers: list[Party]
    suppliers: list[Party]
    employees: list[Party]

    def transactions(self) -> Iterator[Txn]:
        """Yield the year's transactions in posting order; deterministic for the spec's seed."""
        return _transactions(self)


JOURNALS = {
    "SALG": ("Sales journal", "SI"),
    "INNK": ("Purchase journal", "PI"),
    "BANK": ("Bank journal", "BP"),
    "LONN": ("Payroll journal", "PR"),
    "MVA": ("VAT settlement journal", "VAT"),
}


def generate_ledger(spec: CompanySpec | None = None) -> Ledger:
    """Return the master data of a synthetic company for ``spec`` (transactions are generated on demand)."""
    spec = spec or CompanySpec()
    rng = random.Random(spec.seed)
    company_org = org_number(rng)

    def parties(count: int, role: str, prefix: str, account: str) -> list[Party]:
        out = []
        used: set[str] = set()
        for i in range(count):
            if role == "employee":
                name = f"{rng.choice(('Ola', 'Kari', 'Per', 'Ingrid', 'Lars', 'Sigrid', 'Nils'))} " \
                       f"{rng.choice(('Hansen', 'Johansen', 'Olsen', 'Larsen', 'Berg', 'Dahl'))}"
            else:
                base = f"{rng.choice(CUSTOMER_NAMES)} {rng.choice(SUFFIXES)}"
                name, n = base, 1
                while name in used:  # more parties than name combinations: number them like real registries do
                    n += 1
                    name = base.replace(" AS", f" {n} AS")
            used.add(name)
            city, postal = rng.choice(CITIES)
            out.append(Party(f"{prefix}{i + 1:04d}", role, name, org_number(rng), city, postal, account))
        return out

    return Ledger(
        spec=spec,
        org_number=company_org,
        accounts=CHART,
        customers=parties(spec.customers, "customer", "K", "1500"),
        suppliers=parties(spec.suppliers, "supplier", "L", "2400"),
        employees=parties(spec.employees, "employee", "A", "2930"),
    )


def _amount(rng: random.Random, median: float, sigma: float = 1.0) -> int:
    """Return a log-normal amount in øre (whole kroner), which gives Benford-conforming leading digits."""
    return max(100, int(rng.lognormvariate(math.log(median), sigma)) * 100)


def _entry_time(rng: random.Random, day: date, delay_days: int = 0) -> datetime:
    minutes = int(rng.triangular(7 * 60 + 30, 17 * 60, 10 * 60))
    return datetime.combine(day + timedelta(days=delay_days), time(minutes // 60, minutes % 60, rng.randrange(60)))


def _working_days(year: int) -> list[date]:
    day, out = date(year, 1, 1), []
    while day.year == year:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def _vat(net: int) -> int:
    return (net * VAT_RATE + 50) // 100


def _transactions(ledger: Ledger) -> Iterator[Txn]:
    spec = ledger.spec
    rng = random.Random(spec.seed * 7919 + 1)
    counters: dict[str, int] = {}
    pending: list[tuple[date, int, Txn]] = []  # payments due later, ordered by date
    order = 0

    def new(journal: str, description: str, day: date, lines: list[Line], *, delay: int = 0) -> Txn:
        counters[journal] = counters.get(journal, 0) + 1
        voucher = JOURNALS[journal][1]
        return Txn(f"{journal}-{spec.year}-{counters[journal]:06d}", journal, voucher, description, day, day,
                   _entry_time(rng, day, delay), rng.choice(USERS), lines)

    def schedule(day: date, txn_factory: tuple) -> None:
        nonlocal order
        order += 1
        heapq.heappush(pending, (day, order, txn_factory))

    year_end = date(spec.year, 12, 31)
    term: dict[str, int] = {"2700": 0, "2710": 0, "2600": 0, "2770": 0}

    def track(txn: Txn) -> Txn:
        for line in txn.lines:
            if line.account_id in term:
                term[line.account_id] += line.debit - line.credit
        return txn

    days = _working_days(spec.year)
    month_ends = {a for a, b in zip(days, [*days[1:], None], strict=True) if b is None or b.month != a.month}
    month_starts = {a for a, b in zip(days, [None, *days[:-1]], strict=True) if b is None or b.month != a.month}
    for day in days:
        # Payments and receipts that fall due today (or on the last weekend) go first.
        while pending and pending[0][0] <= day:
            _, _, (journal, description, lines) = heapq.heappop(pending)
            yield new(journal, description, day, lines)  # settlements of earlier terms stay out of `term`
        for _ in range(_poisson(rng, spec.sales_per_day)):
            customer = rng.choice(ledger.customers)
            net = _amount(rng, 9_000)
            vat = _vat(net)
            yield track(new("SALG", f"Invoice to {customer.name}", day, [
                Line("1500", net + vat, 0, f"Invoice {customer.name}", customer.party_id),
                Line("3000", 0, net, "Sale of goods", tax_code="3", tax_amount=vat),
                Line("2700", 0, vat, "Output VAT 25%"),
            ]))
            due = day + timedelta(days=rng.choice((14, 14, 21, 30, 30, 45)))
            if due <= year_end:
                schedule(due, ("BANK", f"Payment from {customer.name}", [
                    Line("1920", net + vat, 0, "Customer payment"),
                    Line("1500", 0, net + vat, f"Payment {customer.name}", customer.party_id),
                ]))
        for _ in range(_poisson(rng, spec.purchases_per_day)):
            supplier = rng.choice(ledger.suppliers)
            account = rng.choices(("4000", "6800"), weights=(8, 2))[0]
            net = _amount(rng, 6_000 if account == "4000" else 900)
            vat = _vat(net)
            yield track(new("INNK", f"Invoice from {supplier.name}", day, [
                Line(account, net, 0, "Purchase of goods" if account == "4000" else "Office supplies",
                     tax_code="1", tax_amount=vat),
                Line("2710", vat, 0, "Input VAT 25%"),
                Line("2400", 0, net + vat, f"Invoice {supplier.name}", supplier.party_id),
            ], delay=rng.choice((0, 0, 0, 1, 2))))
            due = day + timedelta(days=rng.choice((10, 14, 30)))
            if due <= year_end:
                schedule(due, ("BANK", f"Payment to {supplier.name}", [
                    Line("2400", net + vat, 0, f"Payment {supplier.name}", supplier.party_id),
                    Line("1920", 0, net + vat, "Supplier payment"),
                ]))
        if day in month_starts:
            yield new("BANK", "Rent of premises", day, [
                Line("6300", 4_500_000, 0, "Monthly rent"), Line("1920", 0, 4_500_000, "Rent paid")])
        if day in month_ends:
            for txn in _month_end(ledger, rng, day, new):
                yield track(txn)
            if day.month % 2 == 0:
                yield from _settle_term(day, new, term, schedule, year_end)


def _settle_term(day: date, new: Callable[..., Txn], term: dict[str, int],
                 schedule: Callable[[date, tuple], None], year_end: date) -> Iterator[Txn]:
    """Close a two-month VAT and withholding term (Norwegian terms are bi-monthly) and schedule the payments."""
    output_vat, input_vat = -term["2700"], term["2710"]
    payable = output_vat - input_vat
    yield new("MVA", f"VAT settlement term ending {day:%B %Y}", day, [
        Line("2700", output_vat, 0, "Output VAT for the term"),
        Line("2710", 0, input_vat, "Input VAT for the term"),
        Line("2740", 0, payable, "VAT payable") if payable >= 0 else Line("2740", -payable, 0, "VAT refundable"),
    ])
    term["2700"] = term["2710"] = 0
    withholding, contribution = -term["2600"], -term["2770"]
    term["2600"] = term["2770"] = 0
    due = date(day.year + (day.month == 12), day.month % 12 + 1, 15) + timedelta(days=30)
    if due <= year_end:
        if payable > 0:
            schedule(due, ("BANK", "VAT payment", [Line("2740", payable, 0, "VAT paid"),
                                                   Line("1920", 0, payable, "VAT paid")]))
        schedule(due, ("BANK", "Withholding tax and employer's contribution", [
            Line("2600", withholding, 0, "Tax withheld paid"),
            Line("2770", contribution, 0, "Employer's contribution paid"),
            Line("1920", 0, withholding + contribution, "Payment to the tax office"),
        ]))


def _month_end(ledger: Ledger, rng: random.Random, day: date, new: Callable[..., Txn]) -> Iterator[Txn]:
    gross = sum(_amount(rng, 48_000, 0.15) for _ in ledger.employees)
    withholding = gross * 32 // 100
    contribution = gross * EMPLOYER_CONTRIBUTION // 1000
    yield new("LONN", f"Payroll {day:%B %Y}", day, [
        Line("5000", gross, 0, "Gross salaries"),
        Line("2600", 0, withholding, "Tax withheld"),
        Line("1920", 0, gross - withholding, "Net salaries paid"),
    ])
    yield new("LONN", f"Employer's contribution {day:%B %Y}", day, [
        Line("5400", contribution, 0, "Employer's contribution"),
        Line("2770", 0, contribution, "Employer's contribution payable"),
    ])
    charge = rng.randrange(200, 900) * 100
    yield new("BANK", f"Bank charges {day:%B %Y}", day, [
        Line("7770", charge, 0, "Bank charges"), Line("1920", 0, charge, "Bank charges")])


def _poisson(rng: random.Random, mean: float) -> int:
    """Return a Poisson draw (Knuth's method; the means here are small)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
