"""In a real browser: a buyer of a German company sees Lemon Squeezy offered with its fee, locks, pays on the
(fake) Lemon Squeezy checkout, and comes back to a paid order once the signed webhook reached the node."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.commerce.lemonsqueezy_fake import FakeLemonSqueezy
from tests.e2e.conftest import ROOT, Node, _free_port

pytestmark = pytest.mark.e2e
SECRET = "e2e-lemonsqueezy-signing-secret"


class LemonNode(Node):
    extra: dict[str, str] = {}

    def env(self) -> dict[str, str]:
        return super().env() | self.extra


@pytest.fixture(scope="module")
def fake():
    fake = FakeLemonSqueezy()
    fake.secret = SECRET
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def eu_node(tmp_path_factory, fake):
    port = _free_port()
    node = LemonNode(tmp_path_factory.mktemp("eu-node"), port, None)
    node.extra = {
        "LEMONSQUEEZY_API_KEY": fake.api_key, "LEMONSQUEEZY_STORE_ID": fake.store_id,
        "LEMONSQUEEZY_API_BASE": fake.url, "LEMONSQUEEZY_WEBHOOK_SECRET": SECRET,
        "LEMONSQUEEZY_ORDER_VARIANT_ID": "501", "DREAMNET_SITE_URL": f"http://127.0.0.1:{port}",
    }  # fmt: skip
    fake.webhook_url = f"http://127.0.0.1:{port}/payments/lemonsqueezy/webhook"
    node.proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT, env=node.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(node.url + "/", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        pytest.fail("the node did not start within 60 s")
    node.python(
        "from django.contrib.auth import get_user_model\n"
        "from commerce.models import Membership\n"
        "from commerce.services import company_create\n"
        "u = get_user_model().objects.create_user('eva', password='eva-e2e-password-1')\n"
        "c = company_create(slug='berlin-bullion', name='Berlin Bullion', verified=True, country='DE', currency='EUR')\n"
        "Membership.objects.create(company=c, user=u, role='admin')\n"
    )
    yield node
    node.proc.send_signal(signal.SIGINT)
    try:
        node.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(node.proc.pid, signal.SIGKILL)


def test_an_eu_buyer_pays_through_lemon_squeezy(eu_node, fake, page):
    page.goto(eu_node.url + "/accounts/login/?next=/metals")
    page.fill("input[name=username]", "eva")
    page.fill("input[name=password]", "eva-e2e-password-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/metals")
    page.click("text=1 oz Gold Maple Leaf")
    page.fill("input[name=quantity]", "1")
    page.click("text=Add to cart")
    page.wait_for_url("**/cart/")

    payment = page.text_content("fieldset")
    assert "Lemon Squeezy" in payment and "+5 % on each line" in payment
    assert not page.is_visible("input[value=card]")  # a German company is offered Lemon Squeezy and wire
    page.check("input[value=lemonsqueezy]")
    page.click("text=Lock prices for 10 minutes")
    page.wait_for_url("**/quotes/*/")
    page.click("text=Place order")

    page.wait_for_url(f"{fake.url}/checkout/custom/**")
    (checkout,) = fake.checkouts.values()
    order_number = checkout["attributes"]["checkout_data"]["custom"]["order"]
    assert page.text_content("#subtotal") == f"${checkout['attributes']['custom_price'] / 100:,.2f}"
    page.select_option("select[name=country]", "DE")
    page.click("text=Pay")

    page.wait_for_url(f"**/checkout/return/{order_number}/")
    assert fake.deliveries and fake.deliveries[0][0] == 200
    assert "Paid. Thank you" in page.text_content("main")
    page.click("text=Open the order")
    assert "Paid" in page.text_content(".page-head")
    assert page.console_errors == []
