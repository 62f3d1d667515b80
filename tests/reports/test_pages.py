"""/reports/ for members, one report's page with its progress and document, the PDF and HTML, the operators'
console and the admin."""

from __future__ import annotations

from agents.services import mission_run
from reports.models import Report, ReportSchedule


def test_a_member_asks_for_a_report_and_opens_it(client, orders, shop, alice, other, charlie):
    client.force_login(alice)
    page = client.get("/reports/").content.decode()
    assert "Orders and spend" in page and "Mesh activity" not in page  # members pick company reports only
    refused = client.post("/reports/", {"type": "orders", "period": "last month"})
    assert refused.status_code == 422 and "is none of these" in refused.content.decode()
    asked = client.post("/reports/", {"type": "orders", "period": ""})
    assert asked.status_code == 302
    report = Report.objects.get()
    assert asked["Location"] == f"/reports/{report.pk}/"
    queued = client.get(asked["Location"]).content.decode()
    assert 'data-report-status="queued"' in queued and 'hx-trigger="every 2s"' in queued

    mission_run(mission_id=report.mission_id)  # what the task cluster does
    done = client.get(asked["Location"]).content.decode()
    assert 'data-report-status="succeeded"' in done and "every 2s" not in done
    assert "data-report-document" in done and "Orders placed" in done
    spend = sum(o.total for o in orders if o.status == "vaulted")
    assert f"${spend:,.2f}" in done
    pdf = client.get(f"/reports/{report.pk}/pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    html = client.get(f"/reports/{report.pk}/html")
    assert html["Content-Security-Policy"].startswith("default-src 'none'")
    assert f"${spend:,.2f}" in html.content.decode()

    client.force_login(charlie)  # another company's member
    assert client.get(f"/reports/{report.pk}/").status_code == 404
    assert client.get(f"/reports/{report.pk}/pdf").status_code == 404


def test_operators_see_every_report_in_the_console(client, olivia, alice, acme):
    client.force_login(olivia)
    asked = client.post("/console/reports/", {"type": "missions", "period": "2026-11"})
    assert asked.status_code == 302
    report = Report.objects.get()
    assert report.company is None and report.created_via == "console"
    page = client.get("/console/reports/").content.decode()
    assert f'data-report-id="{report.pk}"' in page and 'hx-trigger="every 2s"' in page
    partial = client.get("/console/reports/", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<section id="report-list"')
    company_less = client.post("/console/reports/", {"type": "orders"})
    assert company_less.status_code == 422 and "name it" in company_less.content.decode()
    ReportSchedule.objects.create(company=acme, type="orders", cadence="weekly")
    olivia.is_superuser = True  # the admin also needs the model permissions
    olivia.save()
    for path in ("/admin/reports/report/", f"/admin/reports/report/{report.pk}/change/",
                 "/admin/reports/reportschedule/", "/console/reports/"):  # fmt: skip
        assert client.get(path).status_code == 200, path

    client.force_login(alice)
    assert client.get("/console/reports/").status_code == 302  # to the sign-in page
