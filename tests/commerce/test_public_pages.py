"""The catalog and product pages as a visitor who is not signed in sees them are kept per spot tick and catalog
version: each response still carries its own CSRF token, signed-in members never get a kept page, and a new
tick, a catalog edit or a feed going stale shows at once."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from commerce.models import Product
from commerce.services import spot_refresh
from dreamnet.templatetags.numbers import usd

pytestmark = pytest.mark.django_db

SKU = "xau-bar-1oz-pamp"


def _token(page: str) -> str:
    return re.search(r'"x-csrftoken": "([^"]+)"', page).group(1)


@pytest.mark.parametrize("url", ["/metals", "/metals?metal=XAU", f"/metals/{SKU}"])
def test_each_visitor_gets_the_kept_page_with_a_csrf_token_of_its_own(shop, url, django_assert_num_queries):
    first, second = Client(), Client()
    one = first.get(url).content.decode()
    with django_assert_num_queries(0):
        response = second.get(url)
    two = response.content.decode()
    assert "csrf-token-hole" not in one + two
    assert _token(one) != _token(two) and len(_token(two)) == 64
    assert re.sub(r'"x-csrftoken": "[^"]+"', "", one) == re.sub(r'"x-csrftoken": "[^"]+"', "", two)
    assert response.cookies["csrftoken"].value  # the token's secret goes out as a cookie, as on any page


def test_the_token_in_a_kept_page_signs_a_post(shop, alice):
    Client().get("/metals")  # the page is kept
    browser = Client(enforce_csrf_checks=True)
    token = _token(browser.get("/metals").content.decode())
    refused = browser.post("/accounts/login/", {"username": alice.username, "password": "wrong"})
    assert refused.status_code == 403  # no token: CSRF failure
    answer = browser.post(
        "/accounts/login/", {"username": alice.username, "password": "wrong"}, headers={"x-csrftoken": token}
    )
    assert answer.status_code == 200 and "CSRF verification failed" not in answer.content.decode()


def test_a_signed_in_member_never_gets_a_visitors_page(client, shop, alice):
    Client().get(f"/metals/{SKU}")
    Client().get("/metals")
    client.force_login(alice)
    product = client.get(f"/metals/{SKU}").content.decode()
    catalog = client.get("/metals").content.decode()
    assert alice.username in product and "Add to cart" in product and "Sign out" in catalog
    assert 'name="csrfmiddlewaretoken"' in product and "csrf-token-hole" not in product


def test_a_tick_an_edit_and_a_stale_feed_show_at_once(shop, settings):
    visitor = Client()
    before = visitor.get(f"/metals/{SKU}").content.decode()
    assert "stale" not in before
    Product.objects.filter(sku=SKU).update(name="renamed quietly")  # no signal: not a catalog edit
    product = Product.objects.get(sku=SKU)
    product.name = "PAMP bar, renamed"
    product.save()
    assert "PAMP bar, renamed" in visitor.get(f"/metals/{SKU}").content.decode()
    ticks = spot_refresh()
    page = visitor.get("/metals").content.decode()
    xau = next(t for t in ticks if t.metal == "XAU")
    assert f'data-field="ask">{usd(xau.ask)}<' in page, re.findall(r'data-field="ask">([^<]+)<', page)
    settings.SPOT_MAX_AGE_S = 0  # every tick is now too old to lock from
    assert "stale" in visitor.get(f"/metals/{SKU}").content.decode()


def test_other_parameters_and_sessions_get_a_fresh_render(shop, django_assert_max_num_queries):
    Client().get("/metals")
    with django_assert_max_num_queries(6) as captured:
        Client().get("/metals?utm_source=mail")
    assert len(captured) >= 1
