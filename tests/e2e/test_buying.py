"""In a real browser: a buyer browses live prices, edits the cart over HTMX, locks prices and places a wire order."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def buyer(node):
    node.python(
        "from django.contrib.auth import get_user_model\n"
        "from commerce.models import Membership\n"
        "from commerce.services import company_create\n"
        "u = get_user_model().objects.create_user('erin', password='erin-e2e-password-1')\n"
        "c = company_create(slug='erin-co', name='Erin Co', verified=True)\n"
        "Membership.objects.create(company=c, user=u, role='admin')\n"
    )
    return "erin", "erin-e2e-password-1"


def test_a_buyer_locks_and_orders(node, page, buyer):
    page.goto(node.url + "/accounts/login/?next=/metals")
    page.fill("input[name=username]", buyer[0])
    page.fill("input[name=password]", buyer[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/metals")
    assert page.is_visible('[data-spot="XAU"]')
    assert "simulated feed" in page.text_content(".spot-strip")

    page.click("text=1 oz Gold Maple Leaf")
    page.fill("input[name=quantity]", "2")
    page.click("text=Add to cart")
    page.wait_for_url("**/cart/")
    page.fill("input[name=quantity]", "3")
    page.click("#cart-lines button[type=submit]")
    page.wait_for_selector("#cart-lines input[name=quantity][value='3']")
    assert "Indicative total" in page.text_content("#cart-lines")

    page.check("input[value=wire]")
    page.click("text=Lock prices for 10 minutes")
    page.wait_for_url("**/quotes/*/")
    page.wait_for_selector("time[data-countdown]:has-text('from now')")
    page.click("text=Place order")
    page.wait_for_url("**/orders/PSD-*/")
    assert "Wire instructions" in page.text_content("main")
    assert page.console_errors == []
