"""Real spot-price adapters over HTTPS (stdlib urllib; timeouts; every failure is a FeedError)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from decimal import Decimal, InvalidOperation

from commerce.feeds.base import METALS, FeedError, RawTick, spread


def _get_json(url: str, *, provider: str, timeout: float) -> dict:
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "DreamNet/1"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https or test URL)
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise FeedError(f"{provider}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise FeedError(f"{provider}: unreachable ({exc})") from exc
    except ValueError as exc:
        raise FeedError(f"{provider}: the response is not JSON") from exc


def _price(value, *, provider: str, metal: str) -> Decimal:
    try:
        price = Decimal(str(value))
    except (InvalidOperation, TypeError):
        raise FeedError(f"{provider}: no usable price for {metal} ({value!r})") from None
    if not price.is_finite() or price <= 0:
        raise FeedError(f"{provider}: no usable price for {metal} ({value!r})")
    return price


class MetalpriceApiProvider:
    """MetalpriceAPI: ``GET {base}/v1/latest?api_key=K&base=USD&currencies=XAU,XAG,XPT,XPD``.

    The documented response carries ``rates.XAU`` (ounces per dollar) and ``rates.USDXAU`` (dollars per ounce);
    the latter is used.
    """

    name = "metalpriceapi"

    def __init__(self, *, api_key: str, base_url: str, spread_bps: int, timeout: float = 5.0) -> None:
        self.api_key, self.base_url, self.spread_bps, self.timeout = api_key, base_url.rstrip("/"), spread_bps, timeout

    def fetch(self, *, previous, now: datetime, elapsed_s: float) -> list[RawTick]:
        query = urllib.parse.urlencode({"api_key": self.api_key, "base": "USD", "currencies": ",".join(METALS)})
        body = _get_json(f"{self.base_url}/v1/latest?{query}", provider=self.name, timeout=self.timeout)
        if not body.get("success"):
            error = body.get("error") or {}
            raise FeedError(f"{self.name}: {error.get('info') or error.get('message') or 'success is false'}")
        rates = body.get("rates") or {}
        ticks = []
        for metal in METALS:
            bid, ask = spread(_price(rates.get(f"USD{metal}"), provider=self.name, metal=metal), self.spread_bps)
            ticks.append(RawTick(metal, bid, ask, body.get("base", "USD"), self.name, now))
        return ticks


class MetalsDevProvider:
    """Metals.Dev: ``GET {base}/v1/latest?api_key=K&currency=USD&unit=toz`` → ``metals.gold`` etc."""

    name = "metalsdev"
    NAMES = {"XAU": "gold", "XAG": "silver", "XPT": "platinum", "XPD": "palladium"}

    def __init__(self, *, api_key: str, base_url: str, spread_bps: int, timeout: float = 5.0) -> None:
        self.api_key, self.base_url, self.spread_bps, self.timeout = api_key, base_url.rstrip("/"), spread_bps, timeout

    def fetch(self, *, previous, now: datetime, elapsed_s: float) -> list[RawTick]:
        query = urllib.parse.urlencode({"api_key": self.api_key, "currency": "USD", "unit": "toz"})
        body = _get_json(f"{self.base_url}/v1/latest?{query}", provider=self.name, timeout=self.timeout)
        if body.get("status") != "success":
            raise FeedError(f"{self.name}: {body.get('error_message') or body.get('status') or 'no status'}")
        metals = body.get("metals") or {}
        ticks = []
        for metal, key in self.NAMES.items():
            bid, ask = spread(_price(metals.get(key), provider=self.name, metal=metal), self.spread_bps)
            ticks.append(RawTick(metal, bid, ask, body.get("currency", "USD"), self.name, now))
        return ticks
