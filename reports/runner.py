"""The ``report`` mission: figures from the selectors, a narrative (language model, or the offline template),
HTML and PDF stored as artifacts with a signed receipt naming the figures' digest, then the e-mail.

Steps (each stored once, so a resumed run skips what is done): 1 figures, 2 narrative (LLM call seq 1 when a
model is configured), 3 render + receipt, 4 e-mail (scheduled reports and those asked to be e-mailed).
"""

from __future__ import annotations

from smtplib import SMTPException
from typing import Any

from django.utils import timezone

from agents.errors import AgentsError, BudgetRefused, UnpricedModel
from agents.kinds import Forecast, Outcome, call_worst_usd, forecast_of
from agents.llm import LlmError

OFFLINE_MODEL = "offline"


def clean(data: dict[str, Any]) -> dict[str, Any]:
    from reports.models import Report

    try:
        report = Report.objects.select_related("company").get(pk=int(data.get("report")))
    except (TypeError, ValueError, Report.DoesNotExist):
        raise AgentsError(
            "A report mission names its report (create it with POST /api/reports).", code="unknown_report"
        ) from None
    return {
        "report": report.pk,
        "type": report.type,
        "period": report.period,
        "company": report.company.slug if report.company_id else None,
    }


def forecast(*, agent, data: dict[str, Any], model: str) -> Forecast:
    if model == OFFLINE_MODEL:  # the template narrative calls no model
        return forecast_of(model=model, calls=[])
    from reports.narrative import prompt_bound_chars

    bound = 4 * prompt_bound_chars(agent.system_prompt)  # at most four UTF-8 bytes a character
    return forecast_of(
        model=model, calls=[call_worst_usd(model=model, prompt_tokens=bound, max_tokens=agent.max_tokens)]
    )


def _done(mission, number: int) -> bool:
    return mission.steps.filter(number=number).exists()


def run(*, mission, provider) -> Outcome:
    from agents.models import Mission
    from agents.services import mission_cancel_requested, mission_step_add
    from reports import services
    from reports.models import Report

    report = Report.objects.select_related("company").get(pk=mission.input["report"])
    if not _done(mission, 1):
        started = timezone.now()
        report = services.report_figures_store(report=report)
        mission_step_add(
            mission=mission, number=1, started=started, progress=30,
            summary=f"figures computed{' (no data in the period)' if report.figures['empty'] else ''}; "
            f"digest {report.data_blake3[:12]}…",
            output={"data_blake3": report.data_blake3, "empty": report.figures["empty"]},
        )  # fmt: skip
    if mission_cancel_requested(mission=mission):
        return Outcome(Mission.Status.CANCELLED, Mission.StopReason.CANCELLED, "Cancelled by an operator.")
    if not _done(mission, 2):
        started = timezone.now()
        seq = None
        note = ""
        if mission.provider == OFFLINE_MODEL or mission.model == OFFLINE_MODEL:
            report = services.report_narrative_template(report=report)
        else:
            try:
                report = services.report_narrative_model(report=report, mission=mission, provider=provider)
                seq = 1
            except (LlmError, BudgetRefused, UnpricedModel) as exc:
                # The report still goes out, with the template's narrative, labelled as such.
                note = f"the model could not write it ({exc}); "
                report = services.report_narrative_template(report=report, note=f"The language model failed: {exc}")
        mission_step_add(
            mission=mission, number=2, started=started, progress=60, llm_call_seq=seq,
            summary=f"narrative: {note}{report.get_narrative_source_display()}"[:200],
            output={"narrative_source": report.narrative_source, "model": report.narrative_model},
        )  # fmt: skip
    if not _done(mission, 3):
        started = timezone.now()
        report = services.report_render(report=report)
        mission_step_add(
            mission=mission, number=3, started=started, progress=90,
            summary=f"rendered HTML and PDF ({report.pdf.size:,} bytes); receipt #{report.receipt.log_index}",
            output={"html_blake3": report.html.blake3, "pdf_blake3": report.pdf.blake3,
                    "receipt": report.receipt.log_index},
        )  # fmt: skip
    error = ""
    if report.email_approvers and not _done(mission, 4):
        started = timezone.now()
        try:
            sent = services.report_email(report=report)
        except (OSError, SMTPException) as exc:  # the report stands; the e-mail is what failed
            sent, error = [], f"The report is ready but the e-mail to the approvers failed: {exc}"
        summary = f"e-mailed to {len(sent)} approver(s)" if sent else "no approver with an e-mail address"
        mission_step_add(
            mission=mission, number=4, started=started, progress=99, summary=error or summary,
            output={"to": sent, "error": error},
        )  # fmt: skip
    report.refresh_from_db()
    data = {
        "report": report.pk,
        "data_blake3": report.data_blake3,
        "html_blake3": report.html.blake3,
        "pdf_blake3": report.pdf.blake3,
        "report_receipt": report.receipt.log_index,
        "narrative_source": report.narrative_source,
    }
    return Outcome(Mission.Status.SUCCEEDED, Mission.StopReason.COMPLETED, error, report.narrative, data)
