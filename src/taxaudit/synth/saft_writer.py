"""Write a synthetic ledger as a Norwegian SAF-T Financial 1.30 file, streaming, in two passes.

The first pass over the (deterministic) transaction stream computes the header control totals and the
closing balances that the format places before the entries; the second writes the entries. Memory stays
flat whatever the size. Output validates against Skatteetaten's 1.30 XSD.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from taxaudit.synth.company import JOURNALS, Ledger, Party, Txn

NAMESPACE = "urn:StandardAuditFile-Taxation-Financial:NO"


def _money(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    ore = abs(ore)
    return f"{sign}{ore // 100}.{ore % 100:02d}"


def _balance_pair(tag: str, ore: int) -> str:
    side = "Debit" if ore >= 0 else "Credit"
    return f"<{tag}{side}Balance>{_money(abs(ore))}</{tag}{side}Balance>"


class Totals:
    """Control totals and balances from the first pass."""

    def __init__(self) -> None:
        self.entries = 0
        self.debit = 0
        self.credit = 0
        self.accounts: dict[str, int] = {}
        self.parties: dict[str, int] = {}

    def add(self, txn: Txn) -> None:
        self.entries += 1
        for line in txn.lines:
            self.debit += line.debit
            self.credit += line.credit
            movement = line.debit - line.credit
            self.accounts[line.account_id] = self.accounts.get(line.account_id, 0) + movement
            if line.party_id:
                self.parties[line.party_id] = self.parties.get(line.party_id, 0) + movement


def _party_xml(party: Party, opening: int, closing: int) -> str:
    tag = "Customer" if party.role == "customer" else "Supplier"
    name = escape(party.name)
    return (
        f"<{tag}><RegistrationNumber>{party.tax_id}</RegistrationNumber><Name>{name}</Name>"
        f"<Address><City>{escape(party.city)}</City><PostalCode>{party.postal_code}</PostalCode>"
        f"<Country>NO</Country></Address>"
        f"<TaxRegistration><TaxRegistrationNumber>{party.tax_id}MVA</TaxRegistrationNumber></TaxRegistration>"
        f"<{tag}ID>{party.party_id}</{tag}ID>"
        f"<BalanceAccount><AccountID>{party.account_id}</AccountID>"
        f"{_balance_pair('Opening', opening)}{_balance_pair('Closing', closing)}</BalanceAccount></{tag}>"
    )


def _txn_xml(txn: Txn) -> str:
    entry = txn.system_entry
    parts = [
        f"<Transaction><TransactionID>{txn.transaction_id}</TransactionID><Period>{txn.period}</Period>"
        f"<PeriodYear>{txn.posting_date.year}</PeriodYear><TransactionDate>{txn.transaction_date}</TransactionDate>"
        f"<SourceID>{txn.user}</SourceID><VoucherType>{txn.voucher_type}</VoucherType>"
        f"<Description>{escape(txn.description)}</Description>"
        f"<SystemEntryDate>{entry.date()}</SystemEntryDate><GLPostingDate>{txn.posting_date}</GLPostingDate>"
    ]
    if txn.modified is not None:
        parts.append(f"<ModificationDate>{txn.modified.date()}</ModificationDate>")
    stamp = entry.isoformat(timespec="seconds")
    for number, line in enumerate(txn.lines, start=1):
        party = ""
        if line.party_id:
            party = f"<CustomerID>{line.party_id}</CustomerID>" if line.party_id.startswith("K") \
                else f"<SupplierID>{line.party_id}</SupplierID>"
        side = "Debit" if line.debit else "Credit"
        amount = line.debit or line.credit
        tax = ""
        if line.tax_code:
            tax = (f"<TaxInformation><TaxType>MVA</TaxType><TaxCode>{line.tax_code}</TaxCode>"
                   f"<TaxPercentage>25</TaxPercentage><Country>NO</Country><TaxBase>{_money(amount)}</TaxBase>"
                   f"<{side}TaxAmount><Amount>{_money(line.tax_amount or 0)}</Amount></{side}TaxAmount>"
                   f"</TaxInformation>")
        parts.append(
            f"<Line><RecordID>{number}</RecordID><AccountID>{line.account_id}</AccountID>{party}"
            f"<Description>{escape(line.description)}</Description>"
            f"<{side}Amount><Amount>{_money(amount)}</Amount></{side}Amount>{tax}"
            f"<SystemEntryTime>{stamp}</SystemEntryTime></Line>"
        )
    parts.append("</Transaction>\n")
    return "".join(parts)


def _journals(transactions: Iterable[Txn]) -> Iterator[tuple[str, Txn]]:
    for txn in transactions:
        yield txn.journal_id, txn


def write_saft(ledger: Ledger, path: str | Path, *, created: date | None = None,
               transactions: Callable[[], Iterable[Txn]] | None = None) -> Path:
    """Write ``ledger`` as SAF-T Financial 1.30 to ``path`` and return the path.

    ``transactions`` may supply a different (e.g. tampered) stream; it must be re-iterable by being called
    twice, because the header totals and balances precede the entries in the format.
    """
    source = transactions or ledger.transactions
    totals = Totals()
    by_journal: dict[str, int] = {}
    for txn in source():
        totals.add(txn)
        by_journal[txn.journal_id] = by_journal.get(txn.journal_id, 0) + 1
    spec = ledger.spec
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    created = created or date(spec.year + 1, 2, 15)
    with out.open("w", encoding="utf-8", newline="\n") as handle:
        write = handle.write
        write('<?xml version="1.0" encoding="UTF-8"?>\n')
        write(f'<AuditFile xmlns="{NAMESPACE}">\n')
        write(
            f"<Header><AuditFileVersion>1.30</AuditFileVersion><AuditFileCountry>NO</AuditFileCountry>"
            f"<AuditFileDateCreated>{created}</AuditFileDateCreated>"
            f"<SoftwareCompanyName>taxaudit synthetic data</SoftwareCompanyName><SoftwareID>taxaudit.synth</SoftwareID>"
            f"<SoftwareVersion>1</SoftwareVersion>"
            f"<Company><RegistrationNumber>{ledger.org_number}</RegistrationNumber><Name>{escape(spec.name)}</Name>"
            f"<Address><StreetName>Storgata</StreetName><Number>1</Number><City>Oslo</City>"
            f"<PostalCode>0155</PostalCode><Country>NO</Country></Address>"
            f"<Contact><ContactPerson><FirstName>Ingrid</FirstName><LastName>Nilsen</LastName></ContactPerson>"
            f"</Contact><TaxRegistration><TaxRegistrationNumber>{ledger.org_number}MVA</TaxRegistrationNumber>"
            f"<TaxAuthority>Skatteetaten</TaxAuthority></TaxRegistration></Company>"
            f"<DefaultCurrencyCode>NOK</DefaultCurrencyCode>"
            f"<SelectionCriteria><PeriodStart>1</PeriodStart><PeriodStartYear>{spec.year}</PeriodStartYear>"
            f"<PeriodEnd>12</PeriodEnd><PeriodEndYear>{spec.year}</PeriodEndYear></SelectionCriteria>"
            f"<TaxAccountingBasis>A</TaxAccountingBasis></Header>\n"
        )
        write("<MasterFiles><GeneralLedgerAccounts>\n")
        for account in ledger.accounts:
            closing = account.opening + totals.accounts.get(account.account_id, 0)
            opening_side = "Credit" if account.opening < 0 else "Debit"
            closing_side = "Credit" if closing < 0 else "Debit"
            write(
                f"<Account><AccountID>{account.account_id}</AccountID>"
                f"<AccountDescription>{escape(account.name)}</AccountDescription>"
                f"<GroupingCategory>{account.grouping_category}</GroupingCategory>"
                f"<GroupingCode>{account.grouping_code}</GroupingCode><AccountType>GL</AccountType>"
                f"<Opening{opening_side}Balance>{_money(abs(account.opening))}</Opening{opening_side}Balance>"
                f"<Closing{closing_side}Balance>{_money(abs(closing))}</Closing{closing_side}Balance></Account>\n"
            )
        write("</GeneralLedgerAccounts>\n<Customers>\n")
        for party in ledger.customers:
            write(_party_xml(party, 0, totals.parties.get(party.party_id, 0)) + "\n")
        write("</Customers>\n<Suppliers>\n")
        for party in ledger.suppliers:
            write(_party_xml(party, 0, totals.parties.get(party.party_id, 0)) + "\n")
        write(
            "</Suppliers>\n<TaxTable><TaxTableEntry><TaxType>MVA</TaxType><Description>Merverdiavgift</Description>"
            "<TaxCodeDetails><TaxCode>1</TaxCode><Description>Input VAT deductible, high rate</Description>"
            "<TaxPercentage>25</TaxPercentage><Country>NO</Country><StandardTaxCode>1</StandardTaxCode>"
            "<BaseRate>100</BaseRate></TaxCodeDetails>"
            "<TaxCodeDetails><TaxCode>3</TaxCode><Description>Output VAT, high rate</Description>"
            "<TaxPercentage>25</TaxPercentage><Country>NO</Country><StandardTaxCode>3</StandardTaxCode>"
            "<BaseRate>100</BaseRate></TaxCodeDetails></TaxTableEntry></TaxTable>\n</MasterFiles>\n"
        )
        write(
            f"<GeneralLedgerEntries><NumberOfEntries>{totals.entries}</NumberOfEntries>"
            f"<TotalDebit>{_money(totals.debit)}</TotalDebit><TotalCredit>{_money(totals.credit)}</TotalCredit>\n"
        )
        # SAF-T groups transactions by journal; one pass per journal keeps memory flat and order stable.
        for journal_id in sorted(by_journal):
            name, _ = JOURNALS.get(journal_id, (journal_id, ""))
            write(f"<Journal><JournalID>{journal_id}</JournalID><Description>{escape(name)}</Description>"
                  f"<Type>{journal_id}</Type>\n")
            for txn in source():
                if txn.journal_id == journal_id:
                    write(_txn_xml(txn))
            write("</Journal>\n")
        write("</GeneralLedgerEntries>\n</AuditFile>\n")
    return out
