"""Working-day calendars per country: weekends and public holidays from the ``holidays`` package, plus the
officially announced transfers of days off shipped as cited data (``cases/calendars/<cc>.yaml``).

A *working day* is a day that is neither a weekend day nor a non-working public holiday — the definition of
RU Tax Code art. 6.1 p. 6 and of "working days" in 5 U.S.C. 552(a)(6) (excepting Saturdays, Sundays and legal
public holidays).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

import holidays
import yaml

from taxaudit.cases.errors import CalendarError

DEFAULT_WEEKEND = frozenset({5, 6})


@dataclass(frozen=True)
class Transfer:
    """One transfer of a day off: the weekend day ``moved_from`` is worked, ``moved_to`` is a day off."""

    moved_from: date
    moved_to: date
    citation: str


@dataclass(frozen=True)
class TransferData:
    """The cited transfers of days off for one country, by year."""

    country: str
    weekend: frozenset[int]
    transfers: tuple[Transfer, ...] = ()
    citations: dict[int, str] = field(default_factory=dict)


@cache
def transfer_data(country: str) -> TransferData | None:
    """Return the shipped transfer data for ``country`` (ISO alpha-2) or None when none is shipped."""
    resource = resources.files("taxaudit.cases") / "calendars" / f"{country.lower()}.yaml"
    if not resource.is_file():
        return None
    where = f"taxaudit/cases/calendars/{country.lower()}.yaml"
    data: dict[str, Any] = yaml.safe_load(resource.read_text(encoding="utf-8"))
    weekend = frozenset(data.get("weekend", sorted(DEFAULT_WEEKEND)))
    transfers: list[Transfer] = []
    citations: dict[int, str] = {}
    for year, entry in sorted(data.get("years", {}).items()):
        citations[int(year)] = entry["citation"]
        for item in entry.get("transfers", []):
            moved_from, moved_to = item["from"], item["to"]
            if moved_from.weekday() not in weekend:
                raise CalendarError(f"transfer from {moved_from} is not from a weekend day", where=where,
                                    hint="a transfer moves a weekend day off to another day; check the decree")
            if moved_to.weekday() in weekend:
                raise CalendarError(f"transfer to {moved_to} lands on a weekend day", where=where,
                                    hint="check the date against the decree")
            transfers.append(Transfer(moved_from, moved_to, entry["citation"]))
    return TransferData(country.upper(), weekend, tuple(transfers), citations)


class WorkingCalendar:
    """Working days of one country: weekends, public holidays and announced transfers of days off."""

    def __init__(self, country: str) -> None:
        code = country.upper()
        if code not in holidays.list_supported_countries():
            raise CalendarError(f"no holiday calendar for country {country!r}", where="--country",
                                hint="give an ISO 3166 alpha-2 code the holidays package supports, e.g. RU, US")
        self.country = code
        self._holidays = holidays.country_holidays(code)
        self.data = transfer_data(code)
        package_weekend = frozenset(getattr(self._holidays, "weekend", DEFAULT_WEEKEND))
        self.weekend = self.data.weekend if self.data else package_weekend
        self._extra_days_off = {t.moved_to: t for t in self.data.transfers} if self.data else {}
        self._extra_working = {t.moved_from: t for t in self.data.transfers} if self.data else {}

    def holiday_name(self, day: date) -> str | None:
        """Return why ``day`` is a day off (holiday name or transfer), or None for a working day or weekend."""
        if day in self._extra_days_off:
            return f"day off transferred from {self._extra_days_off[day].moved_from.isoformat()}"
        return self._holidays.get(day)

    def is_public_holiday(self, day: date) -> bool:
        """Return True when ``day`` is a non-working public holiday (not merely a weekend day)."""
        return day in self._holidays and not self._package_marks_worked_weekend(day)

    def _package_marks_worked_weekend(self, day: date) -> bool:
        return day in getattr(self._holidays, "weekend_workdays", ())

    def is_working_day(self, day: date) -> bool:
        """Return True when ``day`` is a working day (RU Tax Code art. 6.1 p. 6; 5 U.S.C. 552(a)(6))."""
        if day in self._extra_days_off:
            return False
        if day in self._extra_working and day not in self._holidays:
            return True
        if day in self._holidays:
            return False
        if self._package_marks_worked_weekend(day):
            return True
        return day.weekday() not in self.weekend

    def next_working_day(self, day: date) -> date:
        """Return ``day`` itself when it is a working day, else the first working day after it (art. 6.1 p. 7)."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, count: int) -> date:
        """Return the ``count``-th working day after ``start`` (counting begins the next day, art. 6.1 p. 2)."""
        if count < 1:
            raise CalendarError(f"cannot count {count} working days", hint="give a positive number of days")
        day = start
        found = 0
        while found < count:
            day += timedelta(days=1)
            if self.is_working_day(day):
                found += 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Return the number of working days after ``start`` up to and including ``end``."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def package_disagreements(self, year: int) -> list[str]:
        """Return the days of ``year`` where the shipped transfer data and the holidays package disagree."""
        if not self.data:
            return []
        problems = []
        for transfer in self.data.transfers:
            if transfer.moved_to.year == year and transfer.moved_to not in self._holidays:
                problems.append(f"{transfer.moved_to}: decree day off missing from the holidays package")
            if (transfer.moved_from.year == year and transfer.moved_from not in self._holidays
                    and not self._package_marks_worked_weekend(transfer.moved_from)):
                problems.append(f"{transfer.moved_from}: decree working day missing from the holidays package")
        return problems


@cache
def calendar_for(country: str) -> WorkingCalendar:
    """Return the (cached) :class:`WorkingCalendar` of ``country``."""
    return WorkingCalendar(country)
