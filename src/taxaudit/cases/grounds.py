"""Check the grounds on which documents may be requested in a desk audit (RU Tax Code art. 88 pp. 6-8.7).

The grounds are data (``rules/packs/ru_art88_grounds.yaml``); each names a detector here that looks at the
return, its previous filings and the case's findings. The result lists every ground checked, whether it applies
and why, so a request for documents can say which grounds it rests on, and a refusal which were examined.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from taxaudit.ingest.returns import ensure_returns_table, return_lines
from taxaudit.rules.loader import load_pack
from taxaudit.store.case import Case

ZERO = Decimal("0")


@dataclass(frozen=True)
class GroundCheck:
    """One article 88 ground as checked for a return: does it apply, why, what documents it permits."""

    ground: str
    title: str
    title_ru: str
    applies: bool
    reason: str
    scope: str
    scope_ru: str
    citation: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _payable(lines: dict[str, Decimal], spec: dict[str, list[str]]) -> Decimal:
    return sum((lines.get(code, ZERO) for code in spec["plus"]), ZERO) - sum(
        (lines.get(code, ZERO) for code in spec["minus"]), ZERO)


def _prefixed(lines: dict[str, Decimal], prefixes: list[str]) -> list[str]:
    return sorted(code for code, amount in lines.items() if amount and code.startswith(tuple(prefixes)))


def _detect(rule: dict[str, Any], case: Case, facts: dict[str, Any], lines: dict[str, Decimal]) -> tuple[bool, str]:
    detector = rule["detector"]
    types = rule.get("return_types")
    if types and facts["return_type"] not in types:
        return False, f"not a {'/'.join(types)} return"
    if detector in ("benefit_lines", "contribution_reliefs"):
        found = _prefixed(lines, rule["line_prefixes"])
        return bool(found), (f"lines {', '.join(found)} claim reliefs" if found
                             else "no line of the return claims a benefit or relief")
    if detector == "vat_refund":
        refund = lines.get("s3_210", ZERO) + lines.get("s1_050", ZERO)
        return refund > 0, (f"refund claimed: lines 210/050 = {refund}" if refund > 0
                            else "no tax to be refunded (lines 210 and 050 empty)")
    if detector == "contradiction_findings":
        clauses = " OR ".join("check_id LIKE ?" for _ in rule["check_prefixes"])
        rows = case.con.execute(
            f"SELECT check_id FROM findings WHERE subject_key = ? AND ({clauses}) ORDER BY check_id",
            [facts["source_id"], *[prefix + "%" for prefix in rule["check_prefixes"]]]).fetchall()
        found = sorted({row[0] for row in rows})
        return bool(found), (f"contradictions found by {', '.join(found)}" if found
                             else "no contradiction with the books of invoices or counterparties' data")
    if detector == "late_amendment":
        return _late_amendment(rule, case, facts, lines)
    raise ValueError(f"unknown detector {detector!r} in {rule['id']}")


def _late_amendment(rule: dict[str, Any], case: Case, facts: dict[str, Any],
                    lines: dict[str, Decimal]) -> tuple[bool, str]:
    if facts["correction_no"] == 0:
        return False, "the return is an original, not a corrective return"
    due: date | None = facts.get("due_on")
    filed: date | None = facts.get("filed_on")
    if due is None or filed is None:
        return False, "the due date or filing date of the return is unknown"
    limit = due.replace(year=due.year + rule["years"]) if not (due.month == 2 and due.day == 29) else \
        date(due.year + rule["years"], 3, 1)
    if filed <= limit:
        return False, f"filed {filed}, within {rule['years']} years of the due date {due}"
    prior = case.con.execute(
        "SELECT source_id FROM returns WHERE return_type = ? AND period = ? AND correction_no < ? "
        "ORDER BY correction_no DESC LIMIT 1",
        [facts["return_type"], facts["period"], facts["correction_no"]]).fetchone()
    if prior is None:
        return False, "no earlier filing of this return is in the case to compare with"
    before = _payable(return_lines(case, prior[0]), rule["payable_lines"])
    after = _payable(lines, rule["payable_lines"])
    if after >= before:
        return False, f"filed late but does not lower the tax ({before} -> {after})"
    return True, f"filed {filed}, more than {rule['years']} years after {due}, lowers the tax {before} -> {after}"


def check_grounds(case: Case, source_id: str) -> list[GroundCheck]:
    """Return every article 88 ground checked for the return loaded from ``source_id`` (НК РФ ст. 88)."""
    ensure_returns_table(case)
    cursor = case.con.execute("SELECT * FROM returns WHERE source_id = ?", [source_id])
    row = cursor.fetchone()
    if row is None:
        from taxaudit.cases.errors import DocumentRefused

        raise DocumentRefused(f"no return loaded from source {source_id!r}", where="--subject",
                              hint="open the desk audit on a loaded return")
    facts = dict(zip([d[0] for d in cursor.description], row, strict=True))
    lines = return_lines(case, source_id)
    pack = load_pack("ru_art88_grounds")
    results = []
    for rule in pack.in_force(facts["filed_on"] or facts["period_end"]):
        applies, reason = _detect(rule, case, facts, lines)
        results.append(GroundCheck(rule["id"], rule["title"], rule["title_ru"], applies, reason, rule["scope"],
                                   rule["scope_ru"], rule["citation"]))
    return results
