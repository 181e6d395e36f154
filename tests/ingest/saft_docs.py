"""Small hand-built SAF-T documents for parser tests (valid by default; each test breaks one thing)."""

from __future__ import annotations

NS_NO = "urn:StandardAuditFile-Taxation-Financial:NO"
NS_OECD = "urn:OECD:StandardAuditFile-Tax:2.00"

HEADER = (
    "<Header><AuditFileVersion>1.30</AuditFileVersion><AuditFileCountry>NO</AuditFileCountry>"
    "<AuditFileDateCreated>2026-02-01</AuditFileDateCreated><SoftwareCompanyName>Test</SoftwareCompanyName>"
    "<SoftwareID>T</SoftwareID><SoftwareVersion>1</SoftwareVersion>"
    "<Company><RegistrationNumber>999999999</RegistrationNumber><Name>Test Company AS</Name>"
    "<TaxRegistration><TaxRegistrationNumber>999999999MVA</TaxRegistrationNumber></TaxRegistration></Company>"
    "<DefaultCurrencyCode>NOK</DefaultCurrencyCode><SelectionCriteria><PeriodStart>1</PeriodStart>"
    "<PeriodStartYear>2025</PeriodStartYear><PeriodEnd>12</PeriodEnd><PeriodEndYear>2025</PeriodEndYear>"
    "</SelectionCriteria></Header>"
)
MASTER = (
    "<MasterFiles><GeneralLedgerAccounts>"
    "<Account><AccountID>1500</AccountID><AccountDescription>Receivables</AccountDescription>"
    "<StandardAccountID>15</StandardAccountID><AccountType>GL</AccountType>"
    "<OpeningDebitBalance>100.00</OpeningDebitBalance><ClosingDebitBalance>1350.00</ClosingDebitBalance></Account>"
    "<Account><AccountID>3000</AccountID><AccountDescription>Sales</AccountDescription><AccountType>GL</AccountType>"
    "<OpeningCreditBalance>0.00</OpeningCreditBalance><ClosingCreditBalance>1000.00</ClosingCreditBalance></Account>"
    "<Account><AccountID>2700</AccountID><AccountDescription>Output VAT</AccountDescription>"
    "<AccountType>GL</AccountType><OpeningCreditBalance>0</OpeningCreditBalance>"
    "<ClosingCreditBalance>250</ClosingCreditBalance></Account>"
    "</GeneralLedgerAccounts>"
    "<Customers><Customer><RegistrationNumber>911111118</RegistrationNumber><Name>Kunde AS</Name>"
    "<Address><City>Oslo</City><Country>NO</Country></Address>"
    "<CustomerID>K1</CustomerID><AccountID>1500</AccountID><OpeningDebitBalance>0</OpeningDebitBalance>"
    "<ClosingDebitBalance>1250.00</ClosingDebitBalance></Customer></Customers>"
    "<Suppliers><Supplier><RegistrationNumber>922222226</RegistrationNumber><Name>Lev AS</Name>"
    "<SupplierID>L1</SupplierID><BalanceAccount><AccountID>2400</AccountID>"
    "<OpeningCreditBalance>10.00</OpeningCreditBalance><ClosingCreditBalance>0.00</ClosingCreditBalance>"
    "</BalanceAccount></Supplier></Suppliers>"
    "<TaxTable><TaxTableEntry><TaxType>MVA</TaxType><Description>VAT</Description><TaxCodeDetails>"
    "<TaxCode>3</TaxCode><Description>Output VAT</Description><TaxPercentage>25</TaxPercentage>"
    "<Country>NO</Country><StandardTaxCode>3</StandardTaxCode><BaseRate>100</BaseRate></TaxCodeDetails>"
    "</TaxTableEntry></TaxTable></MasterFiles>"
)


def line(record: int, account: str, side: str, amount: str, extra: str = "") -> str:
    return (f"<Line><RecordID>{record}</RecordID><AccountID>{account}</AccountID>{extra}"
            f"<Description>line {record}</Description><{side}Amount><Amount>{amount}</Amount></{side}Amount></Line>")


def transaction(tid: str, lines: str, *, date: str = "2025-03-03", entry: str = "2025-03-03",
                posting: str | None = None, user: str = "ANNE") -> str:
    id_element = f"<TransactionID>{tid}</TransactionID>" if tid else ""
    return (f"<Transaction>{id_element}<Period>3</Period><PeriodYear>2025</PeriodYear>"
            f"<TransactionDate>{date}</TransactionDate><SourceID>{user}</SourceID><Description>Tx {tid}</Description>"
            f"<SystemEntryDate>{entry}</SystemEntryDate><GLPostingDate>{posting or date}</GLPostingDate>"
            f"{lines}</Transaction>")


SALE = transaction("T1", line(1, "1500", "Debit", "1250.00", "<CustomerID>K1</CustomerID>")
                   + line(2, "3000", "Credit", "1000.00") + line(3, "2700", "Credit", "250.00"))
PAYMENT = transaction("T2", line(1, "1920", "Debit", "100.00") + line(2, "1500", "Credit", "100.00"),
                      date="2025-03-20", entry="2025-03-21")


def document(transactions: str = SALE + PAYMENT, *, entries: str = "2", debit: str = "1350.00",
             credit: str = "1350.00", namespace: str = NS_NO, header: str = HEADER, master: str = MASTER,
             source_documents: str = "", prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> str:
    return (f'{prolog}<AuditFile xmlns="{namespace}">{header}{master}'
            f"<GeneralLedgerEntries><NumberOfEntries>{entries}</NumberOfEntries><TotalDebit>{debit}</TotalDebit>"
            f"<TotalCredit>{credit}</TotalCredit><Journal><JournalID>GL</JournalID><Description>General</Description>"
            f"<Type>GL</Type>{transactions}</Journal></GeneralLedgerEntries>{source_documents}</AuditFile>")
