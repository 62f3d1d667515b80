"""Report periods: parse what a person types (``2026-11``, ``2026-W48``, ``2026-11-01..2026-11-15``) into a
half-open UTC interval, and name the previous month or week for schedules.

Pure module: imports nothing from Django, so it is tested on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

MAX_DAYS = 366
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


class PeriodError(ValueError):
    """A period that does not parse, is empty, too long, or starts in the future; the message says which."""


@dataclass(frozen=True)
class Period:
    """Days ``first`` to ``last`` inclusive; ``label`` is the canonical text it parses back from."""

    label: str
    first: date
    last: date

    @property
    def start(self) -> datetime:
        """The first instant of the period (UTC)."""
        return datetime.combine(self.first, datetime.min.time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period (UTC): queries use ``start <= t < end``."""
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def month_period(year: int, month: int) -> Period:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(f"{year:04d}-{month:02d}", first, following - timedelta(days=1))


def week_period(year: int, week: int) -> Period:
    first = date.fromisocalendar(year, week, 1)
    return Period(f"{year:04d}-W{week:02d}", first, first + timedelta(days=6))


def period_parse(text: str, *, today: date) -> Period:
    """Return the period ``text`` names; PeriodError when it does not parse or starts after ``today``."""
    text = (text or "").strip()
    try:
        if match := _MONTH.match(text):
            period = month_period(int(match[1]), int(match[2]))
        elif match := _WEEK.match(text):
            period = week_period(int(match[1]), int(match[2]))
        elif match := _RANGE.match(text):
            first, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
            if last < first:
                raise PeriodError(f"The period {text!r} ends before it starts.")
            period = Period(f"{first.isoformat()}..{last.isoformat()}", first, last)
        else:
            raise PeriodError(
                f"A period is a month (2026-11), an ISO week (2026-W48) or a day range (2026-11-01..2026-11-15); "
                f"{text[:40]!r} is none of these."
            )
    except ValueError as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(f"The period {text[:40]!r} names no real date ({exc}).") from None
    if period.days > MAX_DAYS:
        raise PeriodError(f"A report covers at most {MAX_DAYS} days; {period.label} covers {period.days}.")
    if period.first > today:
        raise PeriodError(f"The period {period.label} starts after today ({today.isoformat()}); nothing to report yet.")
    return period


def period_default(*, today: date) -> Period:
    """The current month (to date): what an on-demand report covers when no period is named."""
    return month_period(today.year, today.month)


def period_previous(cadence: str, *, today: date) -> Period:
    """The last complete month or ISO week before ``today`` (what a monthly or weekly schedule reports on)."""
    if cadence == "monthly":
        last = today.replace(day=1) - timedelta(days=1)
        return month_period(last.year, last.month)
    if cadence == "weekly":
        year, week, _ = (today - timedelta(days=7)).isocalendar()
        return week_period(year, week)
    raise PeriodError(f"Unknown cadence {cadence!r}; use monthly or weekly.")
