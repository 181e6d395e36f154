"""Known irregularities planted into a synthetic company's books, with the answer key the checks must meet.

The clean stream of :func:`taxaudit.synth.generate_ledger` is rewritten transaction by transaction (so the
SAF-T writer can still read it twice): a posting moved to a Saturday, an entry keyed months after its date, an
invoice dropped from the sales journal (a numbering gap; the QuickBooks audit trail shows it deleted), a
supplier paid twice, an entry that does not balance, a purchase changed and a payment voided after the books
were closed, and purchase amounts invented around 4 800 (a Benford first-two-digits spike at 48).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from taxaudit.synth.company import Ledger, Line, Txn

BENFORD_DIGITS = 48


@dataclass(frozen=True)
class Plant:
    """One planted irregularity and the finding that must reveal it."""

    kind: str
    check_id: str
    subject_key: str | None  # the finding's subject_key; None when the finding is matched by ``evidence``
    source: str  # "saft" or "audit_trail": which demo source the finding is raised on
    description: str
    evidence: tuple[tuple[str, object], ...] = ()


@dataclass
class AlteredEntry:
    """An entry whose history the QuickBooks audit trail export shows: prior lines, latest lines, who and when."""

    txn: Txn
    state: str  # deleted | voided | changed
    prior: list[Line]
    changed_at: datetime
    changed_by: str


@dataclass
class PlantedBooks:
    """A ledger with planted irregularities: a re-iterable transaction stream, the answer key, the altered
    entries for the audit-trail export."""

    ledger: Ledger
    plants: list[Plant] = field(default_factory=list)
    altered: list[AlteredEntry] = field(default_factory=list)

    def transactions(self) -> Iterator[Txn]:
        """Yield the tampered year in posting order (deterministic, like the clean stream)."""
        return _tamper(self.ledger, None)


def _ids(year: int) -> dict[str, str]:
    return {
        "weekend": f"INNK-{year}-000150",
        "deleted": f"SALG-{year}-000100",
        "after_deleted": f"SALG-{year}-000101",
        "unbalanced": f"SALG-{year}-000200",
        "voided": f"BANK-{year}-000300",
        "changed": f"INNK-{year}-000600",
        "backdated": f"INNK-{year}-000650",
    }


def _next_saturday(day: date) -> date:
    return day + timedelta(days=(5 - day.weekday()) % 7 or 7)


def _benford_target(txn: Txn) -> bool:
    number = int(txn.transaction_id.rsplit("-", 1)[1])
    return txn.journal_id == "INNK" and number % 5 == 3 and len(txn.lines) == 3


def _tamper(ledger: Ledger, books: PlantedBooks | None) -> Iterator[Txn]:
    """Yield the clean stream with the plants applied; with ``books`` given also fill its answer key."""
    year = ledger.spec.year
    ids = _ids(year)
    after_close = date(year + 1, 2, 1)
    paid: Txn | None = None
    duplicate_done = False
    # The clean stream builds new Txn objects on every pass, so they can be changed in place.
    for txn in ledger.transactions():
        tid = txn.transaction_id
        if tid == ids["deleted"]:
            if books is not None:
                books.altered.append(AlteredEntry(txn, "deleted", txn.lines, datetime(year + 1, 2, 3, 22, 47, 31),
                                                  "OLA"))
            continue
        if tid == ids["weekend"]:
            saturday = _next_saturday(txn.posting_date)
            txn.transaction_date = txn.posting_date = saturday
            txn.system_entry = datetime.combine(saturday, time(11, 4, 9))
        elif tid == ids["unbalanced"]:
            txn.lines[1].credit -= 10_000  # 100.00 short on the revenue line
        elif tid == ids["voided"]:
            prior = copy.deepcopy(txn.lines)
            for line in txn.lines:
                line.debit = line.credit = 0
            txn.description = f"VOID: {txn.description}"
            txn.modified = datetime(year + 1, 1, 5, 8, 15)
            if books is not None:
                books.altered.append(AlteredEntry(txn, "voided", prior, txn.modified, "BJORN"))
        elif tid == ids["changed"]:
            prior = copy.deepcopy(txn.lines)
            for line in txn.lines:
                line.debit *= 2
                line.credit *= 2
                if line.tax_amount:
                    line.tax_amount *= 2
            txn.modified = datetime.combine(after_close + timedelta(days=9), time(16, 5, 10))
            if books is not None:
                books.altered.append(AlteredEntry(txn, "changed", prior, txn.modified, "KARI"))
        elif tid == ids["backdated"]:
            txn.system_entry = datetime.combine(after_close + timedelta(days=19), time(9, 30))
        elif _benford_target(txn):
            number = int(tid.rsplit("-", 1)[1])
            net = (BENFORD_DIGITS * 100 + number * 37 % 100) * 100  # 4 800.00 - 4 899.00 kroner
            vat = (net * 25 + 50) // 100
            expense, input_vat, payable = txn.lines
            expense.debit, expense.tax_amount, input_vat.debit, payable.credit = net, vat, vat, net + vat
        if txn.journal_id == "BANK" and txn.description.startswith("Payment to") and paid is None and \
                txn.posting_date.month == 4:
            paid = txn
        elif paid is not None and not duplicate_done and txn.journal_id == "BANK" and \
                txn.description.startswith("Payment from") and 0 < (txn.posting_date - paid.posting_date).days <= 5:
            txn.lines = copy.deepcopy(paid.lines)
            txn.description = paid.description
            duplicate_done = True
            if books is not None:
                books.plants.append(Plant("duplicate_payment", "journal.duplicate_payments",
                                          f"{paid.transaction_id}+{tid}", "saft",
                                          f"{paid.description} paid again in {tid}"))
        yield txn


def plant_irregularities(ledger: Ledger) -> PlantedBooks:
    """Return the ledger with planted irregularities and its answer key (one pass over the stream)."""
    books = PlantedBooks(ledger)
    for _ in _tamper(ledger, books):
        pass
    ids = _ids(ledger.spec.year)
    books.plants[:0] = [
        Plant("weekend_posting", "journal.weekend_postings", ids["weekend"], "saft",
              "a purchase invoice moved to a Saturday"),
        Plant("numbering_gap", "integrity.entry_numbering", ids["after_deleted"], "saft",
              f"sales invoice {ids['deleted']} removed from the journal"),
        Plant("unbalanced_entry", "integrity.entry_balance", ids["unbalanced"], "saft",
              "a sales invoice whose revenue line is 100.00 short"),
        Plant("backdated_entry", "audit.backdated_entries", ids["backdated"], "saft",
              "a purchase keyed in February of the next year, dated in the audited year"),
        Plant("entered_after_closing", "audit.after_closing_date", ids["backdated"], "saft",
              "the back-dated purchase was keyed after the books were closed"),
        Plant("changed_after_closing", "audit.after_closing_date", ids["changed"], "saft",
              "a purchase invoice doubled after the books were closed"),
        Plant("changed_entry", "audit.changed_entries", f"Bill {ids['changed']}", "audit_trail",
              "the doubled purchase, with its original amounts as the prior version"),
        Plant("deleted_entry", "audit.deleted_entries", f"Invoice {ids['deleted']}", "audit_trail",
              "the removed sales invoice, deleted in February of the next year"),
        Plant("voided_entry", "audit.voided_entries", f"Check {ids['voided']}", "audit_trail",
              "a payment voided after year end"),
        Plant("benford_distortion", "benford.first_two_digits", None, "saft",
              "one purchase in five re-keyed with an invented net amount of 4 8xx kroner",
              (("digit", BENFORD_DIGITS),)),
    ]
    return books
