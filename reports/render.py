"""Render a report: its figures and narrative through ``templates/reports/document.html`` to HTML, and that HTML
to PDF with WeasyPrint (Pango from Debian; the Makefile's install step installs it when missing).

The document is self-contained (inline CSS, inline SVG charts): the same HTML is served at ``/html`` and printed.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe

from reports.charts import bar_chart_svg
from reports.models import Report
from reports.narrative import value_text
from reports.types import TYPES

# The document is served alone (never inside a site page) under this policy: its own inline <style> and data:
# images, nothing fetched, nothing run, and a sandbox that gives it an origin of its own.
DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def report_context(report: Report) -> dict[str, Any]:
    figures = report.figures or {}
    kind = TYPES.get(report.type)
    tables = [
        {
            "title": t["title"],
            "columns": t["columns"],
            "rows": [
                [value_text(cell, unit) for cell, unit in zip(row, t["units"], strict=False)] for row in t["rows"]
            ],
        }
        for t in figures.get("tables", [])
    ]
    charts = [
        {
            "title": c["title"],
            "svg": mark_safe(  # noqa: S308 (bar_chart_svg escapes every label and value)
                bar_chart_svg(
                    title=c["title"],
                    bars=[(str(label), _decimal(v), value_text(v, c["unit"])) for label, v in c["bars"]],
                )
            ),
        }
        for c in figures.get("charts", [])
    ]
    headline = [{"label": h["label"], "text": value_text(h["value"], h["unit"])} for h in figures.get("headline", [])]
    return {
        "report": report,
        "type_name": kind.name if kind else report.type,
        "subject": report.company.name if report.company_id else "DreamNet operations",
        "headline": headline,
        "tables": tables,
        "charts": charts,
        "notes": figures.get("notes", []),
        "empty": figures.get("empty", False),
        "narrative_paragraphs": [p for p in report.narrative.split("\n") if p.strip()],
    }


def html_render(report: Report) -> str:
    """Return the report's HTML document."""
    return render_to_string("reports/document.html", report_context(report))


def pdf_render(html: str) -> bytes:
    """Return the PDF of a report's HTML document (WeasyPrint; nothing is fetched: the document is inline)."""
    import weasyprint

    return weasyprint.HTML(string=html, base_url=None).write_pdf()


def file_response(report: Report, which: str) -> HttpResponse:
    """The report's stored PDF (a download) or HTML (shown alone, under `DOCUMENT_CSP`); the caller has checked
    that the file exists."""
    from mesh.services import artifact_read

    pdf = which == "pdf"
    artifact = report.pdf if pdf else report.html
    response = HttpResponse(
        artifact_read(artifact), content_type="application/pdf" if pdf else "text/html; charset=utf-8"
    )
    if not pdf:
        response["Content-Security-Policy"] = DOCUMENT_CSP
    response["Content-Disposition"] = content_disposition_header(as_attachment=pdf, filename=artifact.name)
    return response
