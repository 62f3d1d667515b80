"""Queries per request on the buyer pages and list endpoints: bounded, and the same for 1 line as for many (no N+1).

The catalog's priced rows and a product's chart are kept per spot tick; a new tick or a catalog edit shows at once.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from commerce.models import PriceTier, Product
from commerce.services import cart_set, quote_execute, quote_lock, spot_refresh

pytestmark = pytest.mark.django_db

SKUS = ["xau-coin-maple-1oz", "xau-bar-1oz-pamp", "xag-coin-eagle-1oz", "xau-coin-krugerrand-1oz"]


def test_the_catalog_page_takes_at_most_six_queries_and_none_once_kept(
    client, shop, django_assert_max_num_queries, django_assert_num_queries
):
    with django_assert_max_num_queries(6):
        first = client.get("/metals")
    assert first.status_code == 200
    with django_assert_num_queries(0):  # a visitor's page is kept for these ticks and this catalog
        again = client.get("/metals")
    assert _rows(again) == _rows(first)
    assert _rows(first).count("<tr>") == Product.objects.filter(active=True).count()


def test_a_members_catalog_takes_the_tick_lookup_once_priced(client, alice, shop, django_assert_max_num_queries):
    client.force_login(alice)
    client.get("/metals")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        page = client.get("/metals").content.decode()
    spot = [q["sql"] for q in queries if "commerce_spottick" in q["sql"]]
    assert len(spot) == 1 and "commerce_product" not in " ".join(q["sql"] for q in queries)  # rows kept
    assert alice.username in page


def _rows(response) -> str:
    page = response.content.decode()
    return page[page.index("<tbody>") : page.index("</tbody>")]


def test_a_new_tick_or_a_catalog_edit_shows_at_once(client, shop):
    before = client.get("/metals").content.decode()
    product = Product.objects.get(sku="xau-coin-maple-1oz")
    product.name = "Maple Leaf, renamed"
    product.save()
    assert "Maple Leaf, renamed" in client.get("/metals").content.decode()
    product.stock = 0
    product.save(update_fields=["stock"])
    assert "sold out" in client.get("/metals").content.decode()
    tier = PriceTier.objects.filter(product=product).order_by("min_qty").first()
    tier.fixed += 100
    tier.save()
    spot_refresh()
    after = client.get("/metals").content.decode()
    assert after != before


def test_the_product_page_takes_at_most_five_queries(client, shop, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        response = client.get("/metals/xau-bar-1oz-pamp")
    assert response.status_code == 200
    with django_assert_max_num_queries(3):  # product, its tiers, the tick; the chart is kept for this tick
        assert client.get("/metals/xau-bar-1oz-pamp").status_code == 200


def _cart_queries(client, alice, shop, lines: int, django_assert_max_num_queries) -> int:
    for sku in SKUS[:lines]:
        cart_set(user=alice, company=shop, sku=sku, quantity=Product.objects.get(sku=sku).min_quantity)
    client.force_login(alice)
    client.get("/cart/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/cart/").status_code == 200
    return len(queries)


def test_the_cart_takes_as_many_queries_for_four_lines_as_for_one(client, alice, shop, django_assert_max_num_queries):
    one = _cart_queries(client, alice, shop, 1, django_assert_max_num_queries)
    four = _cart_queries(client, alice, shop, 4, django_assert_max_num_queries)
    assert four == one
    assert one <= 12


def test_the_products_api_takes_at_most_three_queries(client, shop, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        products = client.get("/api/commerce/products").json()
    assert len(products) >= 10
    with django_assert_max_num_queries(1):
        assert len(client.get("/api/commerce/spot").json()) == 4


def test_the_orders_api_takes_as_many_queries_for_five_orders_as_for_one(client, shop, alice):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out = StringIO()
    call_command("apikey", "create", "--name", "erp", "--scopes", "commerce", "--company", "acme", "--as", "alice",
                 stdout=out)  # fmt: skip
    key = out.getvalue().strip().splitlines()[-1]

    def order() -> None:
        quote = quote_lock(company=shop, by=alice, lines=[(SKUS[0], 1), (SKUS[1], 1)])
        quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))

    counts = []
    for orders in (1, 5):
        while len(client.get("/api/commerce/orders", headers={"X-DREAMNET-KEY": key}).json()) < orders:
            order()
        with CaptureQueriesContext(connection) as queries:
            listed = client.get("/api/commerce/orders", headers={"X-DREAMNET-KEY": key}).json()
        assert len(listed) == orders and all(len(o["lines"]) == 2 for o in listed)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_catalog_and_product_pages_render_uncached_while_the_cache_is_down(client, shop, monkeypatch):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    for name in ("get", "set", "add", "delete"):
        monkeypatch.setattr(cache, name, down)
    response = client.get("/metals")
    assert response.status_code == 200
    assert _rows(response).count("<tr>") == Product.objects.filter(active=True).count()
    assert client.get("/metals/xau-bar-1oz-pamp").status_code == 200
    product = Product.objects.get(sku="xau-coin-maple-1oz")
    product.name = "Renamed while the cache was down"
    product.save()
    assert "Renamed while the cache was down" in client.get("/metals").content.decode()
