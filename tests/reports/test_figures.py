"""The selectors behind the reports count what the seeded data holds (no PDF here), and the schedules request
each period's report once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from agents.budget import budget_for_month
from agents.models import Agent, BudgetEntry, Mission
from computejobs.models import ComputeJob
from mesh.services import publish
from reports import selectors
from reports.models import Report, ReportSchedule
from reports.periods import month_period, period_parse
from reports.services import schedules_run
from tests.reports.conftest import snapshot_seed


def _this_month():
    today = timezone.now().date()
    return month_period(today.year, today.month)


def test_holdings_take_the_last_snapshot_before_the_period_ended(acme):
    old = snapshot_seed(
        acme, total="1000.00", metal="600.00", crypto="400.00", when=timezone.now() - timedelta(days=400)
    )
    now = snapshot_seed(acme, total="2500.50", metal="2000.25", crypto="500.25")
    figures = selectors.holdings_figures(selectors.Scope(period=_this_month(), company=acme))
    assert figures["empty"] is False
    assert [h["value"] for h in figures["headline"][:4]] == ["2500.50", "2000.25", "500.25", "2"]
    assert figures["charts"][1]["bars"] == [[f"{now.created_at:%m-%d %H:%M} #{now.pk}", "2500.50"]]
    first = old.created_at.date()
    before = selectors.holdings_figures(selectors.Scope(period=month_period(first.year, first.month), company=acme))
    assert before["headline"][0]["value"] == "1000.00"
    assert "simulated" in before["notes"][0]


def test_holdings_without_a_snapshot_are_an_honest_empty_report(acme):
    figures = selectors.holdings_figures(selectors.Scope(period=_this_month(), company=acme))
    assert figures["empty"] is True and figures["headline"][0]["value"] == "0.00"
    assert figures["notes"] == ["No finished treasury snapshot was taken before the period ended."]


def test_market_figures_follow_the_spot_ticks(spot):
    figures = selectors.market_figures(selectors.Scope(period=_this_month()))
    assert figures["empty"] is False
    assert int(figures["headline"][0]["value"]) == sum(row[6] for row in figures["tables"][0]["rows"]) >= 4


def test_operator_figures_count_missions_spend_jobs_and_events(db):
    period = _this_month()
    agent = Agent.objects.get(slug="reporter")
    for status, cost in (("succeeded", "0.5"), ("failed", "0.25"), ("succeeded", "0")):
        Mission.objects.create(kind="task", agent=agent, input={}, provider="offline", model="offline", status=status,
                               stop_reason="completed", cost_usd=Decimal(cost))  # fmt: skip
    missions = selectors.missions_figures(selectors.Scope(period=period))
    assert [h["value"] for h in missions["headline"]] == ["3", "2", "66.67", "0.7500"]
    assert missions["tables"][1]["rows"] == [["task", 3, "0.7500"]]

    budget = budget_for_month()
    BudgetEntry.objects.create(budget=budget, model="gpt-4.1-mini", status="settled", reserved_usd=Decimal("0.2"),
                               actual_usd=Decimal("0.1234"), settled_at=timezone.now())  # fmt: skip
    spend = selectors.llm_spend_figures(selectors.Scope(period=period))
    assert spend["headline"][1]["value"] == "0.1234"
    assert spend["headline"][2]["value"] == str(budget.cap_usd.quantize(Decimal("0.01")))
    assert spend["tables"][1]["rows"] == [["gpt-4.1-mini", 1, "0.1234"]]

    now = timezone.now()
    ComputeJob.objects.create(kind="tsp", params={}, status="succeeded", started_at=now - timedelta(seconds=4),
                              finished_at=now)  # fmt: skip
    ComputeJob.objects.create(kind="tsp", params={}, status="failed")
    jobs = selectors.compute_jobs_figures(selectors.Scope(period=period))
    assert [h["value"] for h in jobs["headline"]] == ["2", "1", "1"]
    assert jobs["tables"][0]["rows"] == [["tsp", 2, "4.00"]]

    publish("report.test", {"n": 1})
    publish("report.test", {"n": 2})
    mesh = selectors.mesh_figures(selectors.Scope(period=period))
    assert ["report.test", 2] in mesh["tables"][0]["rows"]


def test_an_empty_period_has_zero_operator_figures(db):
    period = period_parse("2025-01", today=date(2026, 1, 1))
    for figures in (selectors.missions_figures, selectors.compute_jobs_figures, selectors.llm_spend_figures):
        result = figures(selectors.Scope(period=period))
        assert result["empty"] is True and result["headline"][0]["value"] == "0"


def test_schedules_request_each_period_once(acme):
    ReportSchedule.objects.create(company=acme, type="orders", cadence="monthly")
    ReportSchedule.objects.create(company=acme, type="market", cadence="weekly")
    made = schedules_run(today=date(2026, 12, 1))
    assert sorted((r.type, r.period, r.email_approvers) for r in made) == [
        ("market", "2026-W48", True),
        ("orders", "2026-11", True),
    ]
    assert schedules_run(today=date(2026, 12, 2)) == []
    assert Report.objects.count() == 2
    assert [r.period for r in schedules_run(today=date(2026, 12, 7))] == ["2026-W49"]
