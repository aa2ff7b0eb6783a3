"""Días hábiles administrativos (Ley 19.880 art. 25): not Saturdays, Sundays, national holidays
(the ``holidays`` library, CL) nor the organization's own non-working days."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

from folio.organizations.models import NonWorkingDay, Organization


@lru_cache(maxsize=64)
def _national(subdivision: str, year: int) -> frozenset[dt.date]:
    cal = holidays.country_holidays("CL", subdiv=subdivision or None, years=[year])
    return frozenset(cal.keys())


class BusinessCalendar:
    def __init__(self, organization: Organization | None) -> None:
        self.subdivision = organization.holiday_subdivision if organization else ""
        self._extra: set[dt.date] = (
            set(NonWorkingDay.objects.filter(organization=organization).values_list("date", flat=True))
            if organization is not None
            else set()
        )

    def is_business_day(self, day: dt.date) -> bool:
        if day.weekday() >= 5:
            return False
        return day not in _national(self.subdivision, day.year) and day not in self._extra

    def add_business_days(self, start: dt.date, days: int) -> dt.date:
        """The date on which a deadline of ``days`` días hábiles counted from the day after ``start``
        expires."""
        if days < 0:
            raise ValueError("days must be >= 0")
        current = start
        remaining = days
        while remaining > 0:
            current += dt.timedelta(days=1)
            if self.is_business_day(current):
                remaining -= 1
        return current

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """Business days after ``start`` up to and including ``end`` (negative if end < start)."""
        if end == start:
            return 0
        sign = 1 if end > start else -1
        lo, hi = (start, end) if sign == 1 else (end, start)
        count = 0
        day = lo
        while day < hi:
            day += dt.timedelta(days=1)
            if self.is_business_day(day):
                count += 1
        return sign * count
