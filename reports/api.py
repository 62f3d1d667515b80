"""/api/reports: report types, requesting a report, its status, and its PDF and HTML (scope ``reports``).

A key linked to a company (``apikey create --scopes reports --company SLUG``) asks for that company's reports; a
key not linked to a company is an operator's and may ask for any report. Without a key, a signed-in member's or
operator's session (writes need the CSRF token).
"""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from dreamnet.ninja import AUTH_ERRORS, ApiError, ErrorOut, key_or_session
from reports import selectors, services
from reports.models import Report
from reports.render import file_response
from reports.types import TYPES

router = Router(tags=["reports"], auth=key_or_session("reports"))
ERRORS = {**AUTH_ERRORS, 404: ErrorOut}


class ReportTypeOut(Schema):
    slug: str
    name: str
    audience: str
    description: str


class ReportIn(Schema):
    type: str
    period: str | None = None
    company: str | None = None
    email: bool = False


class ReportOut(Schema):
    id: int
    type: str
    period: str
    first: date
    last: date
    company: str | None
    status: str
    progress: int
    mission: int | None
    error: str
    empty: bool | None
    data_blake3: str | None
    narrative_source: str | None
    pdf_blake3: str | None
    html_blake3: str | None
    receipt_index: int | None
    emailed_to: list[str]
    created_at: datetime


@router.get("/types", response={200: list[ReportTypeOut], **AUTH_ERRORS}, summary="Report types")
def report_types(request: HttpRequest):
    """Every report type: `audience` is `company` (one company's report) or `operator` (the node's)."""
    return [
        {"slug": t.slug, "name": t.name, "audience": t.audience, "description": t.description} for t in TYPES.values()
    ]


@router.post("", response={202: ReportOut, **ERRORS, 409: ErrorOut, 422: ErrorOut}, summary="Request a report")
def report_new(request: HttpRequest, body: ReportIn):
    """Request a report; it is made by a mission: follow it with GET /api/reports/{id}.

    `period`: `2026-11` (a month), `2026-W48` (an ISO week) or `2026-11-01..2026-11-15`; default: this month to
    date. `company`: a company's slug (company reports; a company-linked key's own company by default). `email`:
    also send the PDF to the company's approvers. 404 `unknown_report_type`, `unknown_company`; 403
    `operators_only`, `company_not_linked`, `no_company`; 422 `bad_period`, `company_required`,
    `company_not_allowed`; 409 `over_budget`.
    """
    actor = selectors.actor_for_request(request)
    kind = services.report_type_get(body.type)
    company = services.company_get(body.company) if body.company else None
    company = services.report_access_check(
        kind=kind, company=company, own_company=actor.company, operator=actor.operator
    )
    key = getattr(request, "api_key", None)
    report = services.report_request(
        kind=kind, period=body.period, company=company, by=actor.user, email=body.email,
        via=f"api:{key.name}" if key is not None else "api",
    )  # fmt: skip
    return Status(202, services.report_json(report))


def _report(request: HttpRequest, report_id: int) -> Report:
    actor = selectors.actor_for_request(request)
    report = Report.objects.select_related("mission", "company", "pdf", "html", "receipt").filter(pk=report_id).first()
    if report is None or not selectors.report_visible(report, actor):
        raise ApiError(404, "report_not_found", f"You have no report {report_id}.")
    return report


@router.get("/{report_id}", response={200: ReportOut, **ERRORS}, summary="A report and its status")
def report_get(request: HttpRequest, report_id: int):
    """The report's status is its mission's (`queued`, `running`, `succeeded`, `failed`...)."""
    return services.report_json(_report(request, report_id))


def _file(report: Report, which: str) -> HttpResponse:
    artifact = report.pdf if which == "pdf" else report.html
    if artifact is None:
        raise ApiError(
            409,
            "report_not_ready",
            f"Report {report.pk} is {report.status}; its {which.upper()} comes when it succeeds.",
        )
    return file_response(report, which)


@router.get("/{report_id}/pdf", response={200: bytes, **ERRORS, 409: ErrorOut}, summary="The report's PDF")
def report_pdf(request: HttpRequest, report_id: int):
    return _file(_report(request, report_id), "pdf")


@router.get("/{report_id}/html", response={200: bytes, **ERRORS, 409: ErrorOut}, summary="The report's HTML")
def report_html(request: HttpRequest, report_id: int):
    return _file(_report(request, report_id), "html")
