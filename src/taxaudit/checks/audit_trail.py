"""Audit-trail checks: what was entered or altered after closing, back-dated, changed, deleted or voided, and by
whom at which hour (IRS: "the date a transaction was originally created, dates of subsequent changes, what
changes were made, and the username of the person who entered or changed that transaction")."""

from __future__ import annotations

from collections.abc import Iterable

from taxaudit.checks.registry import CheckOptions, check, sql_findings
from taxaudit.model.entry_versions import ensure_entry_versions
from taxaudit.model.finding import Finding
from taxaudit.store.case import Case

IRS_SOFTWARE_LETTER = ("IRS letter to AICPA on electronic accounting software records (2011): the original file's "
                       "metadata shows creation dates, subsequent changes and the user; Rev. Proc. 98-25 § 5")


@check("audit.after_closing_date", title="Entries created or changed after the closing date", severity="high",
       citation=f"{IRS_SOFTWARE_LETTER}; ISA 240 A44 (entries made after the period end / closing)")
def after_closing_date(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per entry of the closed period entered or altered after the books were closed.

    The closing date is ``options.closing_date`` or, per source, its period end (the SAF-T selection end, else
    the year end of its last posting) plus ``options.closing_grace_days``.
    """
    return sql_findings(case, "audit.after_closing_date", """
        WITH period AS (
            SELECT e.source_id,
                   coalesce(any_value(h.period_end),
                            max(make_date(year(e.posting_date), 12, 31))) AS period_end
            FROM journal_entries e LEFT JOIN source_headers h USING (source_id) GROUP BY e.source_id),
        closing AS (
            SELECT source_id, period_end,
                   coalesce(?::DATE, (period_end + to_days(?::INTEGER))::DATE) AS closing_date FROM period)
        SELECT 'journal_entries', e.entry_id, t.debit,
               format('Entry {} dated {} was {} on {} by {}, after the books were closed on {}', e.entry_id,
                      e.posting_date,
                      CASE WHEN e.created_at::DATE > c.closing_date THEN 'entered' ELSE 'changed' END,
                      strftime(CASE WHEN e.created_at::DATE > c.closing_date THEN e.created_at
                                    ELSE e.changed_at END, '%Y-%m-%d %H:%M'),
                      coalesce(CASE WHEN e.created_at::DATE > c.closing_date THEN e.created_by
                                    ELSE e.changed_by END, 'an unknown user'), c.closing_date),
               json_object('source_id', e.source_id, 'entry_id', e.entry_id, 'posting_date', e.posting_date,
                           'created_at', e.created_at, 'created_by', e.created_by, 'changed_at', e.changed_at,
                           'changed_by', e.changed_by, 'status', e.status, 'closing_date', c.closing_date)::VARCHAR
        FROM journal_entries e JOIN closing c USING (source_id) LEFT JOIN (@ENTRY_TOTALS@) t USING (source_id, entry_id)
        WHERE e.posting_date <= c.period_end
          AND (e.created_at::DATE > c.closing_date OR e.changed_at::DATE > c.closing_date)
        ORDER BY e.source_id, e.entry_id LIMIT ?""",
        [options.closing_date, options.closing_grace_days, options.max_findings])


@check("audit.backdated_entries", title="Back-dated entries", severity="medium",
       citation=f"{IRS_SOFTWARE_LETTER}; ISA 240 A44 (entries with unusual dates)")
def backdated_entries(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per entry keyed into the system more than ``options.backdate_days`` after its posting
    date (system entry date against accounting date)."""
    return sql_findings(case, "audit.backdated_entries", """
        SELECT 'journal_entries', e.entry_id, t.debit,
               format('Entry {} is dated {} but was entered {} days later, on {} by {}', e.entry_id,
                      e.posting_date, e.created_at::DATE - e.posting_date, strftime(e.created_at, '%Y-%m-%d %H:%M'),
                      coalesce(e.created_by, 'an unknown user')),
               json_object('source_id', e.source_id, 'entry_id', e.entry_id, 'posting_date', e.posting_date,
                           'created_at', e.created_at, 'created_by', e.created_by,
                           'days_late', e.created_at::DATE - e.posting_date)::VARCHAR
        FROM (@LIVE_ENTRIES@) e LEFT JOIN (@ENTRY_TOTALS@) t USING (source_id, entry_id)
        WHERE e.created_at::DATE - e.posting_date > ?
        ORDER BY e.created_at::DATE - e.posting_date DESC, e.entry_id LIMIT ?""",
        [options.backdate_days, options.max_findings])


def _altered(case: Case, check_id: str, status: str, verb: str, options: CheckOptions) -> list[Finding]:
    """Return findings for entries with ``status``, each with its prior versions (before) and current lines."""
    ensure_entry_versions(case.con)
    return sql_findings(case, check_id, """
        WITH target AS (SELECT source_id, entry_id FROM journal_entries WHERE status = ?),
        prior AS (
            SELECT source_id, entry_id, version_no, any_value(state) AS state, any_value(modified_at) AS modified_at,
                   any_value(modified_by) AS modified_by, any_value(posting_date) AS posting_date,
                   sum(debit) AS debit,
                   list(json_object('account_id', account_id, 'party_id', party_id, 'debit', debit::VARCHAR,
                                    'credit', credit::VARCHAR, 'description', description) ORDER BY line_no) AS lines
            FROM entry_versions SEMI JOIN target USING (source_id, entry_id)
            GROUP BY source_id, entry_id, version_no),
        before AS (
            SELECT source_id, entry_id, arg_max(debit, version_no) AS debit,
                   arg_max(posting_date, version_no) AS posting_date,
                   list(json_object('version_no', version_no, 'state', state, 'modified_at', modified_at,
                                    'modified_by', modified_by, 'posting_date', posting_date,
                                    'debit', debit::VARCHAR, 'lines', lines) ORDER BY version_no) AS versions
            FROM prior GROUP BY ALL),
        after AS (
            SELECT source_id, entry_id, sum(debit) AS debit,
                   list(json_object('account_id', account_id, 'party_id', party_id, 'debit', debit::VARCHAR,
                                    'credit', credit::VARCHAR, 'description', description) ORDER BY line_no) AS lines
            FROM journal_lines SEMI JOIN target USING (source_id, entry_id) GROUP BY ALL)
        SELECT 'journal_entries', e.entry_id,
               CASE WHEN ? = 'changed' THEN coalesce(abs(a.debit - b.debit), a.debit)
                    ELSE coalesce(b.debit, a.debit) END,
               format('Entry {} ({}) was {} on {} by {}{}', e.entry_id, coalesce(e.description, 'no description'), ?,
                      coalesce(strftime(e.changed_at, '%Y-%m-%d %H:%M'), 'an unrecorded date'),
                      coalesce(e.changed_by, 'an unknown user'),
                      CASE WHEN b.entry_id IS NULL THEN ''
                           ELSE format('; before: dated {}, total {}; after: dated {}, total {}', b.posting_date,
                                       b.debit::VARCHAR, e.posting_date, coalesce(a.debit, 0)::VARCHAR) END),
               json_object('source_id', e.source_id, 'entry_id', e.entry_id, 'status', e.status,
                           'created_at', e.created_at, 'created_by', e.created_by, 'changed_at', e.changed_at,
                           'changed_by', e.changed_by,
                           'before', b.versions,
                           'after', json_object('posting_date', e.posting_date, 'debit', a.debit::VARCHAR,
                                                'lines', a.lines))::VARCHAR
        FROM journal_entries e LEFT JOIN before b USING (source_id, entry_id)
        LEFT JOIN after a USING (source_id, entry_id)
        WHERE e.status = ?
        ORDER BY e.changed_at DESC NULLS LAST, e.entry_id LIMIT ?""",
        [status, status, verb, status, options.max_findings])


@check("audit.changed_entries", title="Changed entries (before and after)", severity="medium",
       citation=IRS_SOFTWARE_LETTER)
def changed_entries(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per entry changed after it was first entered, with its prior versions as evidence."""
    return _altered(case, "audit.changed_entries", "changed", "changed", options)


@check("audit.deleted_entries", title="Deleted entries (with what they were)", severity="high",
       citation=f"{IRS_SOFTWARE_LETTER}; IRS FAQ on electronic accounting software records (altered files)")
def deleted_entries(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per deleted entry with the last version before deletion as evidence."""
    return _altered(case, "audit.deleted_entries", "deleted", "deleted", options)


@check("audit.voided_entries", title="Voided entries (with what they were)", severity="medium",
       citation=IRS_SOFTWARE_LETTER)
def voided_entries(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per voided entry with the amounts it carried before it was voided."""
    return _altered(case, "audit.voided_entries", "voided", "voided", options)


@check("audit.unusual_hours", title="Entries keyed at unusual hours", severity="low",
       citation="ISA 240 A44 and AU-C 240 .A56 (entries made at unusual times); ACFE Fraud Examiners Manual, "
       "journal entry testing")
def unusual_hours(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per entry keyed outside ``options.business_hours`` or on a Saturday or Sunday."""
    start, end = options.business_hours
    return sql_findings(case, "audit.unusual_hours", """
        SELECT 'journal_entries', e.entry_id, t.debit,
               format('Entry {} was keyed by {} on {} at {}', e.entry_id, coalesce(e.created_by, 'an unknown user'),
                      dayname(e.created_at), strftime(e.created_at, '%Y-%m-%d %H:%M')),
               json_object('source_id', e.source_id, 'entry_id', e.entry_id, 'created_at', e.created_at,
                           'created_by', e.created_by, 'hour', hour(e.created_at),
                           'weekday', dayname(e.created_at))::VARCHAR
        FROM (@LIVE_ENTRIES@) e LEFT JOIN (@ENTRY_TOTALS@) t USING (source_id, entry_id)
        WHERE hour(e.created_at) < ? OR hour(e.created_at) >= ? OR dayofweek(e.created_at) IN (0, 6)
        ORDER BY e.created_at LIMIT ?""", [start, end, options.max_findings])


@check("audit.rare_user_journal", title="Users posting outside their usual journals", severity="low",
       citation="ISA 240 A44 (entries by individuals who do not usually make them); segregation of duties "
       "(COSO 2013 principle 10)")
def rare_user_journal(case: Case, options: CheckOptions) -> Iterable[Finding]:
    """Return a finding per entry by a user who keyed fewer than ``options.rare_user_share`` of that journal's
    entries (and at most two of them) in a journal of at least 50 entries."""
    return sql_findings(case, "audit.rare_user_journal", """
        WITH e AS (@LIVE_ENTRIES@),
        share AS (
            SELECT source_id, journal_id, created_by, count(*) AS by_user,
                   sum(count(*)) OVER (PARTITION BY source_id, journal_id) AS in_journal
            FROM e WHERE created_by IS NOT NULL GROUP BY source_id, journal_id, created_by)
        SELECT 'journal_entries', e.entry_id, t.debit,
               format('{} keyed entry {} in journal {}, where they keyed only {} of {} entries', e.created_by,
                      e.entry_id, e.journal_id, s.by_user, s.in_journal),
               json_object('source_id', e.source_id, 'entry_id', e.entry_id, 'journal_id', e.journal_id,
                           'created_by', e.created_by, 'user_entries', s.by_user,
                           'journal_entries', s.in_journal)::VARCHAR
        FROM e JOIN share s USING (source_id, journal_id, created_by)
        LEFT JOIN (@ENTRY_TOTALS@) t USING (source_id, entry_id)
        WHERE s.in_journal >= 50 AND s.by_user <= 2 AND s.by_user < ? * s.in_journal
        ORDER BY e.entry_id LIMIT ?""", [options.rare_user_share, options.max_findings])
