"""Write a QuickBooks Desktop *Audit Trail* report export (CSV, Windows-1252) for altered entries.

The layout is the one :mod:`taxaudit.ingest.quickbooks` reads: a title block, the column header row, a group
row per user, a heading per transaction ("Check 1041") and one row per split of each version, the latest
version first and the prior versions under it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from taxaudit.synth.company import Line
from taxaudit.synth.plants import AlteredEntry

COLUMNS = ["", "", "Type", "Num", "Entered/Last Modified", "Last modified by", "State", "Date", "Name", "Memo",
           "Account", "Split", "Debit", "Credit"]
QB_TYPES = {"SI": "Invoice", "PI": "Bill", "BP": "Check"}


def _money(ore: int) -> str:
    return f"{ore / 100:,.2f}" if ore else ""


def _rows(kind: str, num: str, stamp: datetime, user: str, state: str, day: str, memo: str,
          lines: list[Line], *, zero: bool = False) -> Iterable[list[str]]:
    for line in lines:
        split = next((other.account_id for other in lines if other is not line), "")
        debit, credit = ("0.00", "") if zero else (_money(line.debit), _money(line.credit))
        yield ["", "", kind, num, stamp.strftime("%m/%d/%Y %H:%M:%S"), user, state, day, line.party_id or "",
               memo, line.account_id, split if len(lines) == 2 else "-SPLIT-", debit, credit]


def write_audit_trail(altered: list[AlteredEntry], path: str | Path, *, company: str, year: int) -> Path:
    """Write the Audit Trail export of ``altered`` entries to ``path`` (Windows-1252 CSV) and return the path."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([company])
    writer.writerow(["Audit Trail"])
    writer.writerow([f"Entered/Last Modified January 1, {year + 1} through March 31, {year + 1}"])
    writer.writerow([])
    writer.writerow(COLUMNS)
    by_user: dict[str, list[AlteredEntry]] = {}
    for entry in altered:
        by_user.setdefault(entry.changed_by, []).append(entry)
    for user, entries in sorted(by_user.items()):
        writer.writerow([f"Transactions entered or modified by {user}"])
        for entry in sorted(entries, key=lambda e: e.changed_at):
            txn = entry.txn
            kind = QB_TYPES.get(txn.voucher_type, "General Journal")
            num = txn.transaction_id
            day = txn.posting_date.strftime("%m/%d/%Y")
            writer.writerow(["", f"{kind} {num}"])
            if entry.state == "deleted":
                writer.writerows(_rows(kind, num, entry.changed_at, user, "Deleted", "", "Deleted", entry.prior,
                                       zero=True))
            else:
                writer.writerows(_rows(kind, num, entry.changed_at, user, "Latest", day, txn.description, txn.lines,
                                       zero=entry.state == "voided"))
            original = txn.description.removeprefix("VOID: ")
            writer.writerows(_rows(kind, num, txn.system_entry, txn.user, "Prior", day, original, entry.prior))
            writer.writerow([])
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(out.getvalue().encode("cp1252"))
    return target
