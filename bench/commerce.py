"""Commerce benchmark: page and API throughput against a bare Django view, and pricing a 100-line quote.

    .venv/bin/python bench/commerce.py [--seconds 3] [--quick] [--json]   (DATABASE_URL: on PostgreSQL)

Runs in-process through Django's full request stack (middleware, sessions, CSP, templates) on a throw-away
SQLite database (or a fresh PostgreSQL database on the DATABASE_URL server, dropped at exit) with the demo catalog and a simulated spot feed. The reference is a view that returns a
constant response through the same stack, measured in the same run, so the ratios say what the pages
themselves cost.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import types
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import add_arguments, database_env, emit_json  # noqa: E402


def _setup() -> str:
    os.environ |= {
        "DREAMNET_HOME": tempfile.mkdtemp(prefix="dreamnet-bench-"),
        "DJANGO_SETTINGS_MODULE": "dreamnet.settings",
    }
    os.environ["DREAMNET_MESH_CHECKPOINT_TIMER"] = "false"
    os.environ.pop("REDIS_URL", None)
    database = database_env()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.http import HttpResponse
    from django.urls import include, path

    call_command("migrate", verbosity=0)
    urls = types.ModuleType("bench_urls")
    urls.urlpatterns = [path("bench/bare", lambda request: HttpResponse("ok")), path("", include("dreamnet.urls"))]
    sys.modules["bench_urls"] = urls
    settings.ROOT_URLCONF = "bench_urls"
    settings.ALLOWED_HOSTS = ["testserver"]

    from commerce.demo import demo_catalog_load
    from commerce.services import spot_refresh

    demo_catalog_load()
    spot_refresh()
    return database


def _rate(client, url: str, seconds: float) -> float:
    for _ in range(5):
        assert client.get(url).status_code == 200, url
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        client.get(url)
        count += 1
    return count / (time.perf_counter() - started)


def _price_quote(lines: int) -> float:
    from commerce import pricing
    from commerce.models import Product
    from commerce.selectors import spot_latest

    products = list(Product.objects.prefetch_related("tiers"))
    spots = spot_latest()
    tiers = {p.pk: p.price_tiers() for p in products}
    started = time.perf_counter()
    rounds = 200
    for _ in range(rounds):
        total = Decimal(0)
        for i in range(lines):
            product = products[i % len(products)]
            quantity = 1 + (i * 7) % 600
            unit = pricing.unit_ask(spot_ask=spots[product.metal].ask, fine_oz=product.fine_oz,
                                    tier=pricing.tier_for(tiers[product.pk], quantity))  # fmt: skip
            total += pricing.line_total(unit=unit, quantity=quantity)
    return (time.perf_counter() - started) / rounds * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--quick", action="store_true", help="1 s per measurement")
    add_arguments(parser)
    args = parser.parse_args()
    seconds = 1.0 if args.quick else args.seconds
    database = _setup()
    from django.test import Client

    print(f"database: {database}")
    client = Client()
    bare = _rate(client, "/bench/bare", seconds)
    print(f"reference: bare Django view           {bare:10,.0f} req/s")
    ratios = {}
    for key, label, url in [
        ("catalog_vs_bare", "catalog page /metals", "/metals"),
        ("product_page_vs_bare", "product page /metals/{sku}", "/metals/xau-coin-maple-1oz"),
        ("api_product_vs_bare", "API products/{sku}", "/api/commerce/products/xau-coin-maple-1oz"),
        ("api_products_list_vs_bare", "API products (list)", "/api/commerce/products"),
    ]:
        rate = _rate(client, url, seconds)
        ratios[key] = rate / bare
        print(f"{label:<37} {rate:10,.0f} req/s   {rate / bare:6.2f}x the bare view's rate")
    print(f"pricing a 100-line quote (pure)       {_price_quote(100):10.3f} ms")
    emit_json(args, database, ratios)


if __name__ == "__main__":
    main()
