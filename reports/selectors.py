"""Report reads: the figures of each report type for a period (and a company), and the reports people may see.

A figures dict is plain JSON (decimals as strings) so that its canonical form can be hashed: the report's
receipt names that digest. Every number a report shows comes from here; the HTML/PDF only formats it.

``headline`` items and table cells carry a ``unit`` (``usd``, ``usd4``, ``count``, ``qty``, ``oz``, ``pct``, ``s``,
``text``) that
the template formats with the ``numbers`` filters.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Max, Min, QuerySet, Sum

from commerce.models import Company, Membership, Metal, Order, OrderLine, SpotTick
from reports.models import Report
from reports.periods import Period

ZERO = Decimal(0)
CENT = Decimal("0.01")
OZ = Decimal("0.000001")
SPENT_STATUSES = (
    Order.Status.PAID,
    Order.Status.ALLOCATED,
    Order.Status.SHIPPED,
    Order.Status.VAULTED,
    Order.Status.DELIVERED,
)


def money(value: Decimal | None) -> str:
    return str((value or ZERO).quantize(CENT, rounding=ROUND_HALF_UP))


def _item(label: str, value: Any, unit: str) -> dict[str, Any]:
    return {"label": label, "value": str(value), "unit": unit}


@dataclass(frozen=True)
class Scope:
    """What a report covers: a period, and for company reports the company."""

    period: Period
    company: Company | None = None


def _base(scope: Scope) -> dict[str, Any]:
    return {"headline": [], "tables": [], "charts": [], "notes": [], "empty": True}


# Company reports ------------------------------------------------------------------------------------------------


def orders_figures(scope: Scope) -> dict[str, Any]:
    """Orders placed by the company in the period and what it spent (orders paid or further along)."""
    period, company = scope.period, scope.company
    orders = Order.objects.filter(company=company, created_at__gte=period.start, created_at__lt=period.end)
    out = _base(scope)
    by_status = list(orders.values("status").annotate(n=Count("id"), total=Sum("total")).order_by("status"))
    spent = orders.filter(status__in=SPENT_STATUSES)
    totals = spent.aggregate(n=Count("id"), total=Sum("total"))
    spend, paid_count = totals["total"] or ZERO, totals["n"]
    pending = orders.filter(status=Order.Status.PENDING_PAYMENT).aggregate(t=Sum("total"))["t"] or ZERO
    placed = sum(row["n"] for row in by_status)
    out["empty"] = placed == 0
    average = (spend / paid_count) if paid_count else ZERO
    statuses = dict(Order.Status.choices)
    out["headline"] = [
        _item("Orders placed", placed, "count"),
        _item("Spend (paid orders)", money(spend), "usd"),
        _item("Paid orders", paid_count, "count"),
        _item("Average paid order", money(average), "usd"),
        _item("Awaiting payment", money(pending), "usd"),
    ]
    out["tables"].append(
        {
            "title": "Orders by status",
            "columns": ["Status", "Orders", "Total"],
            "units": ["text", "count", "usd"],
            "rows": [[statuses.get(row["status"], row["status"]), row["n"], money(row["total"])] for row in by_status],
        }
    )
    metals: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    lines = OrderLine.objects.filter(order__in=spent).values_list(
        "product__metal", "quantity", "product__fine_oz", "line_total"
    )
    for metal, quantity, fine_oz, line_total in lines:
        metals[metal][0] += fine_oz * quantity
        metals[metal][1] += line_total
    labels = dict(Metal.choices)
    rows = [[labels.get(m, m), str(oz.quantize(OZ)), money(usd)] for m, (oz, usd) in sorted(metals.items())]
    out["tables"].append(
        {
            "title": "Spend by metal",
            "columns": ["Metal", "Fine oz", "Spend"],
            "units": ["text", "oz", "usd"],
            "rows": rows,
        }
    )
    out["charts"].append({"title": "Spend by metal", "unit": "usd", "bars": [[r[0], r[2]] for r in rows]})
    weekly: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for created_at, total in spent.values_list("created_at", "total"):
        year, week, _ = created_at.isocalendar()
        weekly[f"{year}-W{week:02d}"] += total
    out["charts"].append(
        {"title": "Spend by ISO week", "unit": "usd", "bars": [[w, money(t)] for w, t in sorted(weekly.items())]}
    )
    return out


def holdings_figures(scope: Scope) -> dict[str, Any]:
    """The company's holdings and their value: the last finished treasury snapshot taken before the period ended,
    and the value of every snapshot taken in the period."""
    from treasury.models import Snapshot

    period, company = scope.period, scope.company
    out = _base(scope)
    done = Snapshot.objects.filter(company=company, status=Snapshot.Status.DONE)
    snapshot = done.filter(created_at__lt=period.end).order_by("-created_at", "-pk").first()
    if snapshot is None:
        out["notes"].append("No finished treasury snapshot was taken before the period ended.")
        out["headline"] = [_item("Total value", money(ZERO), "usd"), _item("Holdings", 0, "count")]
        return out
    holdings = list(snapshot.holdings.order_by("-value_usd", "pk"))
    out["empty"] = False
    out["headline"] = [
        _item("Total value", money(snapshot.total_usd), "usd"),
        _item("Metal", money(snapshot.metal_usd), "usd"),
        _item("Crypto", money(snapshot.crypto_usd), "usd"),
        _item("Holdings", len(holdings), "count"),
        _item("Valued at", f"{snapshot.created_at:%Y-%m-%d %H:%M} UTC (snapshot #{snapshot.pk})", "text"),
    ]
    if "simulated" in (snapshot.sources or []):
        out["notes"].append("Some prices or balances of this snapshot are simulated (no live source configured).")
    if snapshot.stale_count or snapshot.unpriced_count:
        out["notes"].append(f"{snapshot.stale_count} stale and {snapshot.unpriced_count} unpriced holding(s).")
    out["tables"].append(
        {
            "title": "Holdings",
            "columns": ["Holding", "Asset", "Quantity", "Unit", "Value"],
            "units": ["text", "text", "qty", "text", "usd"],
            "rows": [[h.label, h.symbol or h.asset, h.quantity, h.unit, money(h.value_usd)] for h in holdings[:40]],
        }
    )
    out["charts"].append(
        {
            "title": "Composition",
            "unit": "usd",
            "bars": [["Metal", money(snapshot.metal_usd)], ["Crypto", money(snapshot.crypto_usd)]],
        }
    )
    history = done.filter(created_at__gte=period.start, created_at__lt=period.end).order_by("created_at", "pk")
    out["charts"].append(
        {
            "title": "Value of the snapshots taken in the period",
            "unit": "usd",
            "bars": [[f"{s.created_at:%m-%d %H:%M} #{s.pk}", money(s.total_usd)] for s in history[:24]],
        }
    )
    return out


def market_figures(scope: Scope) -> dict[str, Any]:
    """Spot prices over the period per metal: open, close, low and high of the mid price, and the change."""
    period = scope.period
    out = _base(scope)
    labels = dict(Metal.choices)
    rows, bars, ticks_total, sources = [], [], 0, set()
    for metal in Metal.values:
        ticks = SpotTick.objects.filter(metal=metal, fetched_at__gte=period.start, fetched_at__lt=period.end)
        stats = ticks.aggregate(n=Count("id"), low_bid=Min("bid"), high_ask=Max("ask"))
        if not stats["n"]:
            continue
        first = ticks.order_by("fetched_at", "pk").first()
        last = ticks.order_by("-fetched_at", "-pk").first()
        open_mid, close_mid = (first.bid + first.ask) / 2, (last.bid + last.ask) / 2
        change = ((close_mid - open_mid) / open_mid * 100).quantize(CENT, rounding=ROUND_HALF_UP) if open_mid else ZERO
        ticks_total += stats["n"]
        sources.update(ticks.values_list("source", flat=True).distinct())
        name = labels.get(metal, metal)
        rows.append(
            [
                name,
                money(open_mid),
                money(close_mid),
                str(change),
                money(stats["low_bid"]),
                money(stats["high_ask"]),
                stats["n"],
            ]
        )
        bars.append([name, str(change)])
    out["empty"] = ticks_total == 0
    out["headline"] = [_item("Spot ticks", ticks_total, "count"), _item("Metals quoted", len(rows), "count")]
    out["tables"].append(
        {
            "title": "Spot prices (USD per troy ounce)",
            "columns": ["Metal", "Open (mid)", "Close (mid)", "Change", "Low bid", "High ask", "Ticks"],
            "units": ["text", "usd", "usd", "pct", "usd", "usd", "count"],
            "rows": rows,
        }
    )
    out["charts"].append({"title": "Change over the period", "unit": "pct", "bars": bars})
    if "simulated" in sources:
        out["notes"].append("Spot prices come from the simulated feed (no live feed configured).")
    return out


# Operator reports -----------------------------------------------------------------------------------------------


def missions_figures(scope: Scope) -> dict[str, Any]:
    """Missions created in the period: how many, how they ended, what they cost."""
    from agents.models import Mission

    period = scope.period
    out = _base(scope)
    missions = Mission.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    totals = missions.aggregate(n=Count("id"), cost=Sum("cost_usd"))
    count = totals["n"]
    succeeded = missions.filter(status=Mission.Status.SUCCEEDED).count()
    out["empty"] = count == 0
    out["headline"] = [
        _item("Missions", count, "count"),
        _item("Succeeded", succeeded, "count"),
        _item("Success rate", money(Decimal(succeeded * 100) / count if count else ZERO), "pct"),
        _item("LLM cost", str((totals["cost"] or ZERO).quantize(Decimal("0.0001"))), "usd4"),
    ]
    by_status = list(missions.values("status").annotate(n=Count("id")).order_by("status"))
    out["tables"].append(
        {
            "title": "Missions by status",
            "columns": ["Status", "Missions"],
            "units": ["text", "count"],
            "rows": [[r["status"], r["n"]] for r in by_status],
        }
    )
    by_kind = list(missions.values("kind").annotate(n=Count("id"), cost=Sum("cost_usd")).order_by("kind"))
    rows = [[r["kind"], r["n"], str((r["cost"] or ZERO).quantize(Decimal("0.0001")))] for r in by_kind]
    out["tables"].append(
        {
            "title": "Missions by kind",
            "columns": ["Kind", "Missions", "LLM cost"],
            "units": ["text", "count", "usd4"],
            "rows": rows,
        }
    )
    out["charts"].append({"title": "Missions by kind", "unit": "count", "bars": [[r[0], r[1]] for r in rows]})
    return out


def llm_spend_figures(scope: Scope) -> dict[str, Any]:
    """LLM calls settled in the period against the monthly budgets the period touches."""
    from agents.models import Budget, BudgetEntry

    period = scope.period
    out = _base(scope)
    settled = BudgetEntry.objects.filter(
        status=BudgetEntry.Status.SETTLED, settled_at__gte=period.start, settled_at__lt=period.end
    )
    totals = settled.aggregate(n=Count("id"), spent=Sum("actual_usd"))
    spent = totals["spent"] or ZERO
    budgets = list(
        Budget.objects.filter(month__gte=period.first.replace(day=1), month__lte=period.last).order_by("month")
    )
    cap = sum((b.cap_usd for b in budgets), ZERO)
    out["empty"] = totals["n"] == 0
    four = Decimal("0.0001")
    out["headline"] = [
        _item("LLM calls settled", totals["n"], "count"),
        _item("Spent in the period", str(spent.quantize(four)), "usd4"),
        _item("Budget cap of the months", money(cap), "usd"),
        _item("Share of the cap", money(spent * 100 / cap if cap else ZERO), "pct"),
    ]
    out["tables"].append(
        {
            "title": "Monthly budgets",
            "columns": ["Month", "Cap", "Spent (whole month)", "Reserved now"],
            "units": ["text", "usd", "usd4", "usd4"],
            "rows": [
                [
                    f"{b.month:%Y-%m}",
                    money(b.cap_usd),
                    str(b.spent_usd.quantize(four)),
                    str(b.reserved_usd.quantize(four)),
                ]
                for b in budgets
            ],
        }
    )
    by_model = list(settled.values("model").annotate(n=Count("id"), usd=Sum("actual_usd")).order_by("-usd", "model"))
    rows = [[r["model"], r["n"], str((r["usd"] or ZERO).quantize(four))] for r in by_model]
    out["tables"].append(
        {
            "title": "Spend by model",
            "columns": ["Model", "Calls", "Spent"],
            "units": ["text", "count", "usd4"],
            "rows": rows,
        }
    )
    out["charts"].append({"title": "Spend by model", "unit": "usd4", "bars": [[r[0], r[2]] for r in rows]})
    return out


def compute_jobs_figures(scope: Scope) -> dict[str, Any]:
    """Compute jobs created in the period by kind and outcome, with their mean run time."""
    from computejobs.models import ComputeJob

    period = scope.period
    out = _base(scope)
    jobs = ComputeJob.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    count = jobs.count()
    out["empty"] = count == 0
    durations: dict[str, list[float]] = defaultdict(list)
    for kind, started, finished in jobs.filter(started_at__isnull=False, finished_at__isnull=False).values_list(
        "kind", "started_at", "finished_at"
    ):
        durations[kind].append((finished - started).total_seconds())
    failed = jobs.filter(status=ComputeJob.Status.FAILED).count()
    out["headline"] = [
        _item("Compute jobs", count, "count"),
        _item("Succeeded", jobs.filter(status=ComputeJob.Status.SUCCEEDED).count(), "count"),
        _item("Failed", failed, "count"),
    ]
    rows = []
    for row in jobs.values("kind").annotate(n=Count("id")).order_by("kind"):
        times = durations.get(row["kind"], [])
        mean = Decimal(str(sum(times) / len(times))).quantize(CENT) if times else ZERO
        rows.append([row["kind"], row["n"], str(mean)])
    out["tables"].append(
        {
            "title": "Jobs by kind",
            "columns": ["Kind", "Jobs", "Mean run time"],
            "units": ["text", "count", "s"],
            "rows": rows,
        }
    )
    out["charts"].append({"title": "Jobs by kind", "unit": "count", "bars": [[r[0], r[1]] for r in rows]})
    return out


def mesh_figures(scope: Scope) -> dict[str, Any]:
    """Mesh activity in the period: events by topic, receipts issued, checkpoints signed; peers as they stand."""
    from mesh.models import Checkpoint, Event, Peer, Receipt

    period = scope.period
    out = _base(scope)
    window = {"created_at__gte": period.start, "created_at__lt": period.end}
    events = Event.objects.filter(**window)
    count = events.count()
    receipts = Receipt.objects.filter(**window)
    checkpoints = Checkpoint.objects.filter(**window).count()
    out["empty"] = count == 0 and checkpoints == 0
    out["headline"] = [
        _item("Events", count, "count"),
        _item("Receipts issued", receipts.count(), "count"),
        _item("Checkpoints signed", checkpoints, "count"),
        _item("Peers (now)", Peer.objects.count(), "count"),
    ]
    topics = list(events.values("topic").annotate(n=Count("id")).order_by("-n", "topic")[:15])
    out["tables"].append(
        {
            "title": "Events by topic (top 15)",
            "columns": ["Topic", "Events"],
            "units": ["text", "count"],
            "rows": [[t["topic"], t["n"]] for t in topics],
        }
    )
    by_status = list(receipts.values("status").annotate(n=Count("id")).order_by("status"))
    out["tables"].append(
        {
            "title": "Receipts by status",
            "columns": ["Status", "Receipts"],
            "units": ["text", "count"],
            "rows": [[r["status"], r["n"]] for r in by_status],
        }
    )
    out["charts"].append({"title": "Events by topic", "unit": "count", "bars": [[t["topic"], t["n"]] for t in topics]})
    return out


# Who sees which reports ------------------------------------------------------------------------------------------


def reports_for_company(company: Company) -> QuerySet[Report]:
    return Report.objects.filter(company=company).select_related("mission", "company").order_by("-created_at", "-pk")


def reports_all() -> QuerySet[Report]:
    return Report.objects.select_related("mission", "company").order_by("-created_at", "-pk")


def approvers_of(company: Company) -> list[str]:
    """Return the e-mail addresses of the company's approvers and admins (who receive its reports)."""
    roles = (Membership.Role.APPROVER, Membership.Role.ADMIN)
    emails = (
        Membership.objects.filter(company=company, role__in=roles, user__is_active=True)
        .exclude(user__email="")
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )
    return list(dict.fromkeys(emails))


def report_is_running(report: Report) -> bool:
    return report.mission is not None and not report.mission.is_terminal


@dataclass(frozen=True)
class Actor:
    """Who asks: the user it acts as, its company (membership or linked key), and whether it is an operator."""

    user: Any
    company: Company | None
    operator: bool


def actor_for_request(request) -> Actor:
    """Return who an API request or page acts for: an API key linked to a company acts for that company (as its
    ``acts_as`` user); a key not linked to a company is an operator's; a session is its user's (operators are
    staff). ReportsError 403 ``no_company`` for a signed-in user who is neither."""
    from commerce.models import CompanyKey
    from commerce.selectors import membership_for
    from reports.errors import ReportsError

    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        link = CompanyKey.objects.select_related("company", "acts_as").filter(api_key=api_key).first()
        if link is None:
            return Actor(None, None, True)
        return Actor(link.acts_as, link.company, False)
    user = request.user
    membership = membership_for(user)
    company = membership.company if membership else None
    if not user.is_staff and company is None:
        raise ReportsError(
            "Your account is not a member of a company yet; ask your company admin.", code="no_company", status=403
        )
    return Actor(user, company, bool(user.is_staff))


def report_visible(report: Report, actor: Actor) -> bool:
    return actor.operator or (actor.company is not None and report.company_id == actor.company.pk)
