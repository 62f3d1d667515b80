"""Report pages: a member's /reports/ (its company's reports), one report with live progress and its document,
its PDF and HTML, and the operators' console (/console/reports/)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from commerce.models import Membership
from commerce.views import member_required
from dreamnet.errors import DomainError
from dreamnet.http import AuthenticatedHtmxRequest, operator_required
from reports import selectors, services
from reports.forms import ReportForm
from reports.models import Report, ReportSchedule
from reports.render import file_response, report_context

PAGE_SIZE = 50


def _request_from_form(request, form: ReportForm, *, actor: selectors.Actor, via: str) -> Report | None:
    """Request the report the form asks for; a refusal becomes the form's error (None)."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        kind = services.report_type_get(data["type"])
        company = services.report_access_check(
            kind=kind, company=data.get("company"), own_company=actor.company, operator=actor.operator
        )
        return services.report_request(
            kind=kind, period=data["period"] or None, company=company, by=request.user, via=via, email=data["email"]
        )
    except DomainError as exc:
        form.add_error("period" if exc.code == "bad_period" else None, exc.detail)
        return None


@member_required
def reports_page(request: AuthenticatedHtmxRequest, membership: Membership) -> HttpResponse:
    """The company's reports, newest first, and the form to ask for one."""
    actor = selectors.Actor(request.user, membership.company, False)
    form = ReportForm(request.POST or None)
    if request.method == "POST":
        report = _request_from_form(request, form, actor=actor, via="page")
        if report is not None:
            return redirect(report)
    reports = selectors.reports_for_company(membership.company)[:PAGE_SIZE]
    context = {"company": membership.company, "reports": reports, "form": form, "console": False}
    return render(request, "reports/reports.html", context, status=422 if form.errors else 200)


@operator_required
def console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """Every report with its progress (refreshed while any runs), the form for any report, the schedules."""
    form = ReportForm(request.POST or None, operator=True)
    if request.method == "POST":
        actor = selectors.Actor(request.user, None, True)
        report = _request_from_form(request, form, actor=actor, via="console")
        if report is not None:
            return redirect(report)
    reports = list(selectors.reports_all()[:PAGE_SIZE])
    context = {
        "reports": reports,
        "form": form,
        "console": True,
        "running": any(selectors.report_is_running(r) for r in reports),
        "schedules": ReportSchedule.objects.select_related("company"),
    }
    if request.htmx:
        return render(request, "reports/console.html#report-list", context)
    return render(request, "reports/console.html", context, status=422 if form.errors else 200)


def _visible_report(request, pk: int) -> Report:
    try:
        actor = selectors.actor_for_request(request)
    except DomainError:
        raise Http404("No such report.") from None
    report = Report.objects.select_related("mission", "company", "pdf", "html", "receipt").filter(pk=pk).first()
    if report is None or not selectors.report_visible(report, actor):
        raise Http404("No such report.")
    return report


@login_required
def report_page(request: AuthenticatedHtmxRequest, pk: int) -> HttpResponse:
    """One report: its status and progress as its mission reports them (refreshed while it runs), then the
    document itself with links to the PDF and the HTML."""
    report = _visible_report(request, pk)
    context = report_context(report) | {
        "steps": report.mission.steps.order_by("number") if report.mission_id else [],
        "running": selectors.report_is_running(report),
        "console": request.user.is_staff,
    }
    if request.htmx:
        return render(request, "reports/report.html#report-panel", context)
    return render(request, "reports/report.html", context)


@login_required
def report_file(request: AuthenticatedHtmxRequest, pk: int, which: str) -> HttpResponse:
    report = _visible_report(request, pk)
    artifact = report.pdf if which == "pdf" else report.html
    if artifact is None:
        raise Http404(f"Report {report.pk} is {report.status}; its {which.upper()} comes when it succeeds.")
    return file_response(report, which)
