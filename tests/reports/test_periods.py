"""Report periods (pure: no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reports.periods import PeriodError, period_default, period_parse, period_previous

TODAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("text", "label", "first", "last"),
    [
        ("2026-11", "2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2024-02", "2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-W48", "2026-W48", date(2026, 11, 23), date(2026, 11, 29)),
        (" 2026-11-01..2026-11-15 ", "2026-11-01..2026-11-15", date(2026, 11, 1), date(2026, 11, 15)),
        ("2026-12", "2026-12", date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_it_parses_months_weeks_and_ranges(text, label, first, last):
    period = period_parse(text, today=TODAY)
    assert (period.label, period.first, period.last) == (label, first, last)
    assert period.start == datetime(first.year, first.month, first.day, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Nov", "none of these"),
        ("2026-13", "no real date"),
        ("2026-W54", "no real date"),
        ("2027-01", "starts after today"),
        ("2026-11-10..2026-11-01", "ends before it starts"),
        ("2024-01-01..2026-01-01", "at most 366 days"),
    ],
)
def test_it_refuses_what_is_not_a_period(text, words):
    with pytest.raises(PeriodError, match=words):
        period_parse(text, today=TODAY)


def test_schedules_report_on_the_last_complete_month_or_week():
    assert period_previous("monthly", today=TODAY).label == "2026-11"
    assert period_previous("monthly", today=date(2027, 1, 1)).label == "2026-12"
    assert period_previous("weekly", today=TODAY).label == "2026-W48"
    assert period_default(today=TODAY).label == "2026-12"
