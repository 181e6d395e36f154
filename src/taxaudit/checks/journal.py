"""Journal-entry tests: the population tests every examiner runs over the postings (ISA 240 A44, AU-C 240 .A56).

Each test runs as one DuckDB query over the lines of entries still in the books (deleted and voided entries
are the audit-trail checks' business) and returns at most ``options.max_findings`` hits, largest first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import holidays
import pyarrow as pa
from scipy import stats

from taxaudit.checks.registry import SQL_FRAGMENTS, CheckOptions, check, sql_findings
from taxaudit.model.finding import Finding
from taxaudit.store.case import Case

ISA_240 = "ISA 240 A44 / AU-C 240 .A56, characteristics of fraudulent journal entries"


@check("journal.weekend_postings", title="Entries posted on a Saturday or Sunday", severity="low",
       citation=f"{ISA_240} (entries recorded on weekends)")
def weekend_postings(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per live entry whose posting date falls on a Saturday or Sunday."""
    return sql_findings(case, "journal.weekend_postings", """
        SELECT 'journal_entries', e.entry_id, t.debit,
               format('Entry {} is posted on {} {}', e.entry_id, dayname(e.posting_date), e.posting_date),
               json_object('source_id', e.source_id, 'entry_id', e.entry_id, 'posting_date', e.posting_date,
                           'weekday', dayname(e.posting_date), 'created_by', e.created_by)::VARCHAR
        FROM (@LIVE_ENTRIES@) e JOIN (@ENTRY_TOTALS@) t USING (source_id, entry_id)
        WHERE dayofweek(e.posting_date) IN (0, 6)
        ORDER BY t.debit DESC, e.entry_id LIMIT ?""", [options.max_findings])


def public_holidays(country: str | None, years: Iterable[int]) -> pa.Table:
    """Return the public holidays of ``country`` in ``years`` as an Arrow table (holiday_date, holiday_name),
    from the ``holidays`` package; empty when the country is unknown to it."""
    dates: list[date] = []
    names: list[str] = []
    if country:
        try:
            calendar = holidays.country_holidays(country.upper(), years=sorted(set(years)), language="en_US")
        except NotImplementedError:
            calendar = {}
        for day, name in sorted(calendar.items()):
            dates.append(day)
            names.append(name)
    return pa.table({"holiday_date": pa.array(dates, pa.date32()), "holiday_name": pa.array(names, pa.string())})


@check("journal.holiday_postings", title="Entries posted on public holidays", severity="low",
       citation=f"{ISA_240} (entries recorded on holidays); calendar from the python 'holidays' package")
def holiday_postings(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per live entry posted on a public holiday of the case's country."""
    country = case.country()
    years = [row[0] for row in case.con.execute(
        "SELECT DISTINCT year(posting_date) FROM journal_entries WHERE posting_date IS NOT NULL").fetchall()]
    calendar = public_holidays(country, years)
    case.con.register("taxaudit_holidays", calendar)
    try:
        return sql_findings(case, "journal.holiday_postings", """
            SELECT 'journal_entries', e.entry_id, t.debit,
                   format('Entry {} is posted on {} ({})', e.entry_id, e.posting_date, h.holiday_name),
                   json_object('source_id', e.source_id, 'entry_id', e.entry_id, 'posting_date', e.posting_date,
                               'holiday', h.holiday_name, 'created_by', e.created_by)::VARCHAR
            FROM (@LIVE_ENTRIES@) e JOIN taxaudit_holidays h ON e.posting_date = h.holiday_date
            JOIN (@ENTRY_TOTALS@) t USING (source_id, entry_id)
            ORDER BY t.debit DESC, e.entry_id LIMIT ?""", [options.max_findings])
    finally:
        case.con.unregister("taxaudit_holidays")


@check("journal.round_amounts", title="Round amounts", severity="low",
       citation=f"{ISA_240} (round numbers); Nigrini (2012) Benford's Law, ch. 8 'number duplication and round "
       "numbers'")
def round_amounts(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per live line of at least ``round_minimum`` that is an exact multiple of ``round_unit``."""
    return sql_findings(case, "journal.round_amounts", """
        SELECT 'journal_lines', format('{}#{}', entry_id, line_no), @LINE_AMOUNT@,
               format('Entry {} line {} on account {} is a round {}', entry_id, line_no, account_id,
                      @LINE_AMOUNT@::VARCHAR),
               json_object('source_id', source_id, 'entry_id', entry_id, 'line_no', line_no,
                           'account_id', account_id, 'amount', @LINE_AMOUNT@::VARCHAR)::VARCHAR
        FROM (@LIVE_LINE_ROWS@)
        WHERE @LINE_AMOUNT@ >= ? AND @LINE_AMOUNT@ % ? = 0
        ORDER BY 3 DESC, entry_id, line_no LIMIT ?""",
        [options.round_minimum, options.round_unit, options.max_findings])


@check("journal.below_threshold", title="Amounts clustered just below approval thresholds", severity="medium",
       citation=f"{ISA_240}; Nigrini (2011) Forensic Analytics, ch. 8 (amounts just below authorisation limits); "
       "ACFE Fraud Examiners Manual (purchases sized to stay under approval limits)")
def below_threshold(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per live line just below an approval threshold, for each threshold where such amounts
    significantly outnumber those just above it (one-sided binomial test, p < 0.05, on the two equal-width
    bands of ``below_threshold_margin``): a smooth amount distribution puts about as many on either side."""
    thresholds = [str(t) for t in options.approval_thresholds]
    bands = case.con.execute("""
        SELECT th.threshold,
               count(*) FILTER (WHERE greatest(debit, credit) < th.threshold),
               count(*) FILTER (WHERE greatest(debit, credit) >= th.threshold)
        FROM (@LIVE_LINE_ROWS@) l
        JOIN (SELECT unnest(?::DECIMAL(18,2)[]) AS threshold) th
          ON greatest(debit, credit) >= th.threshold * (1 - ?::DECIMAL(9,4))
         AND greatest(debit, credit) < th.threshold * (1 + ?::DECIMAL(9,4))
        GROUP BY th.threshold ORDER BY th.threshold""".replace("@LIVE_LINE_ROWS@", SQL_FRAGMENTS["LIVE_LINE_ROWS"]),
        [thresholds, options.below_threshold_margin, options.below_threshold_margin]).fetchall()
    findings: list[Finding] = []
    for threshold, below, above in bands:
        if below < 5 or stats.binomtest(below, below + above, 0.5, alternative="greater").pvalue >= 0.05:
            continue
        findings.extend(sql_findings(case, "journal.below_threshold", """
            SELECT 'journal_lines', format('{}#{}', entry_id, line_no), @LINE_AMOUNT@,
                   format('Entry {} line {} ({}) is {}, just below the approval threshold {} ({} amounts just below '
                          'against {} just above)', entry_id, line_no, account_id, @LINE_AMOUNT@::VARCHAR,
                          ?::VARCHAR, ?, ?),
                   json_object('source_id', source_id, 'entry_id', entry_id, 'line_no', line_no,
                               'account_id', account_id, 'amount', @LINE_AMOUNT@::VARCHAR,
                               'threshold', ?::VARCHAR, 'just_below', ?, 'just_above', ?,
                               'created_by', (SELECT created_by FROM journal_entries e
                                              WHERE e.source_id = l.source_id AND e.entry_id = l.entry_id))::VARCHAR
            FROM (@LIVE_LINE_ROWS@) l
            WHERE @LINE_AMOUNT@ < ? AND @LINE_AMOUNT@ >= ? * (1 - ?::DECIMAL(9,4))
            ORDER BY 3 DESC, entry_id, line_no LIMIT ?""",
            [threshold, below, above, threshold, below, above, threshold, threshold, options.below_threshold_margin,
             options.max_findings]))
    return findings


@check("journal.duplicate_payments", title="Possible duplicate payments", severity="medium",
       citation="ACFE Fraud Examiners Manual, duplicate payment schemes; IIA GTAG 13 'Fraud prevention and "
       "detection in an automated world' (same vendor, same amount, close dates)")
def duplicate_payments(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per pair of live entries in one journal with a line to the same party, of the same amount
    on the same side, no more than ``duplicate_window_days`` apart."""
    return sql_findings(case, "journal.duplicate_payments", """
        WITH p AS (
            SELECT source_id, entry_id, journal_id, posting_date, party_id, debit, credit, line_no
            FROM (@LIVE_LINES@) WHERE party_id IS NOT NULL)
        SELECT 'journal_entries', format('{}+{}', a.entry_id, b.entry_id), greatest(a.debit, a.credit),
               format('Possible duplicate: {} {} to/from {} in entries {} ({}) and {} ({})',
                      CASE WHEN a.debit > 0 THEN 'debit' ELSE 'credit' END, greatest(a.debit, a.credit)::VARCHAR,
                      a.party_id,
                      a.entry_id, a.posting_date, b.entry_id, b.posting_date),
               json_object('source_id', a.source_id, 'party_id', a.party_id, 'journal_id', a.journal_id,
                           'amount', greatest(a.debit, a.credit)::VARCHAR,
                           'entry_ids', [a.entry_id, b.entry_id], 'line_nos', [a.line_no, b.line_no],
                           'posting_dates', [a.posting_date, b.posting_date],
                           'days_apart', abs(b.posting_date - a.posting_date))::VARCHAR
        FROM p a JOIN p b
          ON a.source_id = b.source_id AND a.party_id = b.party_id AND a.debit = b.debit AND a.credit = b.credit
         AND a.journal_id IS NOT DISTINCT FROM b.journal_id AND a.entry_id < b.entry_id
         AND abs(b.posting_date - a.posting_date) <= ?
        ORDER BY 3 DESC, 2 LIMIT ?""", [options.duplicate_window_days, options.max_findings])


@check("journal.rare_account_pairs", title="Rare debit/credit account combinations", severity="low",
       citation=f"{ISA_240} (entries to unrelated, unusual or seldom-used accounts); AICPA Audit Guide, "
       "analytics for journal entries")
def rare_account_pairs(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per debit/credit account pair that occurs in at most ``rare_pair_max`` live entries."""
    # First count the pairs, joining debit and credit lines on a 64-bit hash of (source_id, entry_id): far
    # cheaper than joining the two strings over millions of lines. Then fetch the entries of the rare pairs
    # only, from the few lines on their accounts, comparing the real keys.
    counted: list[tuple] = case.con.execute("""
        WITH debits AS (
            SELECT hash(source_id, entry_id) AS h, source_id, account_id FROM (@LIVE_LINE_ROWS@) WHERE debit > 0),
        credits AS (
            SELECT hash(source_id, entry_id) AS h, account_id FROM (@LIVE_LINE_ROWS@) WHERE credit > 0)
        SELECT d.source_id, d.account_id AS debit_account, c.account_id AS credit_account
        FROM debits d JOIN credits c USING (h) WHERE d.account_id <> c.account_id
        GROUP BY ALL HAVING count(DISTINCT h) <= ?""".replace("@LIVE_LINE_ROWS@", SQL_FRAGMENTS["LIVE_LINE_ROWS"]),
        [options.rare_pair_max]).fetchall()
    if not counted:
        return []
    names = ("source_id", "debit_account", "credit_account")
    case.con.register("taxaudit_rare_pairs", pa.table({name: [row[i] for row in counted]
                                                       for i, name in enumerate(names)}))
    try:
        return sql_findings(case, "journal.rare_account_pairs", """
            WITH rare_entries AS (
                SELECT DISTINCT d.source_id, d.entry_id, k.debit_account, k.credit_account
                FROM (@LIVE_LINE_ROWS@) d
                JOIN (@LIVE_LINE_ROWS@) c ON c.source_id = d.source_id AND c.entry_id = d.entry_id
                JOIN taxaudit_rare_pairs k ON k.source_id = d.source_id AND k.debit_account = d.account_id
                                          AND k.credit_account = c.account_id
                WHERE d.debit > 0 AND c.credit > 0
                  AND d.account_id IN (SELECT debit_account FROM taxaudit_rare_pairs)
                  AND c.account_id IN (SELECT credit_account FROM taxaudit_rare_pairs)),
            rare AS (
                SELECT r.source_id, r.debit_account, r.credit_account, count(*) AS entries,
                       list(r.entry_id ORDER BY r.entry_id) AS entry_ids, sum(t.debit) AS amount
                FROM rare_entries r JOIN (@ENTRY_TOTALS@) t USING (source_id, entry_id) GROUP BY ALL)
            SELECT 'journal_entries', format('{}/{}', debit_account, credit_account), amount,
                   format('Debit {} / credit {} occurs in only {} entr{}: {}', debit_account, credit_account,
                          entries, CASE WHEN entries = 1 THEN 'y' ELSE 'ies' END, array_to_string(entry_ids, ', ')),
                   json_object('source_id', source_id, 'debit_account', debit_account,
                               'credit_account', credit_account, 'entry_ids', entry_ids)::VARCHAR
            FROM rare ORDER BY entries, debit_account, credit_account LIMIT ?""", [options.max_findings])
    finally:
        case.con.unregister("taxaudit_rare_pairs")


@check("journal.missing_descriptions", title="Entries without a description", severity="low",
       citation=f"{ISA_240} (entries with little or no explanation); bokføringsforskriften § 5-1-1")
def missing_descriptions(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per live entry with neither an entry description nor any line description."""
    return sql_findings(case, "journal.missing_descriptions", """
        WITH blank AS (
            SELECT source_id, entry_id, posting_date, created_by FROM (@LIVE_ENTRIES@)
            WHERE coalesce(trim(description), '') = '')
        SELECT 'journal_entries', entry_id, t.debit,
               format('Entry {} ({} lines, total {}) has no description', entry_id, t.lines, t.debit::VARCHAR),
               json_object('source_id', source_id, 'entry_id', entry_id, 'posting_date', b.posting_date,
                           'created_by', b.created_by)::VARCHAR
        FROM blank b JOIN (@ENTRY_TOTALS@) t USING (source_id, entry_id)
        WHERE NOT EXISTS (SELECT 1 FROM journal_lines l WHERE l.source_id = b.source_id
                          AND l.entry_id = b.entry_id AND coalesce(trim(l.description), '') <> '')
        ORDER BY 3 DESC, 2 LIMIT ?""", [options.max_findings])


@check("journal.period_end_clustering", title="Entries clustered at period end", severity="low",
       citation=f"{ISA_240} (entries made at the end of a reporting period); Nigrini (2011) Forensic Analytics, "
       "ch. 10")
def period_end_clustering(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per month whose last ``period_end_days`` days hold at least twice their calendar share
    of the month's live entries (and at least 10 entries)."""
    return sql_findings(case, "journal.period_end_clustering", """
        WITH e AS (
            SELECT source_id, entry_id, posting_date, date_trunc('month', posting_date) AS month,
                   day(last_day(posting_date)) AS days_in_month,
                   day(last_day(posting_date)) - day(posting_date) < ? AS at_end
            FROM (@LIVE_ENTRIES@) WHERE posting_date IS NOT NULL),
        m AS (
            SELECT source_id, month, any_value(days_in_month) AS days, count(*) AS entries,
                   count(*) FILTER (WHERE at_end) AS at_end,
                   list(entry_id ORDER BY posting_date, entry_id) FILTER (WHERE at_end) AS end_entries
            FROM e GROUP BY ALL)
        SELECT 'periods', strftime(month, '%Y-%m'), NULL,
               format('{} of the {} entries of {} are posted in its last {} days ({}% against {}% expected)',
                      at_end, entries, strftime(month, '%Y-%m'), ?, round(100.0 * at_end / entries, 1),
                      round(100.0 * ? / days, 1)),
               json_object('source_id', source_id, 'month', strftime(month, '%Y-%m'), 'entries', entries,
                           'at_period_end', at_end, 'entry_ids', end_entries[1:50])::VARCHAR
        FROM m
        WHERE at_end >= 10 AND at_end::DOUBLE / entries >= 2.0 * ? / days
        ORDER BY 2 LIMIT ?""",
        [options.period_end_days, options.period_end_days, options.period_end_days, options.period_end_days,
         options.max_findings])


@check("journal.seldom_used_accounts", title="Postings to seldom-used accounts", severity="low",
       citation=f"{ISA_240} (entries to seldom-used accounts)")
def seldom_used_accounts(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per live line on an account that has at most ``seldom_account_max`` live lines."""
    return sql_findings(case, "journal.seldom_used_accounts", """
        WITH counts AS (SELECT source_id, account_id, count(*) AS account_lines FROM (@LIVE_LINE_ROWS@)
                        GROUP BY ALL HAVING count(*) <= ?),
        l AS (SELECT * FROM (@LIVE_LINE_ROWS@) JOIN counts USING (source_id, account_id))
        SELECT 'journal_lines', format('{}#{}', entry_id, line_no), @LINE_AMOUNT@,
               format('Account {} is used by only {} line{}; entry {} line {} posts {} to it', account_id,
                      account_lines, CASE WHEN account_lines = 1 THEN '' ELSE 's' END, entry_id, line_no,
                      @LINE_AMOUNT@::VARCHAR),
               json_object('source_id', source_id, 'entry_id', entry_id, 'line_no', line_no,
                           'account_id', account_id, 'account_lines', account_lines,
                           'amount', @LINE_AMOUNT@::VARCHAR)::VARCHAR
        FROM l ORDER BY account_id, entry_id, line_no LIMIT ?""", [options.seldom_account_max, options.max_findings])
