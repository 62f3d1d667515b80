from __future__ import annotations

import pytest

from commerce.models import Order
from commerce.services import order_transition, quote_execute, quote_lock
from tests.commerce.conftest import acme, catalog, shop, spot  # noqa: F401  (fixtures)
from tests.treasury.fakeproviders import ALCHEMY_KEY, HELIUS_KEY, FakeProviders

VITALIK = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
SOL_OWNER = "4Qkev8aNZcqFNSRhQzwyLMFSsi94jHqE8WNVTJzTP99F"
USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"


def vault(company, user, lines: list[tuple[str, int]]) -> Order:
    """Buy ``lines`` for ``company`` and carry the order to the vault, as an operator would."""
    company.approval_threshold = 10**9
    company.save(update_fields=["approval_threshold"])
    quote = quote_lock(company=company, by=user, lines=lines)
    order = quote_execute(quote=quote, by=user, lock_token=str(quote.lock_token))
    for to in ("paid", "allocated", "vaulted"):
        order = order_transition(order=order, to=to)
    return order


@pytest.fixture
def fake(settings):
    """The fake providers, with the treasury pointed at them (alchemy, helius, vechain and coingecko, no
    simulated fallback unless a test adds it)."""
    with FakeProviders() as server:
        server.evm[VITALIK.lower()] = {"wei": 2 * 10**18, "tokens": {USDC: 5_000_000_000}}
        server.solana[SOL_OWNER] = {"lamports": 10 * 10**9, "tokens": {}}
        settings.TREASURY_SOURCES = ["alchemy", "helius", "vechain", "coingecko"]
        settings.ALCHEMY_API_KEY, settings.ALCHEMY_URL = ALCHEMY_KEY, server.url + "/{network}/v2"
        settings.HELIUS_API_KEY, settings.HELIUS_URL = HELIUS_KEY, server.url
        settings.VECHAIN_URL = settings.COINGECKO_URL = server.url
        settings.TREASURY_HTTP_RETRIES = 1
        settings.TREASURY_HTTP_TIMEOUT_S = 1
        yield server
