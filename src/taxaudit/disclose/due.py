"""Response due dates of disclosure requests."""

from __future__ import annotations

from datetime import date, timedelta

import holidays

FOIA_WORKING_DAYS = 20
FOIA_RULE = "5 U.S.C. § 552(a)(6)(A)(i): 20 days excepting Saturdays, Sundays and legal public holidays"
NO_STATUTORY_LIMIT = "no statutory response period for I.R.C. § 6103(c)/(e) requests"


def add_working_days(start: date, working_days: int) -> date:
    """Return the date ``working_days`` U.S. federal working days after ``start`` (start itself not counted).

    Saturdays, Sundays and legal public holidays (5 U.S.C. § 6103, with their observed days, from the
    ``holidays`` package's U.S. calendar) are skipped.
    """
    if working_days < 0:
        raise ValueError("working_days must not be negative")
    calendar = holidays.country_holidays("US", years=range(start.year, start.year + 2 + working_days // 200))
    day = start
    counted = 0
    while counted < working_days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in calendar:
            counted += 1
    return day


def response_due(request_type: str, received: date) -> tuple[date | None, str]:
    """Return (due date, rule text) for a request: FOIA gets 20 working days; § 6103 requests have no limit."""
    if request_type == "foia":
        return add_working_days(received, FOIA_WORKING_DAYS), FOIA_RULE
    return None, NO_STATUTORY_LIMIT
