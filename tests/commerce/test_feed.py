"""The spot feed: simulated by default, real adapters against a local server, failover, staleness."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from commerce.models import SpotTick
from commerce.selectors import spot_latest
from commerce.services import CommerceError, quote_lock, spot_refresh
from mesh.models import Event

pytestmark = pytest.mark.django_db

METALPRICEAPI_BODY = {
    "success": True, "base": "USD", "timestamp": 1763780000,
    "rates": {"USDXAG": 31.2049, "USDXAU": 2651.4312, "USDXPD": 1012.8804, "USDXPT": 961.1007,
              "XAG": 0.0320462, "XAU": 0.000377155, "XPD": 0.000987283, "XPT": 0.00104047},
}  # fmt: skip
METALSDEV_BODY = {
    "status": "success", "currency": "USD", "unit": "toz",
    "metals": {"gold": 2649.9, "silver": 31.18, "platinum": 960.4, "palladium": 1011.7},
    "timestamps": {"metal": "2026-11-22T03:00:00.000Z", "currency": "2026-11-22T03:00:00.000Z"},
}  # fmt: skip


@pytest.fixture
def provider_server():
    """A local stand-in for the providers: answers with ``state['status']`` and ``state['body']``."""
    state = {"status": 200, "body": METALPRICEAPI_BODY, "paths": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state["paths"].append(self.path)
            data = json.dumps(state["body"]).encode()
            self.send_response(state["status"])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_port}"
    yield state
    server.shutdown()


def test_the_default_feed_is_simulated_and_labelled_so():
    ticks = spot_refresh()
    assert {t.metal for t in ticks} == {"XAU", "XAG", "XPT", "XPD"}
    assert {t.source for t in ticks} == {"simulated"}
    gold = spot_latest()["XAU"]
    assert Decimal(2000) < gold.bid < gold.ask < Decimal(3500)
    event = Event.objects.get(topic="price.tick")
    assert event.public
    assert {t["metal"] for t in event.payload["ticks"]} == {"XAU", "XAG", "XPT", "XPD"}


def test_the_simulated_feed_moves_and_replays(settings):
    first = spot_refresh(now=timezone.now())
    second = spot_refresh(now=timezone.now() + timedelta(seconds=15))
    assert first[0].ask != second[0].ask


def test_metalpriceapi_adapter_reads_usd_per_ounce(settings, provider_server):
    settings.SPOT_PROVIDERS = ["metalpriceapi"]
    settings.METALPRICEAPI_KEY, settings.METALPRICEAPI_URL = "test-key", provider_server["url"]
    settings.SPOT_SPREAD_BPS = 20
    spot_refresh()
    gold = spot_latest()["XAU"]
    assert gold.source == "metalpriceapi"
    assert (gold.bid + gold.ask) / 2 == Decimal("2651.4312")
    assert "api_key=test-key" in provider_server["paths"][0]
    assert "currencies=XAU%2CXAG%2CXPT%2CXPD" in provider_server["paths"][0]


def test_metalsdev_adapter(settings, provider_server):
    settings.SPOT_PROVIDERS = ["metalsdev"]
    settings.METALSDEV_KEY, settings.METALSDEV_URL = "k", provider_server["url"]
    provider_server["body"] = METALSDEV_BODY
    spot_refresh()
    assert spot_latest()["XAG"].source == "metalsdev"
    assert (spot_latest()["XAG"].bid + spot_latest()["XAG"].ask) / 2 == Decimal("31.18")


def test_a_failing_provider_fails_over_to_the_next(settings, provider_server):
    settings.SPOT_PROVIDERS = ["metalpriceapi", "simulated"]
    settings.METALPRICEAPI_KEY, settings.METALPRICEAPI_URL = "k", provider_server["url"]
    provider_server["status"] = 500
    spot_refresh()
    assert spot_latest()["XAU"].source == "simulated"


def test_a_malformed_answer_counts_as_a_failure(settings, provider_server):
    settings.SPOT_PROVIDERS = ["metalpriceapi"]
    settings.METALPRICEAPI_KEY, settings.METALPRICEAPI_URL = "k", provider_server["url"]
    provider_server["body"] = {"success": True, "rates": {"USDXAU": "n/a"}}
    with pytest.raises(CommerceError, match="metalpriceapi: no usable price for XAU") as exc:
        spot_refresh()
    assert exc.value.code == "feed_down"
    assert not SpotTick.objects.exists()


def test_a_stale_feed_can_be_shown_but_not_locked(shop, alice, settings):
    SpotTick.objects.update(fetched_at=timezone.now() - timedelta(seconds=120))
    assert spot_latest()["XAU"].stale
    with pytest.raises(CommerceError, match="120 s old") as exc:
        quote_lock(company=shop, by=alice, lines=[("xau-bar-1oz-pamp", 1)])
    assert exc.value.code == "stale_feed"
