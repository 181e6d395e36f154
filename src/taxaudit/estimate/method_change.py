"""Section 481(a) adjustments on a change in accounting method, their spread, and Form 3115 timing.

The arithmetic is here; every legal parameter (adjustment periods, the de minimis threshold, filing windows and
relief periods, automatic-change lists, the section 448(c) threshold) comes from the ``method_change`` rule pack,
so the 1992 regime of the Form 3115 instructions (Rev. Proc. 92-20), Rev. Proc. 97-27 (as modified by Rev. Proc.
2002-19) and today's Rev. Proc. 2015-13 regime are each applied by choosing the rules in force for the year of
change (selected by its last day).
"""

from __future__ import annotations

import calendar
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from taxaudit.estimate.errors import EstimateError
from taxaudit.model.money import CENT
from taxaudit.rules.loader import RulePack, load_pack

PACK_NAME = "method_change"

# Signs of the usual components of a change from the cash to an accrual method (Form 3115 instructions,
# Schedule A, Rev. Nov. 1992): income not yet reported increases taxable income, deductions not yet taken
# and receivables that will not be collected decrease it.
COMPONENT_SIGNS: dict[str, int] = {
    "accrued_income": 1,
    "uncollectible": -1,
    "accrued_expenses": -1,
    "recurring_items": -1,
    "prepaid_expenses": 1,
    "deferred_income": -1,
}
COMPONENT_LABELS: dict[str, str] = {
    "accrued_income": "Accrued income",
    "uncollectible": "Less: uncollectible amount (nonaccrual-experience method)",
    "accrued_expenses": "Less: accrued expenses (economic performance has occurred)",
    "recurring_items": "Less: expenses deducted as recurring items",
    "prepaid_expenses": "Prepaid expenses previously deducted",
    "deferred_income": "Less: advance payments properly deferred",
}


@dataclass(frozen=True)
class Component:
    """One item of the section 481(a) computation: a label and its signed amount (positive raises income)."""

    name: str
    label: str
    amount: Decimal


@dataclass(frozen=True)
class Step:
    """One line of the computation: what was added or subtracted and the running total after it."""

    label: str
    amount: Decimal
    running_total: Decimal


@dataclass(frozen=True)
class Adjustment481a:
    """The net section 481(a) adjustment with the steps that produce it."""

    amount: Decimal
    steps: list[Step]

    def to_dict(self) -> dict[str, Any]:
        return {"adjustment": self.amount, "steps": [asdict(step) for step in self.steps]}


@dataclass(frozen=True)
class SpreadYear:
    """The part of the adjustment taken into account in one tax year."""

    year: int
    amount: Decimal


@dataclass(frozen=True)
class Spread:
    """The adjustment spread over its adjustment period, with the rules and citations that fix the period."""

    adjustment: Decimal
    period_years: int
    years: list[SpreadYear]
    regime: str
    rule_ids: list[str]
    citation: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "adjustment": self.adjustment,
            "period_years": self.period_years,
            "spread": [{"year": item.year, "amount": item.amount} for item in self.years],
            "regime": self.regime,
            "rule_ids": self.rule_ids,
            "citation": self.citation,
            "reason": self.reason,
        }


def component(name: str, amount: Decimal, label: str | None = None) -> Component:
    """Return a :class:`Component` for a known component ``name`` with its sign applied to the unsigned ``amount``.

    Unknown names must carry their own sign: ``component("other", Decimal("-10"), "Other decrease")``.
    """
    amount = Decimal(amount)
    if name in COMPONENT_SIGNS:
        if amount < 0:
            raise EstimateError(
                f"component {name} must be given as a positive amount (its sign is fixed: "
                f"{'+' if COMPONENT_SIGNS[name] > 0 else '-'})",
                where=name,
                hint="give the amount without a minus sign",
            )
        return Component(name, label or COMPONENT_LABELS[name], amount * COMPONENT_SIGNS[name])
    return Component(name, label or name.replace("_", " ").capitalize(), amount)


def section_481a_adjustment(components: Iterable[Component]) -> Adjustment481a:
    """Return the net section 481(a) adjustment: the signed sum of the components, step by step.

    Implements the computation shown in the Instructions for Form 3115 (Rev. November 1992), Schedule A,
    items 5a and 6: accrued income, less uncollectible amounts, less accrued expenses, less recurring items.
    """
    total = Decimal("0.00")
    steps: list[Step] = []
    for item in components:
        total = (total + item.amount).quantize(CENT)
        steps.append(Step(item.label, item.amount.quantize(CENT), total))
    if not steps:
        raise EstimateError("no components given for the section 481(a) adjustment",
                            hint="give at least one component, e.g. --accrued-income 250000")
    return Adjustment481a(total, steps)


def year_of_change_span(year_of_change: int, tax_year_start: date | None = None) -> tuple[date, date]:
    """Return the first and last day of the tax year of change (a calendar year unless ``tax_year_start`` is given)."""
    start = tax_year_start or date(year_of_change, 1, 1)
    if start.year not in (year_of_change, year_of_change - 1):
        raise EstimateError(
            f"the tax year starting {start} is not the year of change {year_of_change}",
            hint="a fiscal year of change begins in the year of change or the year before it",
        )
    return start, add_months(start, 12) - timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """Return ``day`` moved by ``months`` calendar months, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def spread_adjustment(
    adjustment: Decimal,
    year_of_change: int,
    *,
    tax_year_start: date | None = None,
    under_examination: bool = False,
    elect_de_minimis: bool = False,
    pack: RulePack | None = None,
) -> Spread:
    """Return the section 481(a) adjustment spread ratably over its adjustment period (IRC § 481(c)).

    The period comes from the rule pack for the year of change: Rev. Proc. 92-20 (six years), Rev. Proc. 97-27
    (four years; negative one year and a $25,000 de minimis from Rev. Proc. 2002-19) or Rev. Proc. 2015-13
    § 7.03 (positive four years, negative one year, two years when under examination; a positive adjustment
    below the de minimis threshold may be taken in one year by election). Cents that do not divide
    evenly are taken in the last year, so the parts always add up to the adjustment exactly.
    """
    pack = pack or load_pack(PACK_NAME)
    adjustment = Decimal(adjustment).quantize(CENT)
    _, year_end = year_of_change_span(year_of_change, tax_year_start)
    rule = pack.one(year_end, kind="spread_period")
    rule_ids = [rule["id"]]
    citations = [rule["citation"]]
    if adjustment < 0:
        years, reason = int(rule["negative_years"]), "negative adjustment"
    elif under_examination and rule.get("under_examination_positive_years"):
        years, reason = int(rule["under_examination_positive_years"]), "positive adjustment, taxpayer under examination"
    else:
        years, reason = int(rule["positive_years"]), "positive adjustment"
    if elect_de_minimis:
        minimis = pack.select(year_end, kind="de_minimis", regime=rule["regime"])
        if not minimis:
            raise EstimateError(
                f"no de minimis election exists under {rule['regime']} (year of change {year_of_change})",
                where=pack.source,
                hint="drop --elect-de-minimis; the election exists from Rev. Proc. 2015-13 onwards in this pack",
            )
        limit = Decimal(str(minimis[0]["threshold"]))
        if not (Decimal(0) < adjustment < limit):
            raise EstimateError(
                f"the de minimis election needs a positive adjustment of less than {limit}; this one is {adjustment}",
                where=minimis[0]["id"],
                hint="drop --elect-de-minimis",
            )
        years, reason = 1, f"de minimis election (positive adjustment below {limit})"
        rule_ids.append(minimis[0]["id"])
        citations.append(minimis[0]["citation"])
    if adjustment == 0:
        years, reason = 1, "no adjustment"
    parts = _ratable_parts(adjustment, years)
    return Spread(
        adjustment=adjustment,
        period_years=years,
        years=[SpreadYear(year_of_change + index, part) for index, part in enumerate(parts)],
        regime=str(rule["regime"]),
        rule_ids=rule_ids,
        citation="; ".join(citations),
        reason=reason,
    )


def _ratable_parts(amount: Decimal, years: int) -> list[Decimal]:
    if years < 1:
        raise EstimateError(f"an adjustment period of {years} years is not possible", hint="fix the rule pack")
    share = (amount / years).quantize(CENT, rounding=ROUND_DOWN)
    return [share] * (years - 1) + [amount - share * (years - 1)]


@dataclass(frozen=True)
class Timeliness:
    """Whether a Form 3115 was filed in time, with the dates and the rules applied."""

    status: str  # timely | late_within_relief | late
    year_of_change: int
    filed: date
    change_type: str
    regime: str
    due_date: date
    relief_until: date | None
    explanation: str
    citation: str
    rule_ids: list[str]
    automatic_list: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def roll_to_business_day(day: date, pack: RulePack) -> tuple[date, str | None]:
    """Return the deadline moved past Saturdays, Sundays and legal holidays (IRC § 7503), and the rule id if moved."""
    rules = pack.select(day, kind="deadline_roll")
    if not rules:
        return day, None
    rule = rules[0]
    import holidays

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calendar_of = holidays.country_holidays(rule["country"], subdiv=rule.get("subdivision"),
                                                years=[day.year, day.year + 1])
    moved = day
    while moved.weekday() >= 5 or moved in calendar_of:
        moved += timedelta(days=1)
    return moved, (rule["id"] if moved != day else None)


def default_return_due(year_end: date, regime_rule: dict[str, Any]) -> date:
    """Return the unextended due date of the return for a tax year ending ``year_end`` under the regime's rule."""
    spec = regime_rule["return_due"]
    month_after = add_months(year_end.replace(day=1), int(spec["months_after_year_end"]))
    return month_after.replace(day=int(spec["day"]))


def filing_timeliness(
    year_of_change: int,
    filed: date,
    *,
    automatic: bool = False,
    tax_year_start: date | None = None,
    return_due: date | None = None,
    extended_due: date | None = None,
    return_filed: date | None = None,
    pack: RulePack | None = None,
) -> Timeliness:
    """Return whether a Form 3115 filed on ``filed`` is timely, late but within relief, or late.

    Implements the filing rules in force for the year of change: the 180-day window and the 90-day relief
    under Treas. Reg. § 301.9100-1 (Instructions for Form 3115, Rev. November 1992), or Rev. Proc. 2015-13
    § 6.03 (non-automatic: by the last day of the year of change; automatic: with the timely filed return,
    with the 6-month extension of Treas. Reg. § 301.9100-2). Last days roll forward under IRC § 7503.
    """
    pack = pack or load_pack(PACK_NAME)
    start, year_end = year_of_change_span(year_of_change, tax_year_start)
    change_type = "automatic" if automatic else "non_automatic"
    regime = pack.one(year_end, kind="regime")
    rule = pack.one(year_end, kind="filing_window", change_type=change_type)
    rule_ids = [regime["id"], rule["id"]]
    notes: list[str] = []
    deadline = rule["deadline"]
    if deadline["rule"] == "days_from_year_start":
        due = start + timedelta(days=int(deadline["days"]) - 1)
        due_text = f"within the first {deadline['days']} days of the tax year of change"
    elif deadline["rule"] == "last_day_of_year":
        due = year_end
        due_text = "on or before the last day of the year of change"
    elif deadline["rule"] == "with_return":
        unextended = return_due or default_return_due(year_end, regime)
        if return_due is None:
            notes.append(f"return due date taken as {unextended} ({regime['return_due_citation']}); "
                         "give --return-due for another kind of taxpayer")
        due = extended_due or unextended
        due_text = "with a timely filed return for the year of change" + (" (extended)" if extended_due else "")
    else:
        raise EstimateError(f"unknown deadline rule {deadline['rule']!r}", where=rule["id"], hint="fix the rule pack")
    due, rolled = roll_to_business_day(due, pack)
    if rolled:
        rule_ids.append(rolled)
    automatic_list = None
    if automatic:
        lists = pack.select(filed, kind="automatic_list")
        automatic_list = lists[0]["citation"] if lists else None
        if not lists:
            notes.append(f"no list of automatic changes in the pack is in force on {filed}")
    citation = rule["citation"]
    if filed <= due:
        return Timeliness("timely", year_of_change, filed, change_type, str(regime["regime"]), due, None,
                          f"filed {filed}, {due_text} (due {due})", citation, rule_ids, automatic_list, notes)
    relief = rule.get("relief") or {}
    relief_until: date | None = None
    if relief.get("rule") == "days_after_due":
        relief_until = due + timedelta(days=int(relief["days"]))
    elif relief.get("rule") == "months_after_unextended_due":
        unextended = return_due or default_return_due(year_end, regime)
        return_late = return_filed is None or return_filed > (extended_due or unextended)
        if relief.get("requires_timely_return") and return_late:
            notes.append("the 6-month extension needs a timely filed return: give --return-filed to apply it")
        else:
            relief_until = add_months(unextended, int(relief["months"]))
    if relief_until is not None and filed <= relief_until:
        citation = f"{citation}; {rule['relief_citation']}"
        return Timeliness("late_within_relief", year_of_change, filed, change_type, str(regime["regime"]), due,
                          relief_until, f"filed {filed}, after the due date {due} but within relief until "
                          f"{relief_until}", citation, rule_ids, automatic_list, notes)
    if rule.get("relief_citation"):
        citation = f"{citation}; {rule['relief_citation']}"
    return Timeliness("late", year_of_change, filed, change_type, str(regime["regime"]), due, relief_until,
                      f"filed {filed}, after the due date {due}"
                      + (f" and after relief ended {relief_until}" if relief_until else "")
                      + f": {rule['late_text']}", citation, rule_ids, automatic_list, notes)


@dataclass(frozen=True)
class GrossReceiptsTest:
    """The section 448(c) gross-receipts test for one tax year."""

    tax_year_start: date
    average: Decimal
    threshold: Decimal
    meets: bool
    rule_id: str
    citation: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def gross_receipts_test(tax_year_start: date, prior_receipts: Sequence[Decimal],
                        pack: RulePack | None = None) -> GrossReceiptsTest:
    """Return the section 448(c) test: average annual gross receipts of the (up to) 3 prior years vs the threshold.

    IRC § 448(c)(1) and (3)(A): an entity in existence for fewer than 3 prior years averages over the years it
    existed. The threshold is the one in force for the tax year's first day ($5,000,000 before 2018, then
    $25,000,000 indexed: Rev. Procs. 2018-57, 2019-44, 2020-45, 2021-45, 2022-38, 2023-34, 2024-40).
    """
    pack = pack or load_pack(PACK_NAME)
    receipts = [Decimal(value) for value in prior_receipts][-3:]
    if not receipts:
        raise EstimateError("no prior-year gross receipts given", hint="give the gross receipts of the 3 prior years")
    rule = pack.one(tax_year_start, kind="gross_receipts_threshold")
    average = (sum(receipts, Decimal(0)) / len(receipts)).quantize(CENT)
    threshold = Decimal(str(rule["threshold"]))
    return GrossReceiptsTest(tax_year_start, average, threshold, average <= threshold, rule["id"], rule["citation"])
