"""A company report end to end: the numbers in the generated PDF are the selectors' numbers for the seeded data,
the narrative says it came from the template, the receipt names the figures' digest, and the approvers get the
PDF by e-mail. One PDF per test (WeasyPrint takes about a second)."""

from __future__ import annotations

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from agents.llm import canonical
from mesh.entries import blake3_hex
from mesh.services import artifact_read
from reports import selectors
from reports.narrative import value_text
from reports.periods import period_parse
from tests.reports.conftest import pdf_text, report_make


def test_the_orders_pdf_shows_the_selectors_numbers_and_goes_to_the_approvers(orders, shop, bob):
    report = report_make(type="orders", company=shop, email=True)

    assert report.status == "succeeded", report.mission.error
    period = period_parse(report.period, today=report.period_start)
    figures = selectors.orders_figures(selectors.Scope(period=period, company=shop))
    spent = [o for o in orders if o.status == "vaulted"]
    assert figures["headline"][0]["value"] == "3"  # orders placed
    assert figures["headline"][1]["value"] == str(sum(o.total for o in spent))  # spend of the paid orders
    text = pdf_text(artifact_read(report.pdf))
    for item in figures["headline"]:
        assert value_text(item["value"], item["unit"]) in text, item
    for table in figures["tables"]:
        for row in table["rows"]:
            for cell, unit in zip(row, table["units"], strict=True):
                assert value_text(cell, unit) in text, (table["title"], cell)
    assert "Narrative source: template (offline; no language model was called)" in text
    assert "[template narrative]" in text

    # The signed receipt's inputs name the digest of exactly these figures.
    assert report.data_blake3 == blake3_hex(canonical(report.figures).encode())
    assert report.receipt.operation == "report.render"
    assert report.receipt.inputs["data_blake3"] == report.data_blake3
    assert report.receipt.outputs["pdf_blake3"] == report.pdf.blake3
    assert {k: v for k, v in report.figures.items() if k in figures} == figures

    # Bob (approver) gets the PDF; Alice (buyer) does not.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["bob@example.com"]
    name, content, media_type = message.attachments[0]
    assert media_type == "application/pdf" and name.endswith(".pdf")
    assert content == artifact_read(report.pdf)
    assert value_text(figures["headline"][1]["value"], "usd") in message.body
    assert report.emailed_to == ["bob@example.com"]


def test_a_period_with_no_data_gives_an_honest_empty_report(shop, orders):
    report = report_make(type="orders", company=shop, period="2025-01")

    assert report.status == "succeeded", report.mission.error
    assert report.figures["empty"] is True
    assert report.figures["headline"][0]["value"] == "0"
    text = pdf_text(artifact_read(report.pdf))
    assert "No data in this period" in text
    assert "There was no activity to report in 2025-01" in text
    assert "$0.00" in text
    assert len(mail.outbox) == 0  # not asked to e-mail


class RefusingMailServer(BaseEmailBackend):
    """An e-mail backend whose server refuses the connection."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("[Errno 111] Connection refused")


def test_a_failed_e_mail_leaves_the_report_ready_and_says_so(settings, shop, orders):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingMailServer"}}
    report = report_make(type="orders", company=shop, period="2025-02", email=True)

    assert report.status == "succeeded" and report.pdf_id is not None
    assert "the e-mail to the approvers failed: [Errno 111] Connection refused" in report.mission.error
    assert report.emailed_at is None and report.emailed_to == []
