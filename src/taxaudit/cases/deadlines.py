"""Statutory deadlines computed on working-day calendars from the rules in ``rules/packs/deadlines.yaml``.

Counting follows RU Tax Code art. 6.1: a period starts the day after the event that triggers it (p. 2); a
period in months ends on the same date of the last month, or that month's last day when it has no such date
(p. 5); a period in days counts working days (p. 6); a last day that is not a working day moves to the next
working day (p. 7). US FOIA periods count working days the same way (5 U.S.C. 552(a)(6)).
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from taxaudit.cases.calendar import calendar_for
from taxaudit.cases.errors import DeadlineError
from taxaudit.rules.loader import RulePack, is_in_force, load_pack

UNITS = ("working_days", "calendar_days", "months", "day_of_following_month")
POST_RECEIPT_RULE = "ru.registered_post_receipt"


@dataclass(frozen=True)
class Deadline:
    """A computed deadline: the rule, the triggering event date, the due date and how it was reached."""

    rule: str
    title: str
    start: date
    due: date
    working_days: int
    citation: str
    country: str
    extended: bool = False
    unrolled_due: date | None = None
    received: date | None = None
    pack_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape ``{"rule", "from", "due", "working_days", "citation", ...}``."""
        data = asdict(self)
        head = {"rule": data.pop("rule"), "from": data.pop("start"), "due": data.pop("due"),
                "working_days": data.pop("working_days"), "citation": data.pop("citation")}
        return head | data


@cache
def deadline_pack() -> RulePack:
    """Return the packaged deadline rule pack, validated (each rule's unit and amount)."""
    pack = load_pack("deadlines")
    for rule in pack.rules.values():
        if rule.get("unit") not in UNITS or not isinstance(rule.get("amount"), int) or not rule.get("country"):
            raise DeadlineError(f"deadline rule {rule['id']} needs country, integer amount and unit in {UNITS}",
                                where=pack.source, hint="fix the rule in the pack")
    return pack


def add_months(event: date, months: int) -> date:
    """Return the same date ``months`` later, or that month's last day (RU Tax Code art. 6.1 p. 5)."""
    index = event.month - 1 + months
    year, month = event.year + index // 12, index % 12 + 1
    return date(year, month, min(event.day, month_calendar.monthrange(year, month)[1]))


def _period_end(country: str, start: date, amount: int, unit: str) -> date:
    if unit == "working_days":
        return calendar_for(country).add_working_days(start, amount)
    if unit == "calendar_days":
        return start + timedelta(days=amount)
    if unit == "months":
        return add_months(start, amount)
    next_month = add_months(start.replace(day=1), 1)
    return next_month.replace(day=min(amount, month_calendar.monthrange(next_month.year, next_month.month)[1]))


def resolve_rule(rule_id: str, country: str | None = None) -> dict[str, Any]:
    """Return the deadline rule ``rule_id`` (or ``<country>.<rule_id>``); check it fits ``country``."""
    pack = deadline_pack()
    candidates = [rule_id] + ([f"{country.lower()}.{rule_id}"] if country else [])
    for candidate in candidates:
        if candidate in pack.rules:
            rule = pack.rules[candidate]
            if country and rule["country"] != country.upper():
                raise DeadlineError(f"rule {candidate} is a {rule['country']} rule, not {country.upper()}",
                                    where="--country", hint=f"drop --country or use --country {rule['country']}")
            return rule
    raise DeadlineError(f"no deadline rule {rule_id!r}", where="--rule",
                        hint=f"use one of: {', '.join(sorted(pack.rules))}")


def compute_deadline(rule_id: str, start: date, country: str | None = None, *, extended: bool = False,
                     by_post: bool = False) -> Deadline:
    """Return the :class:`Deadline` of rule ``rule_id`` for an event on ``start`` (RU Tax Code art. 6.1).

    ``extended`` applies the rule's extension (e.g. a VAT desk audit extended to three months, art. 88 p. 2;
    FOIA unusual circumstances, 5 U.S.C. 552(a)(6)(B)). ``by_post`` means the triggering document was sent by
    registered post on ``start``: the period then runs from the sixth working day after sending (art. 31 p. 4).
    """
    rule = resolve_rule(rule_id, country)
    code = rule["country"]
    if not is_in_force(rule, start):
        raise DeadlineError(
            f"rule {rule['id']} is in force from {rule['effective_from']}"
            + (f" to {rule['effective_to']}" if rule.get("effective_to") else "")
            + f", not on {start}",
            where="--from", hint="give an event date within the rule's effective dates")
    received = None
    event = start
    if by_post:
        if code != "RU":
            raise DeadlineError("deemed receipt of registered post is a Russian Tax Code rule", where="--by-post",
                                hint="use --by-post only with RU rules")
        received = compute_deadline(POST_RECEIPT_RULE, start).due
        event = received
    end = _period_end(code, event, rule["amount"], rule["unit"])
    extension = rule.get("extension")
    if extended:
        if not extension:
            raise DeadlineError(f"rule {rule['id']} has no extension", where="--extended",
                                hint="drop --extended for this rule")
        if "total" in extension:
            end = _period_end(code, event, extension["total"], extension["unit"])
        else:
            end = _period_end(code, end, extension["add"], extension["unit"])
    calendar = calendar_for(code)
    due = calendar.next_working_day(end) if rule.get("roll", True) else end
    citation = rule["citation"]
    if extended and extension and extension["citation"] not in citation:
        citation += f"; {extension['citation']}"
    if by_post:
        citation += f"; {deadline_pack().rules[POST_RECEIPT_RULE]['citation']}"
    return Deadline(
        rule=rule["id"],
        title=rule["title"],
        start=start,
        due=due,
        working_days=calendar.working_days_between(event, due),
        citation=" ".join(citation.split()),
        country=code,
        extended=extended,
        unrolled_due=end if end != due else None,
        received=received,
        pack_version=deadline_pack().version,
    )
