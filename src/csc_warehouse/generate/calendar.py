"""Dates as ordinals, working days and England & Wales bank holidays (no extra dependency).

The simulation works on ``date.toordinal()`` integers; the writer turns them into ISO text.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from functools import cache

_FIRST_YEAR = 1990
_LAST_YEAR = 2060


def _easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    le = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * le) // 451
    month, day = divmod(h + le - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _first_monday(year: int, month: int) -> dt.date:
    d = dt.date(year, month, 1)
    return d + dt.timedelta(days=(7 - d.weekday()) % 7)


def _last_monday(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    d = nxt - dt.timedelta(days=1)
    return d - dt.timedelta(days=d.weekday())


#: one-off changes: (moved from, moved to or None) and extra days, England & Wales
_MOVED = {
    dt.date(2002, 5, 27): dt.date(2002, 6, 4),
    dt.date(2012, 5, 28): dt.date(2012, 6, 4),
    dt.date(2020, 5, 4): dt.date(2020, 5, 8),
    dt.date(2022, 5, 30): dt.date(2022, 6, 2),
}
_EXTRA = (
    dt.date(2002, 6, 3),  # Golden Jubilee
    dt.date(2011, 4, 29),  # royal wedding
    dt.date(2012, 6, 5),  # Diamond Jubilee
    dt.date(2022, 6, 3),  # Platinum Jubilee
    dt.date(2022, 9, 19),  # state funeral
    dt.date(2023, 5, 8),  # coronation
)


def bank_holidays(year: int) -> list[dt.date]:
    """England & Wales bank holidays (weekend substitutes and one-off changes included)."""
    days = [_MOVED.get(d, d) for d in _regular_bank_holidays(year)]
    return sorted(days + [d for d in _EXTRA if d.year == year])


def _regular_bank_holidays(year: int) -> list[dt.date]:
    easter = _easter(year)
    days: list[dt.date] = []
    ny = dt.date(year, 1, 1)
    days.append(ny + dt.timedelta(days={5: 2, 6: 1}.get(ny.weekday(), 0)))
    days += [easter - dt.timedelta(days=2), easter + dt.timedelta(days=1)]
    days += [_first_monday(year, 5), _last_monday(year, 5), _last_monday(year, 8)]
    xmas, boxing = dt.date(year, 12, 25), dt.date(year, 12, 26)
    if xmas.weekday() == 5:  # Saturday: Mon 27 and Tue 28
        xmas, boxing = dt.date(year, 12, 27), dt.date(year, 12, 28)
    elif xmas.weekday() == 6:  # Sunday: Tue 27 for Christmas, Boxing day Mon 26
        xmas = dt.date(year, 12, 27)
    elif boxing.weekday() == 5:  # Friday Christmas: Boxing day Mon 28
        boxing = dt.date(year, 12, 28)
    days += [xmas, boxing]
    return days


@cache
def _working_days() -> list[int]:
    hol = {d.toordinal() for y in range(_FIRST_YEAR, _LAST_YEAR + 1) for d in bank_holidays(y)}
    start = dt.date(_FIRST_YEAR, 1, 1).toordinal()
    end = dt.date(_LAST_YEAR, 12, 31).toordinal()
    # ordinal 1 (0001-01-01) is a Monday, so weekday = (ordinal - 1) % 7
    return [o for o in range(start, end + 1) if (o - 1) % 7 < 5 and o not in hol]


def add_working_days(day: int, n: int) -> int:
    """The working day ``n`` working days after ``day`` (``day`` itself need not be one);
    ``n == 0`` is ``day`` when it is a working day, else the next one (never a day before)."""
    wd = _working_days()
    if n > 0:
        i = bisect_right(wd, day) + n - 1
    elif n == 0:
        i = bisect_left(wd, day)
    else:
        i = bisect_left(wd, day) + n
    i = max(0, min(i, len(wd) - 1))
    return wd[i]


def add_months(day: int, months: int) -> int:
    """Calendar months later, clamping to the month's last day."""
    d = dt.date.fromordinal(day)
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    for dd in (d.day, 30, 29, 28):
        try:
            return dt.date(y, m, dd).toordinal()
        except ValueError:
            continue
    raise AssertionError("unreachable")


def add_years(day: int, years: int) -> int:
    return add_months(day, 12 * years)


def ordinal(d: dt.date) -> int:
    return d.toordinal()


_ISO: dict[int, str] = {}


def iso(day: int) -> str:
    s = _ISO.get(day)
    if s is None:
        s = dt.date.fromordinal(day).isoformat()
        _ISO[day] = s
    return s
