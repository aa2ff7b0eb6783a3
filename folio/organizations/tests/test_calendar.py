"""Días hábiles administrativos (Ley 19.880 art. 25): weekends, Chilean national holidays and each
municipality's own non-working days are not counted; a deadline runs from the day after."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from folio.organizations.calendar import BusinessCalendar
from folio.organizations.models import NonWorkingDay

D = dt.date


@pytest.mark.parametrize(
    ("day", "business"),
    [
        (D(2026, 3, 2), True),     # Monday
        (D(2026, 3, 6), True),     # Friday
        (D(2026, 3, 7), False),    # Saturday
        (D(2026, 3, 8), False),    # Sunday
        (D(2025, 9, 18), False),   # Fiestas Patrias (Thursday)
        (D(2025, 9, 19), False),   # Día de las Glorias del Ejército (Friday)
        (D(2026, 9, 18), False),
        (D(2025, 12, 25), False),  # Navidad (Thursday)
        (D(2026, 12, 25), False),
        (D(2026, 1, 1), False),
        (D(2026, 5, 21), False),   # Glorias Navales (Thursday)
        (D(2026, 4, 3), False),    # Viernes Santo
        (D(2025, 12, 24), True),   # not a national holiday
        (D(2025, 9, 17), True),
    ],
)
def test_weekends_and_national_holidays(day: dt.date, business: bool) -> None:
    assert BusinessCalendar(None).is_business_day(day) is business


def test_deadline_counts_from_the_day_after() -> None:
    cal = BusinessCalendar(None)
    monday = D(2026, 3, 2)
    assert cal.add_business_days(monday, 0) == monday
    assert cal.add_business_days(monday, 1) == D(2026, 3, 3)     # Tuesday, not Monday itself
    assert cal.add_business_days(monday, 5) == D(2026, 3, 9)     # skips the weekend
    assert cal.add_business_days(D(2026, 3, 6), 1) == D(2026, 3, 9)   # Friday + 1 = Monday
    assert cal.add_business_days(D(2026, 3, 7), 1) == D(2026, 3, 9)   # received on a Saturday
    with pytest.raises(ValueError):
        cal.add_business_days(monday, -1)


def test_deadline_skips_fiestas_patrias_and_christmas() -> None:
    cal = BusinessCalendar(None)
    # Wednesday 17-09-2025: Thursday 18 and Friday 19 are holidays, then the weekend.
    assert cal.add_business_days(D(2025, 9, 17), 1) == D(2025, 9, 22)
    assert cal.add_business_days(D(2025, 9, 16), 2) == D(2025, 9, 22)
    # 10 business days from 15-09-2025 (Monday): 16, 17, 22, 23, 24, 25, 26, 29, 30 Sept, 1 Oct.
    assert cal.add_business_days(D(2025, 9, 15), 10) == D(2025, 10, 1)
    # Wednesday 24-12-2025 + 1: Thursday 25 is Christmas.
    assert cal.add_business_days(D(2025, 12, 24), 1) == D(2025, 12, 26)
    assert cal.business_days_between(D(2025, 9, 15), D(2025, 10, 1)) == 10
    assert cal.business_days_between(D(2025, 10, 1), D(2025, 9, 15)) == -10
    assert cal.business_days_between(D(2025, 9, 18), D(2025, 9, 18)) == 0


def test_the_municipalitys_own_non_working_day_counts_only_for_it(world: Any) -> None:
    NonWorkingDay.objects.create(organization=world.lota, date=D(2026, 12, 24), reason="Feriado comunal")
    lota, coronel = BusinessCalendar(world.lota), BusinessCalendar(world.coronel)
    assert lota.is_business_day(D(2026, 12, 24)) is False
    assert coronel.is_business_day(D(2026, 12, 24)) is True
    # Wednesday 23-12-2026 + 1: in Lota the 24th (own day), 25th (Christmas) and the weekend are skipped.
    assert lota.add_business_days(D(2026, 12, 23), 1) == D(2026, 12, 28)
    assert coronel.add_business_days(D(2026, 12, 23), 1) == D(2026, 12, 24)
    assert lota.business_days_between(D(2026, 12, 23), D(2026, 12, 31)) == 4   # 28, 29, 30 and 31
    assert coronel.business_days_between(D(2026, 12, 23), D(2026, 12, 31)) == 5   # and the 24th
