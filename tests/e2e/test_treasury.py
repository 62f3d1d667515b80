"""In a real browser: a company member adds a wallet on /treasury/, sees it valued, and sees the next snapshot
arrive live over the websocket without reloading."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

VITALIK = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"


@pytest.fixture(scope="module")
def member(node):
    node.python(
        "from django.contrib.auth import get_user_model\n"
        "from commerce.models import Membership\n"
        "from commerce.services import company_create\n"
        "u = get_user_model().objects.create_user('tess', password='tess-e2e-password-1')\n"
        "c = company_create(slug='tess-co', name='Tess Treasury Co', verified=True)\n"
        "Membership.objects.create(company=c, user=u, role='admin')\n"
    )
    return "tess", "tess-e2e-password-1"


def test_a_member_adds_a_wallet_and_sees_snapshots_arrive_live(node, page, member):
    page.goto(node.url + "/accounts/login/?next=/treasury/")
    page.fill("input[name=username]", member[0])
    page.fill("input[name=password]", member[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/treasury/")
    assert "never asks for, or stores, a private key" in page.text_content("main")

    # A mistyped checksum is a form error on the address.
    page.select_option("select[name=chain]", "ethereum")
    page.fill("input[name=address]", VITALIK.replace("dA6BF", "da6BF"))
    page.fill("input[name=label]", "Operations")
    page.click("#wallet-form button[type=submit]")
    assert "EIP-55 checksum" in page.text_content("#wallet-form")
    assert page.console_errors == [
        "Failed to load resource: the server responded with a status of 422 (Unknown Status)"
    ]
    page.console_errors.clear()  # the refused form answers 422, which Chromium logs; nothing else may error

    page.fill("input[name=address]", VITALIK.lower())
    page.fill("input[name=label]", "Operations")
    page.click("#wallet-form button[type=submit]")
    page.wait_for_url("**/treasury/")
    assert VITALIK in page.text_content("main")  # stored checksummed
    # Adding the wallet queued a snapshot; the task cluster values it and the page shows it (live or on load).
    page.wait_for_selector('[data-holding="native:ethereum"]', timeout=60_000)
    assert "simulated" in page.text_content("#treasury-live")
    first = int(re.search(r"Snapshot #(\d+)", page.text_content("#treasury-live")).group(1))

    # With the socket open, a snapshot queued elsewhere (the API, the schedule) lands on the page by itself.
    page.wait_for_selector("[data-live-dot][data-state=open]", timeout=15_000)
    page.evaluate("window.__same_document = true")
    node.python(
        "from commerce.models import Company\n"
        "from treasury.services import snapshot_request\n"
        "snapshot_request(company=Company.objects.get(slug='tess-co'))\n"
    )
    page.wait_for_selector(f"text=Snapshot #{first + 1}", timeout=60_000)
    assert page.evaluate("window.__same_document") is True  # swapped in place, not reloaded
    assert page.is_visible('[data-holding="native:ethereum"]')
    assert page.console_errors == []


def test_the_treasury_pages_have_no_serious_accessibility_violations(node, browser, member):
    from tests.e2e.conftest import ADMIN_PASSWORD
    from tests.e2e.test_accessibility import _violations

    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script (audit only)
    page = context.new_page()
    try:
        page.goto(node.url + "/accounts/login/?next=/treasury/")
        page.fill("input[name=username]", member[0])
        page.fill("input[name=password]", member[1])
        page.click("button[type=submit]")
        page.wait_for_url("**/treasury/")
        page.wait_for_selector('[data-holding="native:ethereum"]', timeout=60_000)
        assert _violations(page) == []
        review = page.get_attribute("text=Treasury review", "href")
        page.goto(node.url + review)
        assert _violations(page) == []
        page.context.clear_cookies()
        page.goto(node.url + "/accounts/login/?next=/console/treasury/")
        page.fill("input[name=username]", "operator")
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/console/treasury/")
        assert "Tess Treasury Co" in page.text_content("main")
        assert _violations(page) == []
    finally:
        context.close()
