"""Site pages: landing, live status, the operator console shell, error pages."""

from __future__ import annotations

from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views import defaults

from dreamnet.apikeys import SCOPES
from dreamnet.coherence import heatmap_svg
from dreamnet.health import coherence_view, health_current
from dreamnet.http import AuthenticatedHtmxRequest, HtmxHttpRequest, operator_required
from dreamnet.models import ApiKey
from dreamnet.selectors import queue_stats
from dreamnet.stats import stats_snapshot


def home(request: HtmxHttpRequest) -> HttpResponse:
    from computejobs.showcase import showcase_latest

    return render(request, "dreamnet/home.html", {"stats": stats_snapshot(), "showcase": showcase_latest()})


def status_page(request: HtmxHttpRequest) -> HttpResponse:
    """Render the health snapshot and the coherence view; the page then follows /ws/status/ for live updates."""
    snapshot = health_current()
    template = "dreamnet/status.html#health" if request.htmx else "dreamnet/status.html"
    context = {"health": snapshot, **_coherence_context(snapshot)}
    return render(request, template, context, status=503 if snapshot["status"] == "down" else 200)


def status_coherence(request: HtmxHttpRequest) -> HttpResponse:
    """The coherence heatmap alone (the status page polls it): the density matrix of the stored probe rounds."""
    return render(request, "dreamnet/status.html#coherence", _coherence_context(None))


def _coherence_context(snapshot: dict | None) -> dict:
    if snapshot is not None and not any(p["name"] == "database" and p["ok"] for p in snapshot["probes"]):
        return {"coherence": None, "coherence_svg": ""}  # the history lives in the database
    try:
        coherence = coherence_view()
    except DatabaseError:
        return {"coherence": None, "coherence_svg": ""}
    svg = heatmap_svg(coherence["services"], coherence["matrix"]) if coherence["matrix"] else ""
    # heatmap_svg escapes every label and formats every number itself.
    return {"coherence": coherence, "coherence_svg": mark_safe(svg)}  # noqa: S308


@operator_required
def console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """The operator overview: what needs attention across commerce, missions, the mesh and the platform."""
    from agents.models import Mission
    from agents.selectors import budget_summary
    from commerce.models import ComplianceFlag, Order, ProviderEvent
    from mesh.log import latest_checkpoint
    from mesh.models import Event

    budget = budget_summary()
    cap = budget["cap_usd"] or 1
    context = {
        "health": health_current(),
        "stats": stats_snapshot(),
        "queue": queue_stats(),
        "keys_active": ApiKey.objects.filter(revoked_at__isnull=True).count(),
        "keys_revoked": ApiKey.objects.filter(revoked_at__isnull=False).count(),
        "scopes": SCOPES,
        "orders_awaiting_payment": Order.objects.filter(status=Order.Status.PENDING_PAYMENT).order_by(
            "payment_deadline"
        )[:10],
        "orders_to_allocate": Order.objects.filter(status=Order.Status.PAID).order_by("paid_at")[:10],
        "orders_to_ship": Order.objects.filter(status=Order.Status.ALLOCATED).order_by("created_at")[:10],
        "flags_open": ComplianceFlag.objects.filter(cleared_at__isnull=True).select_related("company")[:10],
        "stripe_review": ProviderEvent.objects.filter(needs_review=True).count(),
        "missions_running": Mission.objects.filter(status=Mission.Status.RUNNING).select_related("agent")[:10],
        "missions_awaiting": Mission.objects.filter(status=Mission.Status.AWAITING_APPROVAL).select_related("agent")[
            :10
        ],
        "budget": budget,
        "budget_pct": min(100, round(float((budget["spent_usd"] + budget["reserved_usd"]) / cap * 100), 1)),
        "checkpoint": latest_checkpoint(),
        "events": Event.objects.order_by("-log_index")[:10],
    }
    return render(request, "dreamnet/console.html", context)


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def page_not_found(request, exception=None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": f"No route matches {request.path}.", "code": "not_found"}, status=404)
    return render(request, "404.html", {"path": request.path}, status=404)


def bad_request(request, exception=None) -> HttpResponse:
    """Answer a request Django refused (a body it cannot parse, a bad Host) outside a view: JSON on the API."""
    if request.path.startswith("/api/"):
        from dreamnet.ninja import unparseable_body_error

        status, code, detail = unparseable_body_error(request, exception)
        return JsonResponse({"detail": detail, "code": code}, status=status)
    return defaults.bad_request(request, exception)


def server_error(request) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "The server failed; the error is logged.", "code": "server_error"}, status=500)
    return render(request, "500.html", status=500)
