"""Integrity checks: entries balance, control totals agree, the trial balance rolls forward, numbering is whole."""

from __future__ import annotations

from collections.abc import Iterable

from taxaudit.checks.registry import CheckOptions, check, sql_findings
from taxaudit.model.finding import Finding
from taxaudit.store.case import Case

DOUBLE_ENTRY = "double-entry bookkeeping: total debits equal total credits for every entry (ISA 240 A44; IRC § 6001)"


@check("integrity.entry_balance", title="Entries that do not balance", severity="high", citation=DOUBLE_ENTRY)
def entry_balance(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding for every entry whose debits differ from its credits (double-entry principle)."""
    return sql_findings(case, "integrity.entry_balance", """
        WITH hits AS (
            SELECT * FROM (@ENTRY_TOTALS@) WHERE debit <> credit
            ORDER BY abs(debit - credit) DESC, entry_id LIMIT ?),
        line_nos AS (
            SELECT source_id, entry_id, list(line_no ORDER BY line_no) AS line_nos
            FROM journal_lines SEMI JOIN hits USING (source_id, entry_id) GROUP BY ALL)
        SELECT 'journal_entries', entry_id, abs(debit - credit),
               format('Entry {} does not balance: debit {} and credit {} differ by {}', entry_id,
                      debit::VARCHAR, credit::VARCHAR, abs(debit - credit)::VARCHAR),
               json_object('source_id', source_id, 'entry_id', entry_id, 'debit', debit::VARCHAR,
                           'credit', credit::VARCHAR, 'line_nos', line_nos)::VARCHAR
        FROM hits JOIN line_nos USING (source_id, entry_id)
        ORDER BY 3 DESC, 2""", [options.max_findings])


@check("integrity.header_control_totals", title="Header control totals disagree with the entries",
       severity="high", citation="SAF-T Financial (NO) GeneralLedgerEntries/NumberOfEntries, TotalDebit, "
       "TotalCredit; OECD SAF-T 2.0 (2010) section GeneralLedgerEntries")
def header_control_totals(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per source whose declared entry count or debit/credit totals differ from what is loaded
    (SAF-T GeneralLedgerEntries control totals)."""
    return sql_findings(case, "integrity.header_control_totals", """
        WITH loaded AS (
            SELECT s.source_id,
                   (SELECT count(*) FROM journal_entries e WHERE e.source_id = s.source_id) AS entries,
                   (SELECT coalesce(sum(debit), 0) FROM journal_lines l WHERE l.source_id = s.source_id) AS debit,
                   (SELECT coalesce(sum(credit), 0) FROM journal_lines l WHERE l.source_id = s.source_id) AS credit,
                   s.rows_quarantined
            FROM sources s)
        SELECT 'sources', h.source_id,
               greatest(abs(coalesce(h.declared_total_debit, l.debit) - l.debit),
                        abs(coalesce(h.declared_total_credit, l.credit) - l.credit)),
               format('Header control totals disagree with the entries loaded: NumberOfEntries declared {}, '
                      'loaded {}; TotalDebit declared {}, loaded {}; TotalCredit declared {}, loaded {}{}',
                      h.declared_entries, l.entries, h.declared_total_debit::VARCHAR, l.debit::VARCHAR,
                      h.declared_total_credit::VARCHAR, l.credit::VARCHAR, CASE WHEN l.rows_quarantined > 0
                                     THEN format('; {} rows were quarantined', l.rows_quarantined) ELSE '' END),
               json_object('source_id', h.source_id,
                           'declared', json_object('NumberOfEntries', h.declared_entries,
                                                   'TotalDebit', h.declared_total_debit::VARCHAR,
                                                   'TotalCredit', h.declared_total_credit::VARCHAR),
                           'loaded', json_object('NumberOfEntries', l.entries, 'TotalDebit', l.debit::VARCHAR,
                                                 'TotalCredit', l.credit::VARCHAR),
                           'rows_quarantined', l.rows_quarantined)::VARCHAR
        FROM source_headers h JOIN loaded l USING (source_id)
        WHERE h.declared_entries IS DISTINCT FROM l.entries AND h.declared_entries IS NOT NULL
           OR h.declared_total_debit IS DISTINCT FROM l.debit AND h.declared_total_debit IS NOT NULL
           OR h.declared_total_credit IS DISTINCT FROM l.credit AND h.declared_total_credit IS NOT NULL
        ORDER BY 2""")


@check("integrity.trial_balance_rollforward", title="Trial balance does not roll forward", severity="high",
       citation="opening balance + period movements = closing balance per account (SAF-T Financial (NO) "
       "GeneralLedgerAccounts Opening/ClosingDebitBalance; AICPA AU-C 500 recalculation)")
def trial_balance_rollforward(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per account whose opening balance plus the movements of its lines differs from its
    declared closing balance (trial-balance roll-forward by recalculation)."""
    return sql_findings(case, "integrity.trial_balance_rollforward", """
        WITH movement AS (
            SELECT source_id, account_id, sum(debit) - sum(credit) AS net, count(*) AS lines
            FROM journal_lines GROUP BY ALL),
        roll AS (
            SELECT a.source_id, a.account_id, a.name,
                   coalesce(a.opening_debit, 0) - coalesce(a.opening_credit, 0) AS opening,
                   coalesce(m.net, 0) AS net, coalesce(m.lines, 0) AS lines,
                   coalesce(a.closing_debit, 0) - coalesce(a.closing_credit, 0) AS closing
            FROM accounts a LEFT JOIN movement m USING (source_id, account_id)
            WHERE a.closing_debit IS NOT NULL OR a.closing_credit IS NOT NULL)
        SELECT 'accounts', account_id, abs(opening + net - closing),
               format('Account {} ({}) does not roll forward: opening {} + movements {} = {}, but the closing '
                      'balance is {}', account_id, coalesce(name, '?'), opening::VARCHAR, net::VARCHAR,
                      (opening + net)::VARCHAR, closing::VARCHAR),
               json_object('source_id', source_id, 'account_id', account_id, 'opening', opening::VARCHAR,
                           'movements', net::VARCHAR, 'lines', lines, 'computed_closing', (opening + net)::VARCHAR,
                           'declared_closing', closing::VARCHAR)::VARCHAR
        FROM roll WHERE opening + net <> closing ORDER BY 3 DESC LIMIT ?""", [options.max_findings])


@check("integrity.entry_numbering", title="Gaps and duplicates in entry numbers", severity="medium",
       citation="consecutive numbering of vouchers (bokføringsforskriften § 5-1-2; ISA 240 A44, "
       "journal entries; IRS IRM 4.10.4.6.8 internal controls)")
def entry_numbering(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per gap in the numbering of each journal (numbers missing between two entries) and per
    number used twice (entry ids sharing journal, prefix and number)."""
    return sql_findings(case, "integrity.entry_numbering", r"""
        WITH numbered AS (
            SELECT source_id, journal_id, entry_id, left(bare, length(bare) - length(digits)) AS prefix,
                   TRY_CAST(digits AS BIGINT) AS number, length(digits)::INTEGER AS width
            FROM (SELECT source_id, coalesce(journal_id, '') AS journal_id, entry_id,
                         rtrim(entry_id, '*') AS bare, regexp_extract(entry_id, '(\d+)\**$', 1) AS digits
                  FROM journal_entries)
            WHERE digits <> ''),
        ordered AS (
            SELECT *, lag(number) OVER w AS previous_number, lag(entry_id) OVER w AS previous_entry
            FROM numbered WHERE number IS NOT NULL
            WINDOW w AS (PARTITION BY source_id, journal_id, prefix ORDER BY number, entry_id))
        SELECT 'journal_entries', entry_id, NULL,
               CASE WHEN number = previous_number
                    THEN format('Journal {}: number {} is used by both {} and {}', journal_id, number,
                                previous_entry, entry_id)
                    WHEN number - previous_number = 2
                    THEN format('Journal {}: entry number {}{} is missing between {} and {}', journal_id, prefix,
                                lpad((number - 1)::VARCHAR, width, '0'), previous_entry, entry_id)
                    ELSE format('Journal {}: {} entry numbers are missing between {} and {}', journal_id,
                                number - previous_number - 1, previous_entry, entry_id) END,
               json_object('source_id', source_id, 'journal_id', journal_id,
                           'kind', CASE WHEN number = previous_number THEN 'duplicate' ELSE 'gap' END,
                           'entry_ids', [previous_entry, entry_id], 'missing_from', previous_number + 1,
                           'missing_to', number - 1)::VARCHAR
        FROM ordered WHERE number - previous_number <> 1
        ORDER BY source_id, journal_id, number LIMIT ?""", [options.max_findings])
