"""Best-judgment extrapolation: suppression observed in a test window carried to the whole assessment period.

The estimate must "not be arbitrary and have a reasonable nexus with the facts discovered" (CST, Madhya Pradesh
v. H.M. Esufall, [1973] INSC 84, 1973 AIR 2266). So the result states its basis (calendar days, working days of
the case's country, or the ratio of recorded turnover), the rate per unit observed, a sensitivity range across
the other bases, a seasonality allowance and, when the window is a sample of days, a confidence band; and it
compares an assessed amount with the extrapolation so the nexus can be argued with numbers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from taxaudit.estimate.errors import EstimateError
from taxaudit.model.money import CENT

BASES = ("calendar_days", "working_days", "turnover_ratio")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
RATIO = Decimal("0.0001")
CITATION = ("CST, Madhya Pradesh v. H.M. Esufall, [1973] INSC 84, 1973 AIR 2266, 1973 SCR (3) 1005 "
            "(best judgment: not arbitrary, reasonable nexus to the material; accounts first rightly rejected); "
            "State of Kerala v. C. Velukutty, 60 ITR 239; Raghubar Mandal Harihar Mandal v. State of Bihar, 8 STC 770")


@dataclass(frozen=True)
class DayCount:
    """Days between two dates (inclusive) on a basis, with notes on the calendar used."""

    basis: str
    start: date
    end: date
    units: int
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Scenario:
    """One alternative figure for the period's suppression, named for how it was reached."""

    name: str
    amount: Decimal
    note: str


@dataclass(frozen=True)
class Comparison:
    """An assessed amount set against the extrapolation, to argue (or test) the nexus."""

    assessed: Decimal
    label: str
    ratio_to_central: Decimal
    ratio_to_beyond_window: Decimal
    within_range: bool
    statement: str


@dataclass(frozen=True)
class Extrapolation:
    """The extrapolated suppression for the assessment period, its basis, range and comparisons."""

    basis: str
    observed: Decimal
    window_start: date
    window_end: date
    period_start: date
    period_end: date
    window_units: int
    period_units: int
    rate_per_unit: Decimal
    central: Decimal
    beyond_window: Decimal
    low: Decimal
    high: Decimal
    scenarios: list[Scenario]
    comparisons: list[Comparison]
    country: str | None
    notes: list[str]
    citation: str = CITATION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def working_days(start: date, end: date, country: str | None,
                 weekend: frozenset[int] | None = None) -> DayCount:
    """Return the working days from ``start`` to ``end`` inclusive: not a weekend, not a public holiday.

    The calendar is the ``holidays`` package's for ``country`` (ISO code); with no country only Saturdays and
    Sundays are excluded, and the notes say so. Years outside the package's coverage are flagged too.
    ``weekend`` (weekday numbers, Monday = 0) overrides the package's weekend, e.g. ``{6}`` for a
    Sunday-only weekly holiday such as India's in 1960.
    """
    import holidays

    notes: list[str] = []
    if country:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                calendar_of = holidays.country_holidays(country, years=range(start.year, end.year + 1))
        except NotImplementedError as exc:
            raise EstimateError(f"no holiday calendar for country {country!r}", where="case country",
                                hint="use --basis calendar_days, or set the case's country to an ISO code") from exc
        weekend = set(calendar_of.weekend) if weekend is None else set(weekend)
        first, last = calendar_of.start_year, calendar_of.end_year
        if start.year < first or end.year > last:
            notes.append(f"the {country} holiday calendar covers {first}-{last}; holidays outside are not excluded")
        names = ", ".join(DAY_NAMES[number] for number in sorted(weekend))
        notes.append(f"working days: {country} public holidays and weekend days ({names}) excluded")
    else:
        calendar_of, weekend = {}, ({5, 6} if weekend is None else set(weekend))
        names = ", ".join(DAY_NAMES[number] for number in sorted(weekend))
        notes.append(f"no case country: only weekend days ({names}) excluded, no public holidays")
    count, day = 0, start
    while day <= end:
        if day.weekday() not in weekend and day not in calendar_of:
            count += 1
        day += timedelta(days=1)
    return DayCount("working_days", start, end, count, notes)


def calendar_days(start: date, end: date) -> DayCount:
    """Return the calendar days from ``start`` to ``end``, both included."""
    return DayCount("calendar_days", start, end, (end - start).days + 1)


def _check_dates(window: tuple[date, date], period: tuple[date, date]) -> None:
    for name, (start, end) in (("test window", window), ("assessment period", period)):
        if end < start:
            raise EstimateError(f"the {name} ends ({end}) before it starts ({start})", hint="swap the two dates")
    if window[0] < period[0] or window[1] > period[1]:
        raise EstimateError(
            f"the test window {window[0]}..{window[1]} is not inside the assessment period {period[0]}..{period[1]}",
            hint="the observed suppression must come from the period being assessed",
        )


def _scale(observed: Decimal, numerator: Decimal, denominator: Decimal) -> Decimal:
    if denominator <= 0:
        raise EstimateError("the test window has no units on this basis (no working days or no turnover)",
                            hint="choose another --basis or a longer window")
    return (observed * numerator / denominator).quantize(CENT, rounding=ROUND_HALF_EVEN)


def extrapolate(
    observed: Decimal,
    window: tuple[date, date],
    period: tuple[date, date],
    *,
    basis: str = "calendar_days",
    country: str | None = None,
    weekend: frozenset[int] | None = None,
    window_turnover: Decimal | None = None,
    period_turnover: Decimal | None = None,
    seasonality: Decimal | None = None,
    daily_observations: Sequence[Decimal] | None = None,
    confidence: Decimal = Decimal("0.90"),
    assessed: Sequence[tuple[str, Decimal]] = (),
) -> Extrapolation:
    """Return the suppression for the whole period extrapolated from ``observed`` in the test window.

    central = observed x (period units / window units), units being calendar days, working days or recorded
    turnover (best-judgment assessment after rejection of the books; CST v. H.M. Esufall, 1973). The range runs
    over every basis that can be computed, the ``seasonality`` allowance (e.g. 0.20 for +/-20 %) and, with
    ``daily_observations`` (one suppressed amount per window day, a sample of the period's days), a Student-t
    confidence band on the period total with the finite-population correction.
    """
    observed = Decimal(observed).quantize(CENT)
    if observed < 0:
        raise EstimateError("observed suppression cannot be negative", hint="give the amount found in the window")
    if basis not in BASES:
        raise EstimateError(f"unknown basis {basis!r}", hint=f"use one of: {', '.join(BASES)}")
    _check_dates(window, period)
    notes: list[str] = []
    counts: dict[str, tuple[DayCount, DayCount]] = {
        "calendar_days": (calendar_days(*window), calendar_days(*period)),
        "working_days": (working_days(*window, country, weekend), working_days(*period, country, weekend)),
    }
    amounts: dict[str, Decimal] = {}
    for name, (win, per) in counts.items():
        if win.units > 0:
            amounts[name] = _scale(observed, Decimal(per.units), Decimal(win.units))
    if window_turnover is not None or period_turnover is not None:
        if window_turnover is None or period_turnover is None:
            raise EstimateError("the turnover basis needs both the window's and the period's recorded turnover",
                                hint="give --window-turnover and --period-turnover")
        if Decimal(period_turnover) < Decimal(window_turnover):
            raise EstimateError("the period's recorded turnover is smaller than the window's",
                                hint="the window lies inside the period; check the two turnovers")
        amounts["turnover_ratio"] = _scale(observed, Decimal(period_turnover), Decimal(window_turnover))
    if basis not in amounts:
        raise EstimateError(f"basis {basis} cannot be computed from these inputs",
                            hint="give --window-turnover and --period-turnover for turnover_ratio")
    central = amounts[basis]
    if basis == "turnover_ratio":
        window_units, period_units = Decimal(window_turnover), Decimal(period_turnover)  # type: ignore[arg-type]
    else:
        win, per = counts[basis]
        window_units, period_units = Decimal(win.units), Decimal(per.units)
    notes.extend(counts["working_days"][1].notes)
    rate = (observed / window_units).quantize(RATIO if basis == "turnover_ratio" else CENT)
    scenarios = [Scenario(name, amount, _scenario_note(name, counts, window_turnover, period_turnover))
                 for name, amount in amounts.items()]
    if seasonality is not None:
        share = Decimal(seasonality)
        if not Decimal(0) <= share < Decimal(1):
            raise EstimateError("seasonality must be a fraction between 0 and 1", hint="e.g. --seasonality 0.20")
        scenarios.append(Scenario("seasonality_low", (central * (1 - share)).quantize(CENT),
                                  f"central less {share:%} for a window busier than the period's average"))
        scenarios.append(Scenario("seasonality_high", (central * (1 + share)).quantize(CENT),
                                  f"central plus {share:%} for a window quieter than the period's average"))
    if daily_observations is not None:
        scenarios.extend(_confidence_band(daily_observations, observed, int(period_units), confidence, basis))
    values = [scenario.amount for scenario in scenarios]
    low, high = min(values), max(values)
    beyond = central - observed
    comparisons = [_compare(label, Decimal(amount).quantize(CENT), central, beyond, low, high)
                   for label, amount in assessed]
    return Extrapolation(basis, observed, window[0], window[1], period[0], period[1], int(window_units),
                         int(period_units), rate, central, beyond, low, high, scenarios, comparisons, country, notes)


def _scenario_note(name: str, counts: dict[str, tuple[DayCount, DayCount]], window_turnover: Decimal | None,
                   period_turnover: Decimal | None) -> str:
    if name == "turnover_ratio":
        return f"recorded turnover {period_turnover} in the period / {window_turnover} in the window"
    win, per = counts[name]
    return f"{per.units} {name.replace('_', ' ')} in the period / {win.units} in the window"


def _confidence_band(daily: Sequence[Decimal], observed: Decimal, population: int, confidence: Decimal,
                     basis: str) -> list[Scenario]:
    from scipy.stats import t as student_t

    values = [Decimal(value) for value in daily]
    sample = len(values)
    if basis == "turnover_ratio":
        raise EstimateError("a confidence band needs a day basis", hint="use calendar_days or working_days")
    if sample < 2:
        raise EstimateError("a confidence band needs at least two daily observations", hint="give one amount per day")
    if sum(values, Decimal(0)).quantize(CENT) != observed:
        raise EstimateError(f"the daily observations add up to {sum(values, Decimal(0))}, not to {observed}",
                            hint="the daily amounts must make up the observed suppression")
    if sample > population:
        raise EstimateError("more daily observations than days in the period", hint="check the dates")
    if not Decimal(0) < confidence < Decimal(1):
        raise EstimateError("confidence must be between 0 and 1", hint="e.g. --confidence 0.90")
    mean = sum(values, Decimal(0)) / sample
    variance = sum(((value - mean) ** 2 for value in values), Decimal(0)) / (sample - 1)
    # scipy gives the t quantile as a float; six significant decimals are far finer than cents need.
    quantile = Decimal(str(round(float(student_t.ppf((1 + float(confidence)) / 2, sample - 1)), 6)))
    correction = (Decimal(population - sample) / Decimal(population)).sqrt()
    half_width = population * quantile * (variance / sample).sqrt() * correction
    total = population * mean
    level = f"{confidence:%}".replace(".0000%", "%")
    note = f"{level} Student-t band, n={sample} days sampled of N={population}, finite-population corrected"
    return [Scenario("confidence_low", max(Decimal(0), total - half_width).quantize(CENT), note),
            Scenario("confidence_high", (total + half_width).quantize(CENT), note)]


def _compare(label: str, assessed: Decimal, central: Decimal, beyond: Decimal, low: Decimal,
             high: Decimal) -> Comparison:
    if assessed < 0:
        raise EstimateError("an assessed amount cannot be negative", where=label, hint="give the addition made")
    ratio_central = (assessed / central).quantize(RATIO) if central else Decimal(0)
    ratio_beyond = (assessed / beyond).quantize(RATIO) if beyond else Decimal(0)
    within = low <= assessed <= high
    if assessed < low:
        position = "below the whole sensitivity range: a conservative figure"
    elif assessed > high:
        position = "above the whole sensitivity range: the nexus must be argued from other material"
    else:
        position = "within the sensitivity range"
    percent = (ratio_central * 100).quantize(Decimal("0.01"))
    statement = (f"{label}: {assessed} is {percent} % of the extrapolated suppression {central} for the period, "
                 f"{position} [{low} .. {high}]")
    if math.isclose(float(ratio_central), 1.0, rel_tol=0.05):
        statement += "; it matches the extrapolation within 5 %"
    return Comparison(assessed, label, ratio_central, ratio_beyond, within, statement)
