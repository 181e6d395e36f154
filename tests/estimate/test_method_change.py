"""Section 481(a) adjustment, its spread and Form 3115 timing.

Seed 003: Instructions for Form 3115 (Rev. November 1992), Schedule A, example: ABC corporation, calendar year,
cash method, changes to an overall accrual method for 1992 with accrued income $250,000, uncollectible amounts
$50,000 (nonaccrual-experience method), accrued expenses $75,000 and recurring-item expenses $5,000; net amount
of income to be accrued $200,000; section 481(a) adjustment $120,000. Filing: within the first 180 days of the
tax year of change; late applications within 90 days after the due date may be treated as timely under Treas.
Reg. § 301.9100-1; automatic changes: with a timely filed return for the year of change.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxaudit.estimate.errors import EstimateError
from taxaudit.estimate.method_change import (
    component,
    filing_timeliness,
    gross_receipts_test,
    section_481a_adjustment,
    spread_adjustment,
)
from taxaudit.rules.loader import RulePackError

D = Decimal


def seed_example() -> list:
    return [
        component("accrued_income", D("250000")),
        component("uncollectible", D("50000")),
        component("accrued_expenses", D("75000")),
        component("recurring_items", D("5000")),
    ]


def test_form_3115_example_gives_120000() -> None:
    adjustment = section_481a_adjustment(seed_example())
    assert adjustment.amount == D("120000.00")
    totals = [step.running_total for step in adjustment.steps]
    # Accrued income $250,000; less uncollectible $50,000 = net income to be accrued $200,000;
    # less accrued expenses $75,000; less recurring items $5,000.
    assert totals == [D("250000.00"), D("200000.00"), D("125000.00"), D("120000.00")]
    assert [step.amount for step in adjustment.steps] == [D("250000.00"), D("-50000.00"), D("-75000.00"),
                                                          D("-5000.00")]


def test_1992_regime_spreads_over_six_years_from_1992() -> None:
    spread = spread_adjustment(D("120000"), 1992)
    assert spread.regime == "rp92-20"
    assert [(part.year, part.amount) for part in spread.years] == [(year, D("20000.00")) for year in range(1992, 1998)]
    assert "Rev. Proc. 92-20" in spread.citation


def test_2015_regime_positive_four_years_negative_one() -> None:
    positive = spread_adjustment(D("120000"), 2024)
    assert positive.regime == "rp2015-13"
    assert [(part.year, part.amount) for part in positive.years] == [(2024, D("30000.00")), (2025, D("30000.00")),
                                                                     (2026, D("30000.00")), (2027, D("30000.00"))]
    negative = spread_adjustment(D("-120000"), 2024)
    assert [(part.year, part.amount) for part in negative.years] == [(2024, D("-120000.00"))]
    assert "§ 7.03(2)" in negative.citation


def test_under_examination_two_years_and_de_minimis_one_year() -> None:
    examined = spread_adjustment(D("120000"), 2024, under_examination=True)
    assert examined.period_years == 2
    assert [part.amount for part in examined.years] == [D("60000.00"), D("60000.00")]
    small = spread_adjustment(D("49999.99"), 2024, elect_de_minimis=True)
    assert small.period_years == 1 and small.years[0].amount == D("49999.99")
    assert "rp2015-13.de_minimis" in small.rule_ids


def test_de_minimis_refused_at_or_above_50000_and_under_1992_rules() -> None:
    with pytest.raises(EstimateError, match=r"less than 50000\.00"):
        spread_adjustment(D("50000"), 2024, elect_de_minimis=True)
    with pytest.raises(EstimateError, match="no de minimis election"):
        spread_adjustment(D("20000"), 1992, elect_de_minimis=True)


def test_year_outside_every_regime_is_a_clear_error() -> None:
    with pytest.raises(RulePackError) as error:
        spread_adjustment(D("1000"), 1985)
    assert "1992-03-23..1997-05-14" in error.value.hint


def test_intermediate_regimes_fill_the_gap() -> None:
    """Rev. Proc. 97-27 (uniform four-year period) and its 2002-19 modification (negative one year, $25,000)."""
    assert spread_adjustment(D("120000"), 1999).period_years == 4
    assert spread_adjustment(D("-120000"), 2005).period_years == 1
    assert spread_adjustment(D("24999.99"), 2005, elect_de_minimis=True).period_years == 1
    with pytest.raises(EstimateError):
        spread_adjustment(D("25000"), 2005, elect_de_minimis=True)
    assert filing_timeliness(2005, date(2005, 12, 30)).status == "timely"


def test_uneven_cents_go_to_the_last_year() -> None:
    spread = spread_adjustment(D("100000.01"), 2024)
    assert [part.amount for part in spread.years] == [D("25000.00")] * 3 + [D("25000.01")]


@settings(max_examples=60, deadline=None)
@given(cents=st.integers(min_value=-10**13, max_value=10**13), year=st.sampled_from([1992, 1995, 2016, 2024, 2030]),
       examined=st.booleans())
def test_spread_always_adds_up_exactly(cents: int, year: int, examined: bool) -> None:
    amount = D(cents) / 100
    spread = spread_adjustment(amount, year, under_examination=examined)
    assert sum(part.amount for part in spread.years) == amount
    assert [part.year for part in spread.years] == list(range(year, year + spread.period_years))
    assert all((part.amount >= 0) == (amount >= 0) or part.amount == 0 for part in spread.years)


def test_component_signs_are_fixed_for_known_names() -> None:
    with pytest.raises(EstimateError, match="positive amount"):
        component("uncollectible", D("-50000"))
    assert component("other", D("-10"), "Other decrease").amount == D("-10")
    with pytest.raises(EstimateError, match="no components"):
        section_481a_adjustment([])


class TestTiming1992:
    """The 180-day window: 1992 is a leap year, so day 180 is 28 June 1992, a Sunday (rolled by IRC § 7503)."""

    def test_due_date_is_day_180_rolled_to_monday(self) -> None:
        result = filing_timeliness(1992, date(1992, 6, 29))
        assert result.status == "timely"
        assert result.due_date == date(1992, 6, 29)
        assert "irc7503.roll" in result.rule_ids

    def test_day_180_itself_on_a_weekday(self) -> None:
        # 1993 is not a leap year: day 180 is 29 June 1993, a Tuesday.
        assert filing_timeliness(1993, date(1993, 6, 29)).status == "timely"
        assert filing_timeliness(1993, date(1993, 6, 30)).status == "late_within_relief"

    def test_90_day_relief_then_late(self) -> None:
        within = filing_timeliness(1992, date(1992, 9, 27))
        assert within.status == "late_within_relief"
        assert within.relief_until == date(1992, 9, 27)
        assert "301.9100-1" in within.citation
        late = filing_timeliness(1992, date(1992, 9, 28))
        assert late.status == "late"
        assert "unusual and compelling" in late.explanation

    def test_automatic_change_with_timely_return(self) -> None:
        # Calendar-year corporation: return due 15 March 1993 (a Monday).
        assert filing_timeliness(1992, date(1993, 3, 15), automatic=True).status == "timely"
        late = filing_timeliness(1992, date(1993, 3, 16), automatic=True)
        assert late.status == "late" and late.automatic_list.startswith("Instructions for Form 3115")
        assert filing_timeliness(1992, date(1993, 9, 15), automatic=True,
                                 extended_due=date(1993, 9, 15)).status == "timely"


class TestTiming2015:
    def test_non_automatic_by_last_day_of_year_of_change(self) -> None:
        assert filing_timeliness(2024, date(2024, 12, 31)).status == "timely"
        late = filing_timeliness(2024, date(2025, 1, 2))
        assert late.status == "late" and "301.9100-3" in late.citation

    def test_automatic_with_return_and_six_month_relief(self) -> None:
        on_time = filing_timeliness(2024, date(2025, 4, 15), automatic=True)
        assert on_time.status == "timely" and on_time.automatic_list.startswith("Rev. Proc. 2024-23")
        relief = filing_timeliness(2024, date(2025, 9, 1), automatic=True, return_filed=date(2025, 4, 10))
        assert relief.status == "late_within_relief"
        assert relief.relief_until == date(2025, 10, 15)
        assert relief.automatic_list.startswith("Rev. Proc. 2025-23")
        no_return = filing_timeliness(2024, date(2025, 9, 1), automatic=True)
        assert no_return.status == "late" and any("--return-filed" in note for note in no_return.notes)

    def test_fiscal_year_of_change(self) -> None:
        result = filing_timeliness(2025, date(2025, 6, 30), tax_year_start=date(2024, 7, 1))
        assert result.status == "timely" and result.due_date == date(2025, 6, 30)
        with pytest.raises(EstimateError):
            filing_timeliness(2025, date(2025, 6, 30), tax_year_start=date(2022, 7, 1))


@pytest.mark.parametrize(
    ("year", "threshold", "rule"),
    [(1992, "5000000.00", "gr448c.pre-tcja"), (2018, "25000000.00", "gr448c.2018"),
     (2019, "26000000.00", "gr448c.2019"), (2020, "26000000.00", "gr448c.2020"),
     (2021, "26000000.00", "gr448c.2021"), (2022, "27000000.00", "gr448c.2022"),
     (2023, "29000000.00", "gr448c.2023"), (2024, "30000000.00", "gr448c.2024"),
     (2025, "31000000.00", "gr448c.2025")],
)
def test_448c_threshold_by_year(year: int, threshold: str, rule: str) -> None:
    """$5 million (Form 3115 instructions 1992, Schedule A Part II); $25 million from 2018, indexed (Rev. Procs.)."""
    result = gross_receipts_test(date(year, 1, 1), [D(threshold)] * 3)
    assert result.threshold == D(threshold) and result.meets and result.rule_id == rule
    over = gross_receipts_test(date(year, 1, 1), [D(threshold), D(threshold), D(threshold) + D("0.03")])
    assert over.average == D(threshold) + D("0.01") and not over.meets


def test_448c_averages_fewer_years_and_refuses_none() -> None:
    assert gross_receipts_test(date(2024, 1, 1), [D("1000"), D("3000")]).average == D("2000.00")
    assert gross_receipts_test(date(2024, 1, 1), [D("9e9"), D("1"), D("2"), D("3")]).average == D("2.00")
    with pytest.raises(EstimateError):
        gross_receipts_test(date(2024, 1, 1), [])
