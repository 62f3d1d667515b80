"""In a real browser: a company member asks for a report on /reports/, watches its progress while the task
cluster makes it, and opens the finished report and its PDF; an operator finds it in the console."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def member(node):
    node.python(
        "from django.contrib.auth import get_user_model\n"
        "from commerce.models import Membership\n"
        "from commerce.services import company_create\n"
        "u = get_user_model().objects.create_user('rita', password='rita-e2e-password-1', email='rita@example.com')\n"
        "c = company_create(slug='rita-co', name='Rita Reports Co', verified=True)\n"
        "Membership.objects.create(company=c, user=u, role='approver')\n"
    )
    return "rita", "rita-e2e-password-1"


def _sign_in(page, node, username: str, password: str, next_path: str) -> None:
    page.goto(node.url + f"/accounts/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_path}")


def test_a_member_asks_for_a_report_and_opens_it(node, page, member, browser):
    _sign_in(page, node, *member, "/reports/")
    page.select_option("select[name=type]", "market")
    page.fill("input[name=period]", "")
    page.click("#report-form button[type=submit]")
    page.wait_for_url("**/reports/*/")
    # The page polls while the mission runs; the document appears when it succeeds.
    page.wait_for_selector("[data-report-document]", timeout=90_000)
    panel = page.text_content("#report-panel")
    assert "succeeded" in panel
    assert "Narrative source: template (offline; no language model was called)" in panel
    assert "Spot ticks" in panel
    pdf = page.request.get(node.url + page.get_attribute("[data-pdf-link]", "href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    report_url = page.url
    assert page.console_errors == []

    operator = browser.new_context().new_page()
    _sign_in(operator, node, "operator", ADMIN_PASSWORD, "/console/reports/")
    row = operator.locator("#report-list tr[data-report-id]").first
    assert "market" in row.text_content() and "Rita Reports Co" in row.text_content()
    row.locator("a").first.click()
    operator.wait_for_url(report_url)
    operator.wait_for_selector("[data-report-document]")
    operator.context.close()
