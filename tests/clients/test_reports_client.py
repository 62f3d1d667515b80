"""/api/reports as clients call it: a ``reports`` key linked to a company over real HTTP (no cookies, no CSRF
token), an operator's key not linked to any company, and a member's browser session that sends its CSRF token."""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps
from pypdf import PdfReader

from agents.services import mission_run
from commerce.demo import demo_catalog_load
from commerce.models import Company, Membership
from commerce.services import company_create, company_key_link, spot_refresh
from dreamnet.apikeys import apikey_create
from tests.clients.conftest import csrf_token, sign_in
from tests.treasury.conftest import vault


@pytest.fixture
def acme(seeded, alice, bob) -> Company:
    importlib.import_module("reports.migrations.0002_reporter_agent").seed(apps, None)  # flushed with the tables
    demo_catalog_load()
    spot_refresh()
    company = company_create(slug="acme", name="Acme Metals", verified=True)
    Membership.objects.create(company=company, user=alice, role=Membership.Role.BUYER)
    Membership.objects.create(company=company, user=bob, role=Membership.Role.APPROVER)
    return company


def _company_key(slug: str, user: str) -> str:
    key, raw = apikey_create(name=f"reports-{slug}", scopes=["reports"])
    company_key_link(api_key=key, slug=slug, username=user)
    return raw


@pytest.mark.covers("POST /api/reports")
def test_a_company_key_gets_its_report_as_pdf_and_html(http, acme, alice):
    order = vault(acme, alice, [("xau-coin-maple-1oz", 3)])
    client = http(key=_company_key("acme", "alice"))
    assert {t["slug"] for t in client.get("/api/reports/types").json()} >= {"orders", "missions"}
    queued = client.post("/api/reports", json={"type": "orders"})
    assert queued.status_code == 202, queued.text
    report_id = queued.json()["id"]
    assert client.get(f"/api/reports/{report_id}/pdf").json()["code"] == "report_not_ready"

    mission_run(mission_id=queued.json()["mission"])  # what the task cluster does
    status = client.get(f"/api/reports/{report_id}").json()
    assert status["status"] == "succeeded" and status["narrative_source"] == "template"
    assert status["receipt_index"] is not None and len(status["data_blake3"]) == 64
    pdf = client.get(f"/api/reports/{report_id}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert f"${order.total:,.2f}" in text
    html = client.get(f"/api/reports/{report_id}/html")
    assert html.status_code == 200 and f"${order.total:,.2f}" in html.text
    assert not client.cookies


def test_an_operator_key_asks_for_node_reports_and_company_keys_may_not(http, acme):
    operator = http(key=apikey_create(name="ops", scopes=["reports"])[1])
    node = operator.post("/api/reports", json={"type": "llm-spend", "period": "2026-W48"})
    assert node.status_code == 202 and node.json()["company"] is None, node.text
    company = http(key=_company_key("acme", "alice"))
    refused = company.post("/api/reports", json={"type": "llm-spend"})
    assert refused.status_code == 403 and refused.json()["code"] == "operators_only"
    assert company.get(f"/api/reports/{node.json()['id']}").status_code == 404


@pytest.mark.covers("POST /api/reports")
def test_a_member_session_asks_with_the_csrf_token(http, acme, bob):
    browser = sign_in(http(), bob)
    refused = browser.post("/api/reports", json={"type": "market"})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    token = csrf_token(browser, "/metals")
    asked = browser.post("/api/reports", json={"type": "market", "email": True}, headers={"X-CSRFToken": token})
    assert asked.status_code == 202, asked.text
    assert asked.json()["company"] == "acme"
