"""Report writes: request a report (a ``report`` mission), store its figures and narrative, render and sign it,
e-mail it, and run the per-company schedules.

Who may ask for what (``report_access_check``): company reports cover one company, and a company member or a
company-linked API key may ask only for its own company; operator reports (and company reports for any company)
are for operators: staff sessions and API keys not linked to a company.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from agents.llm import LlmError, canonical
from agents.services import mission_create, mission_llm_call
from commerce.models import Company
from mesh.entries import blake3_hex
from mesh.services import artifact_read, artifact_store, receipt_issue
from reports import selectors
from reports.errors import ReportsError
from reports.models import Report, ReportSchedule
from reports.narrative import narrative_request, narrative_template
from reports.periods import Period, PeriodError, period_default, period_parse, period_previous
from reports.render import html_render, pdf_render
from reports.types import COMPANY, OPERATOR, TYPES, ReportType

logger = logging.getLogger(__name__)
REPORT_AGENT = "reporter"


def report_type_get(slug: str) -> ReportType:
    """Return the report type ``slug``; ReportsError 404 ``unknown_report_type`` naming the types there are."""
    kind = TYPES.get(str(slug or "").strip())
    if kind is None:
        raise ReportsError(
            f"There is no report type {str(slug)[:40]!r}; use one of: {', '.join(TYPES)} (GET /api/reports/types).",
            code="unknown_report_type",
            status=404,
        )
    return kind


def company_get(slug: str) -> Company:
    company = Company.objects.filter(slug=str(slug).strip()).first()
    if company is None:
        raise ReportsError(f"There is no company {str(slug)[:60]!r}.", code="unknown_company", status=404)
    return company


def report_access_check(
    *, kind: ReportType, company: Company | None, own_company: Company | None, operator: bool
) -> Company | None:
    """Return the company a report of ``kind`` covers, or refuse (ReportsError).

    ``company`` is the one asked for (None: not named), ``own_company`` the caller's (its membership or the
    company its key is linked to), ``operator`` whether the caller is an operator.
    """
    if kind.audience == OPERATOR:
        if not operator:
            raise ReportsError(
                f"The {kind.name} report is for operators; company members and company keys ask for company "
                "reports (orders, holdings, market).",
                code="operators_only",
                status=403,
            )
        if company is not None:
            raise ReportsError(
                f"The {kind.name} report covers the whole node; leave out the company.", code="company_not_allowed"
            )
        return None
    company = company or own_company
    if company is None:
        raise ReportsError(f"The {kind.name} report covers one company; name it (company: its slug).",
                           code="company_required")  # fmt: skip
    if not operator and (own_company is None or company.pk != own_company.pk):
        raise ReportsError(
            f"You may report only on your own company, not on {company.slug!r}.", code="company_not_linked", status=403
        )
    return company


def report_request(
    *,
    kind: ReportType,
    period: str | None,
    company: Company | None,
    by=None,
    via: str = "",
    email: bool = False,
    schedule: ReportSchedule | None = None,
    today: date | None = None,
) -> Report:
    """Create a report and the ``report`` mission that makes it (queued after commit); return the report.

    ``company`` must already have passed :func:`report_access_check`. Refuses a bad period (``bad_period``) and
    whatever the mission layer refuses (over budget, the reporter agent retired).
    """
    today = today or timezone.now().date()
    try:
        parsed = period_parse(period, today=today) if period else period_default(today=today)
    except PeriodError as exc:
        raise ReportsError(str(exc), code="bad_period") from None
    if kind.audience == COMPANY and company is None:
        raise ReportsError(f"The {kind.name} report covers one company.", code="company_required")
    with transaction.atomic():
        report = Report.objects.create(
            type=kind.slug,
            company=company if kind.audience == COMPANY else None,
            period=parsed.label,
            period_start=parsed.first,
            period_end=parsed.last,
            schedule=schedule,
            email_approvers=email and kind.audience == COMPANY,
            created_by=by if getattr(by, "is_authenticated", False) else None,
            created_via=via[:120],
        )
        mission = mission_create(kind="report", agent_slug=REPORT_AGENT, data={"report": report.pk}, by=by, via=via)
        report.mission = mission
        report.save(update_fields=["mission"])
    return report


def report_figures_store(*, report: Report) -> Report:
    """Compute the report's figures with its type's selector and store them with their BLAKE3 digest."""
    kind = report_type_get(report.type)
    parsed = Period(report.period, report.period_start, report.period_end)
    figures = kind.figures(selectors.Scope(period=parsed, company=report.company))
    figures = {
        "type": kind.slug,
        "name": kind.name,
        "audience": kind.audience,
        "period": parsed.label,
        "first": parsed.first.isoformat(),
        "last": parsed.last.isoformat(),
        "company": report.company.slug if report.company_id else None,
    } | figures
    report.figures = figures
    report.data_blake3 = blake3_hex(canonical(figures).encode())
    report.save(update_fields=["figures", "data_blake3"])
    return report


def _subject(report: Report) -> str:
    return report.company.name if report.company_id else "DreamNet operations"


def report_narrative_template(*, report: Report, note: str = "") -> Report:
    """Write the narrative from the offline template (labelled as such)."""
    text = narrative_template(
        name=report_type_get(report.type).name, period=report.period, subject=_subject(report), figures=report.figures
    )
    report.narrative = text + (f"\n{note}" if note else "")
    report.narrative_source = Report.NarrativeSource.TEMPLATE
    report.narrative_model = ""
    report.save(update_fields=["narrative", "narrative_source", "narrative_model"])
    return report


def report_narrative_model(*, report: Report, mission, provider) -> Report:
    """Write the narrative with the mission's model (LLM call seq 1, budgeted; taken from the cassette when it was
    made before a crash). Raises LlmError/BudgetRefused/UnpricedModel for the runner to fall back on."""
    agent = mission.agent
    kind = report_type_get(report.type)

    def build(model: str):
        return narrative_request(
            model=model, system=agent.system_prompt, name=kind.name, period=report.period, subject=_subject(report),
            figures=report.figures, max_tokens=agent.max_tokens,
            temperature=float(agent.temperature) if agent.temperature is not None else None,
        )  # fmt: skip

    response = mission_llm_call(mission=mission, provider=provider, seq=1, build=build)
    text = response.content.strip()
    if not text:
        raise LlmError(f"the model {response.model} returned no text")
    report.narrative = text
    report.narrative_source = Report.NarrativeSource.MODEL
    report.narrative_model = f"{response.model} ({response.provider})"
    report.save(update_fields=["narrative", "narrative_source", "narrative_model"])
    return report


def report_render(*, report: Report) -> Report:
    """Render the HTML and PDF, store both as artifacts, and issue the signed receipt whose inputs name the
    figures' digest (sealed into the log inside this transaction)."""
    started = timezone.now()
    html = html_render(report)
    pdf = pdf_render(html)
    name = f"report-{report.pk}-{report.type}-{report.period}"
    html_artifact = artifact_store(content=html.encode(), name=f"{name}.html", media_type="text/html")
    pdf_artifact = artifact_store(content=pdf, name=f"{name}.pdf", media_type="application/pdf")
    with transaction.atomic():
        report = Report.objects.select_for_update(of=("self",)).select_related("company", "mission").get(pk=report.pk)
        if report.receipt_id is None:
            report.receipt = receipt_issue(
                operation="report.render",
                subject=f"report:{report.pk}",
                inputs={
                    "report": report.pk,
                    "type": report.type,
                    "period": report.period,
                    "company": report.company.slug if report.company_id else None,
                    "data_blake3": report.data_blake3,
                    "narrative_source": report.narrative_source,
                },
                outputs={"html_blake3": html_artifact.blake3, "pdf_blake3": pdf_artifact.blake3},
                started=started,
                finished=timezone.now(),
                status="succeeded",
                cost=report.mission.cost_usd if report.mission_id else 0,
            )
        report.html = html_artifact
        report.pdf = pdf_artifact
        report.save(update_fields=["html", "pdf", "receipt"])
    return report


def report_email(*, report: Report) -> list[str]:
    """E-mail the PDF to the company's approvers (Django's e-mail backend); return the addresses. Records them
    on the report; a report already e-mailed is not sent again."""
    if report.emailed_at is not None or report.company_id is None or report.pdf_id is None:
        return list(report.emailed_to)
    to = selectors.approvers_of(report.company)
    if not to:
        return []
    kind = report_type_get(report.type)
    context = {"report": report, "type_name": kind.name, "figures": report.figures or {},
               "site_url": settings.SITE_URL}  # fmt: skip
    message = EmailMessage(
        subject=f"{kind.name} · {report.company.name} · {report.period}",
        body=render_to_string("reports/email.txt", context),
        to=to,
    )
    message.attach(
        f"report-{report.pk}-{report.type}-{report.period}.pdf", artifact_read(report.pdf), "application/pdf"
    )
    message.send()
    report.emailed_to = to
    report.emailed_at = timezone.now()
    report.save(update_fields=["emailed_to", "emailed_at"])
    return to


def schedules_run(*, today: date | None = None) -> list[Report]:
    """Request the report of every active schedule whose last complete period has none yet (each once)."""
    today = today or timezone.now().date()
    made = []
    for schedule in ReportSchedule.objects.filter(active=True).select_related("company"):
        period = period_previous(schedule.cadence, today=today)
        if schedule.last_period == period.label:
            continue
        try:
            report = report_request(
                kind=report_type_get(schedule.type), period=period.label, company=schedule.company,
                via="schedule", email=True, schedule=schedule, today=today,
            )  # fmt: skip
        except IntegrityError:  # another worker requested it first
            continue
        except Exception:
            logger.exception("Scheduled report %s for %s could not be requested", schedule.pk, period.label)
            continue
        ReportSchedule.objects.filter(pk=schedule.pk).update(last_period=period.label)
        made.append(report)
    return made


def report_json(report: Report) -> dict[str, Any]:
    """The API's view of a report (status and progress as its mission reports them)."""
    mission = report.mission
    return {
        "id": report.pk,
        "type": report.type,
        "period": report.period,
        "first": report.period_start,
        "last": report.period_end,
        "company": report.company.slug if report.company_id else None,
        "status": report.status,
        "progress": report.progress,
        "mission": report.mission_id,
        "error": mission.error if mission else "",
        "empty": bool((report.figures or {}).get("empty")) if report.figures else None,
        "data_blake3": report.data_blake3 or None,
        "narrative_source": report.narrative_source or None,
        "pdf_blake3": report.pdf.blake3 if report.pdf_id else None,
        "html_blake3": report.html.blake3 if report.html_id else None,
        "receipt_index": report.receipt.log_index if report.receipt_id else None,
        "emailed_to": report.emailed_to,
        "created_at": report.created_at,
    }
