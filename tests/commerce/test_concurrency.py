"""Twenty buyers execute at once for five units in stock: exactly five sell, the rest get a clear 409."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from commerce.models import Order, Product
from commerce.services import CommerceError, quote_execute, quote_lock

pytestmark = pytest.mark.django_db(transaction=True)
SKU = "xau-bar-1oz-pamp"


def test_concurrent_executes_never_oversell(shop, alice):
    Product.objects.filter(sku=SKU).update(stock=5)
    quotes = [quote_lock(company=shop, by=alice, lines=[(SKU, 1)]) for _ in range(20)]

    def execute(quote):
        try:
            return quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token)).number
        except CommerceError as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(execute, quotes))

    sold = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, CommerceError)]
    assert len(sold) == 5
    assert len(refused) == 15
    assert all(r.status == 409 and r.code == "insufficient_stock" for r in refused)
    assert "Only 0 of xau-bar-1oz-pamp left" in refused[0].detail
    assert Product.objects.get(sku=SKU).stock == 0
    assert Order.objects.count() == 5
