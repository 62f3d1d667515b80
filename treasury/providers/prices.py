"""CoinGecko USD prices: ``/api/v3/simple/price`` for coins by id, ``/simple/token_price/{platform}`` for tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from treasury.addresses import NATIVE, PLATFORMS
from treasury.providers.base import HttpClient, Price, ProviderError, usd_price

BATCH = 100  # contract addresses per token_price request


class CoinGeckoProvider:
    """Prices for asset keys (``native:<chain>``, ``token:<chain>:<contract>``); assets it cannot price are absent.

    With a key, the demo API sends ``x-cg-demo-api-key``; a ``pro-api`` base URL sends ``x-cg-pro-api-key``.
    ``include_last_updated_at`` gives each price's own time, so staleness is the provider's, not ours.
    """

    name = "coingecko"

    def __init__(self, *, api_key: str, url: str, http: HttpClient | None = None) -> None:
        self.url = url.rstrip("/")
        header = "x-cg-pro-api-key" if "pro-api" in self.url else "x-cg-demo-api-key"
        self.http = http or HttpClient(provider=self.name, headers={header: api_key} if api_key else {})

    def prices(self, *, assets: list[str], now: datetime) -> dict[str, Price]:
        found: dict[str, Price] = {}
        coins: dict[str, list[str]] = {}
        tokens: dict[str, dict[str, str]] = {}
        for asset in assets:
            parts = asset.split(":", 2)
            if parts[0] == "native" and parts[1] in NATIVE:
                coins.setdefault(NATIVE[parts[1]][1], []).append(asset)
            elif parts[0] == "token" and len(parts) == 3 and parts[1] in PLATFORMS:
                contract = "vtho" if parts[2] == "vtho" else parts[2]
                tokens.setdefault(PLATFORMS[parts[1]], {})[contract.lower()] = asset
        if coins:
            ids = sorted(coins)
            body = self._get("/api/v3/simple/price", {"ids": ",".join(ids)})
            for coin_id in ids:
                price = self._price(body.get(coin_id), now)
                if price:
                    for asset in coins[coin_id]:
                        found[asset] = Price(asset, price[0], self.name, price[1])
        for platform, wanted in sorted(tokens.items()):
            if "vtho" in wanted:  # VTHO is a coin on CoinGecko, not a contract it indexes by address
                body = self._get("/api/v3/simple/price", {"ids": "vethor-token"})
                price = self._price(body.get("vethor-token"), now)
                if price:
                    found[wanted["vtho"]] = Price(wanted["vtho"], price[0], self.name, price[1])
            contracts = sorted(c for c in wanted if c != "vtho")
            for start in range(0, len(contracts), BATCH):
                chunk = contracts[start : start + BATCH]
                body = self._get(f"/api/v3/simple/token_price/{platform}", {"contract_addresses": ",".join(chunk)})
                lowered = {str(k).lower(): v for k, v in body.items()}
                for contract in chunk:
                    price = self._price(lowered.get(contract), now)
                    if price:
                        found[wanted[contract]] = Price(wanted[contract], price[0], self.name, price[1])
        return found

    def _get(self, path: str, params: dict[str, str]) -> dict:
        body = self.http.request(
            "GET", f"{self.url}{path}", params={**params, "vs_currencies": "usd", "include_last_updated_at": "true"}
        )
        if not isinstance(body, dict):
            raise ProviderError(f"{self.name}: {path} answered {type(body).__name__}, not an object")
        if "status" in body and isinstance(body["status"], dict) and body["status"].get("error_code"):
            raise ProviderError(f"{self.name}: {body['status'].get('error_message') or 'error'}")
        return body

    @staticmethod
    def _price(entry, now: datetime):
        if not isinstance(entry, dict):
            return None
        usd = usd_price(entry.get("usd"))
        if usd is None:
            return None
        stamp = entry.get("last_updated_at")
        as_of = datetime.fromtimestamp(int(stamp), UTC) if isinstance(stamp, int) and stamp > 0 else now
        return usd, as_of
