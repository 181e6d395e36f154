"""Best-judgment extrapolation, reproducing seed 004.

CST, Madhya Pradesh v. H.M. Esufall, [1973] INSC 84 (Supreme Court of India, 18 April 1973): a bill book for
1-19 September 1960 showed sales of Rs 31,171.28 not entered in the books; the assessment period was
1 November 1959 - 20 October 1960; the Sales-tax Officer rejected the accounts and added Rs 2,50,000 to the
turnover under the State Act (3,97,357 + 2,50,000 = 6,47,357) and Rs 1,00,000 under the Central Act
(22,916 + 1,00,000 = 1,22,916). The Court held the estimate not arbitrary and with a reasonable nexus.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxaudit.estimate.best_judgment import calendar_days, extrapolate, working_days
from taxaudit.estimate.errors import EstimateError
from taxaudit.model.money import parse_amount

D = Decimal
WINDOW = (date(1960, 9, 1), date(1960, 9, 19))
PERIOD = (date(1959, 11, 1), date(1960, 10, 20))
OBSERVED = D("31171.28")


def indian(text: str) -> Decimal:
    """Amounts as the judgment writes them (lakh grouping: 2,50,000)."""
    return parse_amount(text, thousands_separator=",")


def test_seed_amounts_parse_exactly() -> None:
    assert indian("31,171.28") == OBSERVED
    assert indian("2,50,000") == D("250000.00")
    assert indian("1,00,000") == D("100000.00")
    # Reassessed turnovers stated in the judgment are the original determination plus the addition.
    assert indian("3,97,357") + indian("2,50,000") == indian("6,47,357")
    assert indian("22,916") + indian("1,00,000") == indian("1,22,916")
    # Declared gross turnover Rs 3,97,356.18 was determined at Rs 3,97,357 (rounded up to the rupee), and the
    # declared taxable turnover Rs 1,10,246.63 at Rs 1,21,567.
    assert indian("3,97,356.18").quantize(D("1"), rounding="ROUND_CEILING") == indian("3,97,357")
    assert indian("1,21,567") - indian("1,10,246.63") == D("11320.37")


def test_window_is_19_days_and_period_355_days() -> None:
    assert calendar_days(*WINDOW).units == 19  # "a period of 19 days"
    assert calendar_days(*PERIOD).units == 355  # 1 Nov 1959 - 20 Oct 1960, 1960 a leap year


def test_esufall_calendar_day_extrapolation_and_the_additions() -> None:
    result = extrapolate(OBSERVED, WINDOW, PERIOD, country="IN", assessed=[
        ("State Act addition", indian("2,50,000")),
        ("Central Act addition", indian("1,00,000")),
        ("both additions", indian("2,50,000") + indian("1,00,000")),
    ])
    assert result.rate_per_unit == D("1640.59")  # 31,171.28 / 19 per day
    assert result.central == D("582410.76")  # 31,171.28 x 355 / 19
    assert result.beyond_window == D("551239.48")  # the escaped turnover outside the proven 19 days
    state, central_act, both = result.comparisons
    assert state.ratio_to_central == D("0.4293")
    assert central_act.ratio_to_central == D("0.1717")
    assert both.ratio_to_central == D("0.6010")
    assert not both.within_range and "conservative" in both.statement
    assert "Esufall" in result.citation


def test_working_day_and_turnover_bases() -> None:
    result = extrapolate(OBSERVED, WINDOW, PERIOD, basis="working_days", country="IN",
                         window_turnover=D("20000"), period_turnover=D("397357"))
    names = {scenario.name: scenario.amount for scenario in result.scenarios}
    assert result.central == names["working_days"]
    assert names["calendar_days"] == D("582410.76")
    # turnover ratio: 31,171.28 x 3,97,357 / 20,000
    assert names["turnover_ratio"] == (OBSERVED * D("397357") / D("20000")).quantize(D("0.01"))
    assert result.low == min(names.values()) and result.high == max(names.values())
    assert any("IN public holidays" in note for note in result.notes)


def test_working_days_without_country_counts_weekdays() -> None:
    count = working_days(date(2024, 1, 1), date(2024, 1, 31), None)
    assert count.units == 23 and "no case country" in count.notes[0]
    norway = working_days(date(2024, 12, 23), date(2024, 12, 27), "NO")  # 25 and 26 December are holidays
    assert norway.units == 3


def test_confidence_band_for_a_sampled_window() -> None:
    daily = [D("1500.00"), D("1700.00"), D("1600.00"), D("1800.00"), D("1400.00")]
    result = extrapolate(sum(daily), (date(2024, 3, 4), date(2024, 3, 8)), (date(2024, 1, 1), date(2024, 12, 31)),
                         daily_observations=daily, confidence=D("0.90"))
    low = next(s.amount for s in result.scenarios if s.name == "confidence_low")
    high = next(s.amount for s in result.scenarios if s.name == "confidence_high")
    # mean 1,600, s = sqrt(100,000 / 4) = 158.114, t(0.95; 4 df) = 2.131847, N = 366, fpc = sqrt(361/366):
    # half width = 366 x 2.131847 x 158.114 / sqrt(5) x 0.993146 = 54,794.9 (by hand, to the rounding of t)
    assert low < result.central < high
    assert result.central == D("585600.00")
    assert (high - result.central) == (result.central - low)
    assert D("54790") < high - result.central < D("54800")


def test_seasonality_band() -> None:
    result = extrapolate(OBSERVED, WINDOW, PERIOD, seasonality=D("0.25"))
    names = {scenario.name: scenario.amount for scenario in result.scenarios}
    assert names["seasonality_low"] == D("436808.07")
    assert names["seasonality_high"] == D("728013.45")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"observed": D("-1")}, "negative"),
        ({"basis": "moon_phases"}, "unknown basis"),
        ({"window": (date(1960, 9, 19), date(1960, 9, 1))}, "before it starts"),
        ({"window": (date(1961, 1, 1), date(1961, 1, 5))}, "not inside"),
        ({"basis": "turnover_ratio"}, "cannot be computed"),
        ({"window_turnover": D("100")}, "both"),
        ({"window_turnover": D("100"), "period_turnover": D("50")}, "smaller"),
        ({"seasonality": D("1.5")}, "between 0 and 1"),
        ({"daily_observations": [D("1")]}, "at least two"),
        ({"daily_observations": [D("1"), D("2")]}, "add up"),
        ({"assessed": [("x", D("-5"))]}, "negative"),
    ],
)
def test_bad_inputs_are_refused(kwargs: dict, message: str) -> None:
    arguments = {"observed": OBSERVED, "window": WINDOW, "period": PERIOD, **kwargs}
    with pytest.raises(EstimateError, match=message):
        extrapolate(arguments.pop("observed"), arguments.pop("window"), arguments.pop("period"), **arguments)


def test_unknown_country_calendar_is_refused() -> None:
    with pytest.raises(EstimateError, match="no holiday calendar"):
        working_days(date(2024, 1, 1), date(2024, 1, 2), "XX")


@settings(max_examples=60, deadline=None)
@given(
    cents=st.integers(min_value=0, max_value=10**11),
    window_days=st.integers(min_value=1, max_value=60),
    before=st.integers(min_value=0, max_value=400),
    after=st.integers(min_value=0, max_value=400),
)
def test_extrapolation_covers_the_observed_and_scales_with_days(cents: int, window_days: int, before: int,
                                                                after: int) -> None:
    from datetime import timedelta

    observed = D(cents) / 100
    window = (date(2020, 3, 1), date(2020, 3, 1) + timedelta(days=window_days - 1))
    period = (window[0] - timedelta(days=before), window[1] + timedelta(days=after))
    result = extrapolate(observed, window, period)
    assert result.central >= observed
    assert result.central + result.beyond_window * 0 == result.observed + result.beyond_window
    expected = (observed * (window_days + before + after) / window_days).quantize(D("0.01"))
    assert result.central == expected
    assert result.low <= result.central <= result.high
