"""Deadlines on working-day calendars, each expected date checked by hand against the official calendar of
its year:

* RU 2023 — Постановление Правительства РФ от 29.08.2022 № 1505 (1 Jan -> 24 Feb, 8 Jan -> 8 May);
* RU 2024 — Постановление от 10.08.2023 № 1314 (Sat 27 Apr, 2 Nov, 28 Dec worked; 29-30 Apr, 10 May, 30-31 Dec off);
* RU 2025 — Постановление от 04.10.2024 № 1335 (Sat 1 Nov worked; 2 and 8 May, 13 Jun, 3 Nov, 31 Dec off);
* RU 2026 — Постановление от 24.09.2025 (3 Jan -> 9 Jan, 4 Jan -> 31 Dec), and Labour Code art. 112 (8 March and
  9 May fall on a weekend, so 9 March and 11 May are days off);
* US — 5 U.S.C. 6103 legal public holidays (Juneteenth 19 Jun, Independence Day 4 Jul, observed on the Friday when
  it falls on a Saturday).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxaudit.cases.calendar import WorkingCalendar, calendar_for
from taxaudit.cases.deadlines import add_months, compute_deadline, deadline_pack
from taxaudit.cases.errors import CalendarError, DeadlineError

RU = calendar_for("RU")
US = calendar_for("US")


@pytest.mark.parametrize("year", [2023, 2024, 2025, 2026])
def test_shipped_decree_data_agrees_with_holidays_package(year: int) -> None:
    assert RU.package_disagreements(year) == []


@pytest.mark.parametrize(("day", "working"), [
    (date(2023, 2, 24), False),  # decree 1505: transferred from Sun 1 Jan
    (date(2023, 5, 8), False),   # decree 1505: transferred from Sun 8 Jan
    (date(2024, 4, 27), True),   # decree 1314: Saturday worked
    (date(2024, 4, 29), False),
    (date(2024, 4, 30), False),
    (date(2024, 5, 10), False),
    (date(2024, 11, 2), True),   # decree 1314: Saturday worked
    (date(2024, 12, 28), True),  # decree 1314: Saturday worked
    (date(2024, 12, 30), False),
    (date(2024, 12, 31), False),
    (date(2025, 1, 8), False),   # New Year holidays, Labour Code art. 112
    (date(2025, 1, 9), True),
    (date(2025, 5, 2), False),   # decree 1335
    (date(2025, 5, 8), False),
    (date(2025, 6, 13), False),
    (date(2025, 11, 1), True),   # decree 1335: Saturday worked
    (date(2025, 11, 3), False),
    (date(2025, 12, 31), False),
    (date(2026, 1, 9), False),   # 2026 decree: from Sat 3 Jan
    (date(2026, 1, 12), True),
    (date(2026, 3, 9), False),   # art. 112: 8 March is a Sunday
    (date(2026, 5, 11), False),  # art. 112: 9 May is a Saturday
    (date(2026, 11, 4), False),
    (date(2026, 11, 5), True),
    (date(2026, 12, 31), False),  # 2026 decree: from Sun 4 Jan
])
def test_russian_production_calendar(day: date, working: bool) -> None:
    assert RU.is_working_day(day) is working


@pytest.mark.parametrize(("rule", "event", "due"), [
    # 2023: received Mon 20 Feb; 23 Feb holiday, 24 Feb transferred day off -> 21, 22, 27, 28 Feb, 1 Mar.
    ("ru.explanations", date(2023, 2, 20), date(2023, 3, 1)),
    # 2024: received Thu 25 Apr; Sat 27 Apr is worked, 28 Apr-1 May off -> 26, 27 Apr, 2, 3, 6 May.
    ("ru.explanations", date(2024, 4, 25), date(2024, 5, 6)),
    # Year end 2024/25: received Fri 20 Dec; 23-27 Dec, Sat 28 Dec worked, 29 Dec-8 Jan off -> 9, 10, 13, 14 Jan.
    ("ru.documents", date(2024, 12, 20), date(2025, 1, 14)),
    # 2025: received Thu 30 Oct; Sat 1 Nov worked, 2-4 Nov off -> 31 Oct, 1, 5, 6, 7 Nov.
    ("ru.explanations", date(2025, 10, 30), date(2025, 11, 7)),
    # Year end 2025/26: audit ends Thu 25 Dec; 26, 29, 30 Dec, then 31 Dec-11 Jan off -> 12-16, 19, 20 Jan.
    ("ru.act", date(2025, 12, 25), date(2026, 1, 20)),
    # 3 months from Mon 9 Dec 2025 end on Mon 9 Mar 2026, a day off (art. 112) -> Tue 10 Mar.
    ("ru.desk_audit_term", date(2025, 12, 9), date(2026, 3, 10)),
    # 3 months from 8 Feb 2023 end on 8 May 2023 (transferred day off), 9 May holiday -> Wed 10 May.
    ("ru.desk_audit_term", date(2023, 2, 8), date(2023, 5, 10)),
    # 3 months from Sat 10 Feb 2024 end on Fri 10 May 2024 (transferred day off) -> Mon 13 May.
    ("ru.desk_audit_term", date(2024, 2, 10), date(2024, 5, 13)),
    # VAT: 2 months from Fri 25 Apr 2025 -> Wed 25 Jun 2025.
    ("ru.desk_audit_term_vat", date(2025, 4, 25), date(2025, 6, 25)),
    # One month from 31 Jan ends on the last day of February (art. 6.1 p. 5); 2024 is a leap year.
    ("ru.objections", date(2025, 1, 31), date(2025, 2, 28)),
    ("ru.objections", date(2024, 1, 31), date(2024, 2, 29)),
    # VAT return for Q4 2024 due 25 Jan 2025, a Saturday -> Mon 27 Jan (art. 174 p. 5, art. 6.1 p. 7).
    ("ru.vat_return_due", date(2024, 12, 31), date(2025, 1, 27)),
    ("ru.vat_return_due", date(2025, 3, 31), date(2025, 4, 25)),
    # Q4 2025 due Sun 25 Jan 2026 -> Mon 26 Jan; Q1 2026 due Sat 25 Apr 2026 -> Mon 27 Apr.
    ("ru.vat_return_due", date(2025, 12, 31), date(2026, 1, 26)),
    ("ru.vat_return_due", date(2026, 3, 31), date(2026, 4, 27)),
    # Registered post sent Fri 26 Dec 2025: 29, 30 Dec, 12, 13, 14, 15 Jan -> deemed received Thu 15 Jan 2026.
    ("ru.registered_post_receipt", date(2025, 12, 26), date(2026, 1, 15)),
    # Decision: objection period ended Fri 28 Feb 2025; 10 working days -> Fri 14 Mar 2025.
    ("ru.decision", date(2025, 2, 28), date(2025, 3, 14)),
    # FOIA: received Tue 18 Jun 2024; 19 Jun and 4 Jul are holidays -> 20th working day Thu 18 Jul 2024.
    ("us.foia_response", date(2024, 6, 18), date(2024, 7, 18)),
    # FOIA: received Thu 20 Nov 2025; Thanksgiving 27 Nov -> Fri 19 Dec 2025.
    ("us.foia_response", date(2025, 11, 20), date(2025, 12, 19)),
    # Expedited-processing determination: 10 calendar days, no roll: Thu 24 Jul 2025 -> Sun 3 Aug 2025.
    ("us.foia_expedited_determination", date(2025, 7, 24), date(2025, 8, 3)),
])
def test_deadline(rule: str, event: date, due: date) -> None:
    deadline = compute_deadline(rule, event)
    assert deadline.due == due
    assert deadline.citation


def test_vat_desk_audit_extension_to_three_months() -> None:
    # Art. 88 p. 2: 2 months, extendable to 3: filed 25 Apr 2025 -> Fri 25 Jul 2025.
    deadline = compute_deadline("ru.desk_audit_term_vat", date(2025, 4, 25), extended=True)
    assert deadline.due == date(2025, 7, 25)
    assert deadline.extended
    assert "88" in deadline.citation


def test_foia_unusual_circumstances_adds_ten_working_days() -> None:
    # 20th working day Thu 18 Jul 2024; ten more: 19, 22-26, 29-31 Jul, 1 Aug -> Thu 1 Aug 2024.
    deadline = compute_deadline("us.foia_response", date(2024, 6, 18), extended=True)
    assert deadline.due == date(2024, 8, 1)
    assert deadline.working_days == 30
    assert "552(a)(6)(B)(i)" in deadline.citation


def test_decision_extension_adds_one_month() -> None:
    deadline = compute_deadline("ru.decision", date(2025, 2, 28), extended=True)
    assert deadline.due == date(2025, 4, 14)  # 14 Mar + 1 month = Mon 14 Apr 2025


def test_request_sent_by_registered_post() -> None:
    # Sent Fri 20 Dec 2024, deemed received on the 6th working day: Sat 28 Dec 2024 (a worked Saturday);
    # five working days for explanations then run 9, 10, 13, 14, 15 Jan 2025.
    deadline = compute_deadline("ru.explanations", date(2024, 12, 20), by_post=True)
    assert deadline.received == date(2024, 12, 28)
    assert deadline.due == date(2025, 1, 15)
    assert "ст. 31 п. 4" in deadline.citation


def test_deadline_json_shape() -> None:
    data = compute_deadline("explanations", date(2024, 4, 25), country="RU").to_dict()
    assert data["rule"] == "ru.explanations"
    assert data["from"] == date(2024, 4, 25)
    assert data["due"] == date(2024, 5, 6)
    assert data["working_days"] == 5
    assert data["citation"] == "НК РФ ст. 88 п. 3; ст. 6.1 п. 6"


def test_us_observed_holiday() -> None:
    assert not US.is_working_day(date(2026, 7, 3))  # 4 Jul 2026 is a Saturday: observed Friday 3 Jul
    assert US.is_working_day(date(2026, 7, 6))


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2025, 8, 31), 1) == date(2025, 9, 30)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2025, 12, 15), 1) == date(2026, 1, 15)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"rule_id": "ru.nonsense", "start": date(2025, 1, 1)}, "no deadline rule"),
    ({"rule_id": "ru.explanations", "start": date(2025, 1, 1), "country": "US"}, "not US"),
    ({"rule_id": "ru.explanations", "start": date(2025, 1, 1), "extended": True}, "no extension"),
    ({"rule_id": "ru.desk_audit_term_vat", "start": date(2018, 1, 10)}, "in force from 2018-09-03"),
    ({"rule_id": "us.foia_response", "start": date(2025, 1, 10), "by_post": True}, "registered post"),
])
def test_bad_deadline_requests(kwargs: dict, message: str) -> None:
    with pytest.raises(DeadlineError, match=message):
        compute_deadline(**kwargs)


def test_unknown_country_calendar() -> None:
    with pytest.raises(CalendarError, match="no holiday calendar"):
        WorkingCalendar("XX")
    with pytest.raises(CalendarError):
        RU.add_working_days(date(2025, 1, 1), 0)


def test_every_rule_has_citation_and_effective_date() -> None:
    for rule in deadline_pack().rules.values():
        assert rule["citation"] and rule["effective_from"]


working_day_rules = st.sampled_from(["ru.explanations", "ru.documents", "ru.act", "ru.decision", "us.foia_response"])
event_dates = st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 12, 31))


@settings(max_examples=60, deadline=None)
@given(rule=working_day_rules, event=event_dates)
def test_working_day_deadlines_land_on_a_working_day_after_counting_exactly(rule: str, event: date) -> None:
    deadline = compute_deadline(rule, event)
    calendar = calendar_for(deadline.country)
    assert deadline.due > event
    assert calendar.is_working_day(deadline.due)
    assert deadline.working_days == deadline_pack().rules[rule]["amount"]


@settings(max_examples=60, deadline=None)
@given(rule=st.sampled_from(["ru.desk_audit_term", "ru.objections", "ru.explanations"]), event=event_dates,
       gap=st.integers(min_value=1, max_value=40))
def test_later_event_never_gives_earlier_deadline(rule: str, event: date, gap: int) -> None:
    assert compute_deadline(rule, event).due <= compute_deadline(rule, event + timedelta(days=gap)).due
