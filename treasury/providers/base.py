"""What providers return, their one error, and the HTTP plumbing they share (httpx, timeouts, retries)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx2 as httpx

MAX_DECIMALS = 36  # no real token has more; a contract claiming more is flagged, not valued
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ProviderError(Exception):
    """A provider could not deliver a usable answer; the message names the provider and the reason."""


@dataclass(frozen=True)
class Balance:
    """One asset held at an address.

    ``asset`` is the pricing key: ``native:<chain>`` for the chain's coin, ``token:<chain>:<contract or mint>`` for
    a token. ``quantity`` is in whole units (the raw integer amount scaled by ``decimals``), exact; it is None
    when the amount could not be read (``problem`` says why, e.g. absurd decimals).
    """

    asset: str
    symbol: str
    name: str
    quantity: Decimal | None
    decimals: int | None
    contract: str
    source: str
    problem: str = ""


@dataclass(frozen=True)
class Price:
    """A USD price per whole unit of an asset and when the provider last updated it."""

    asset: str
    usd: Decimal
    source: str
    as_of: datetime


def scaled(raw: int, decimals: Any, *, what: str) -> tuple[Decimal | None, int | None, str]:
    """Return (quantity, decimals, problem) for a raw integer amount with ``decimals`` places, exactly."""
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        return None, None, f"{what}: decimals {decimals!r} is not an integer"
    if not 0 <= decimals <= MAX_DECIMALS:
        return None, decimals, f"{what}: decimals {decimals} is outside 0..{MAX_DECIMALS}"
    return Decimal(raw).scaleb(-decimals), decimals, ""


def hex_int(value: Any, *, provider: str, what: str) -> int:
    """Parse a JSON-RPC hex quantity (``0x1bc16d674ec80000``) or raise ProviderError."""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ProviderError(f"{provider}: {what} is not a hex quantity ({value!r})")
    try:
        number = int(value, 16)
    except ValueError:
        raise ProviderError(f"{provider}: {what} is not a hex quantity ({value!r})") from None
    if number < 0:
        raise ProviderError(f"{provider}: {what} is negative")
    return number


def usd_price(value: Any) -> Decimal | None:
    """Return a positive, finite Decimal price or None (zero, negative, NaN, infinite and non-numbers)."""
    if isinstance(value, bool):
        return None
    try:
        price = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None
    return price if price.is_finite() and price > 0 else None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"JSON constant {name} is not allowed")


class HttpClient:
    """One httpx client per provider: a timeout per request, bounded retries on timeouts, 429 and 5xx.

    A 429's ``Retry-After`` is honoured up to ``max_wait_s``; otherwise the wait doubles from ``backoff_s``.
    Numbers parse to Decimal (exact), NaN/Infinity are refused, and every failure is a ProviderError.
    """

    def __init__(
        self,
        *,
        provider: str,
        timeout: float = 5.0,
        retries: int = 2,
        backoff_s: float = 0.25,
        max_wait_s: float = 2.0,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self.retries, self.backoff_s, self.max_wait_s = retries, backoff_s, max_wait_s
        self.client = httpx.Client(
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": "DreamNet/1", **(headers or {})},
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TimeoutException as exc:
                failure = f"{self.provider}: timed out ({exc.__class__.__name__})"
                wait = None
            except httpx.HTTPError as exc:
                failure = f"{self.provider}: unreachable ({exc.__class__.__name__})"
                wait = None
            else:
                if response.status_code in RETRY_STATUSES:
                    failure = f"{self.provider}: HTTP {response.status_code}" + (
                        " (rate limited)" if response.status_code == 429 else ""
                    )
                    wait = _retry_after(response.headers.get("retry-after"))
                elif response.status_code >= 400:
                    raise ProviderError(f"{self.provider}: HTTP {response.status_code}")
                else:
                    try:
                        return json.loads(response.content, parse_float=Decimal, parse_constant=_reject_constant)
                    except ValueError:
                        raise ProviderError(f"{self.provider}: the response is not valid JSON") from None
            if attempt >= self.retries:
                raise ProviderError(failure + f" after {attempt + 1} attempts")
            delay = self.backoff_s * (2**attempt) if wait is None else wait
            time.sleep(min(delay, self.max_wait_s))
            attempt += 1


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class JsonRpc:
    """JSON-RPC 2.0 over POST: ``call(method, params)`` returns ``result`` or raises ProviderError with the error."""

    def __init__(self, http: HttpClient, url: str) -> None:
        self.http, self.url, self._id = http, url, 0

    def call(self, method: str, params: list) -> Any:
        self._id += 1
        body = self.http.request("POST", self.url, json={"jsonrpc": "2.0", "id": self._id, "method": method,
                                                         "params": params})  # fmt: skip
        if not isinstance(body, dict):
            raise ProviderError(f"{self.http.provider}: {method} answered {type(body).__name__}, not an object")
        if body.get("error") is not None:
            error = body["error"] if isinstance(body["error"], dict) else {"message": str(body["error"])}
            raise ProviderError(
                f"{self.http.provider}: {method} failed: {error.get('message', 'error')} (code {error.get('code')})"
            )
        if "result" not in body:
            raise ProviderError(f"{self.http.provider}: {method} answered without a result")
        return body["result"]
