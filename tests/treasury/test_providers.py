"""The chain and price adapters against local fakes that speak each provider's protocol: documented response
shapes, paging, JSON-RPC error objects, 429 with Retry-After, 5xx, malformed JSON, timeouts, absurd decimals and
prices of zero or NaN."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import httpx2 as httpx
import pytest

from tests.treasury.fakeproviders import ALCHEMY_KEY, DOCS, HELIUS_KEY, FakeProviders
from treasury.providers import (
    AlchemyProvider,
    CoinGeckoProvider,
    HeliusProvider,
    ProviderError,
    VechainThorProvider,
)
from treasury.providers.base import HttpClient

ADDRESS = "0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5"
USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
LINK = "0x514910771af9ca656af840dff83e8264ecf986ca"
SOL_OWNER = "4Qkev8aNZcqFNSRhQzwyLMFSsi94jHqE8WNVTJzTP99F"
SOL_USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
NOW = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)


@pytest.fixture
def fake():
    with FakeProviders() as server:
        server.evm[ADDRESS] = {"wei": 3_341_567_000_000_000_000, "tokens": {USDC: 10_000_000_000, LINK: 10**18}}
        server.solana[SOL_OWNER] = {"lamports": 2_500_000_000, "tokens": {SOL_USDC: (1_500_000, 6)}}
        yield server


def _http(name: str, **kw) -> HttpClient:
    return HttpClient(provider=name, timeout=kw.pop("timeout", 2.0), backoff_s=0.0, **kw)


def _alchemy(fake, **kw) -> AlchemyProvider:
    return AlchemyProvider(api_key=ALCHEMY_KEY, url_template=fake.url + "/{network}/v2", http=_http("alchemy", **kw))


def test_the_recorded_documentation_responses_parse():
    wei = int(DOCS["alchemy_eth_getBalance"]["result"], 16)
    assert wei > 0
    balances = DOCS["alchemy_getTokenBalances"]["result"]["tokenBalances"]
    assert int(balances[0]["tokenBalance"], 16) == 10_000_000_000
    assert DOCS["helius_getBalance"]["result"]["value"] == 2_500_000_000
    assert int(DOCS["thor_account"]["balance"], 16) > 0
    assert DOCS["coingecko_simple_price"]["ethereum"]["usd"] > 0


def test_alchemy_reads_native_and_erc20_balances_exactly(fake):
    balances = {b.asset: b for b in _alchemy(fake).balances(chain="ethereum", address=ADDRESS)}
    assert balances["native:ethereum"].quantity == Decimal("3.341567")
    assert balances[f"token:ethereum:{USDC}"].quantity == Decimal("10000")
    assert balances[f"token:ethereum:{USDC}"].symbol == "USDC"
    assert balances[f"token:ethereum:{LINK}"].quantity == Decimal("1")
    methods = [m for p, m, _ in fake.requests if p == "alchemy"]
    assert methods[:2] == ["eth_getBalance", "alchemy_getTokenBalances"]
    body = next(b for p, m, b in fake.requests if m == "eth_getBalance")
    assert body["jsonrpc"] == "2.0" and body["params"] == [ADDRESS, "latest"]


def test_alchemy_follows_page_keys(fake):
    tokens = {f"0x{i:040x}": 1 for i in range(1, 231)}
    fake.evm[ADDRESS]["tokens"] = tokens
    for contract in tokens:
        fake.meta[contract] = {"decimals": 0, "name": "T", "symbol": "T", "logo": None}
    balances = _alchemy(fake).balances(chain="ethereum", address=ADDRESS)
    assert len(balances) == 1 + 230
    assert [m for _, m, _ in fake.requests].count("alchemy_getTokenBalances") == 3


def test_a_token_with_absurd_decimals_is_flagged_not_valued(fake):
    fake.meta[LINK] = {"decimals": 77, "name": "Weird", "symbol": "WRD", "logo": None}
    balances = {b.asset: b for b in _alchemy(fake).balances(chain="ethereum", address=ADDRESS)}
    weird = balances[f"token:ethereum:{LINK}"]
    assert weird.quantity is None and "outside 0..36" in weird.problem


def test_alchemy_retries_a_429_then_answers(fake):
    fake.fail("alchemy", "429", "429")
    balances = _alchemy(fake).balances(chain="ethereum", address=ADDRESS)
    assert balances[0].quantity == Decimal("3.341567")


def test_alchemy_gives_up_after_its_retries_with_the_reason(fake):
    fake.fail("alchemy", "429", "429", "429")
    with pytest.raises(ProviderError, match=r"alchemy: HTTP 429 \(rate limited\) after 3 attempts"):
        _alchemy(fake).balances(chain="ethereum", address=ADDRESS)


@pytest.mark.parametrize(
    ("mode", "message"),
    [("malformed", "not valid JSON"), ("rpc_error", "invalid 1st argument"), ("500", "HTTP 500 after 1 attempts")],
)
def test_alchemy_failures_are_provider_errors(fake, mode, message):
    fake.fail("alchemy", mode)
    with pytest.raises(ProviderError, match=message):
        _alchemy(fake, retries=0).balances(chain="ethereum", address=ADDRESS)


def test_a_timeout_is_a_provider_error(fake):
    fake.fail("alchemy", "slow")
    with pytest.raises(ProviderError, match="timed out"):
        _alchemy(fake, timeout=0.3, retries=0).balances(chain="ethereum", address=ADDRESS)


def test_a_wrong_key_is_refused(fake):
    provider = AlchemyProvider(api_key="nope", url_template=fake.url + "/{network}/v2", http=_http("alchemy"))
    with pytest.raises(ProviderError, match="HTTP 401"):
        provider.balances(chain="ethereum", address=ADDRESS)


def test_helius_reads_lamports_and_spl_tokens(fake):
    provider = HeliusProvider(api_key=HELIUS_KEY, url=fake.url, http=_http("helius"))
    balances = {b.asset: b for b in provider.balances(chain="solana", address=SOL_OWNER)}
    assert balances["native:solana"].quantity == Decimal("2.5")
    assert balances[f"token:solana:{SOL_USDC}"].quantity == Decimal("1.5")
    body = next(b for p, m, b in fake.requests if m == "getTokenAccountsByOwner")
    assert body["params"][1] == {"programId": "TokenkegQfeZyiNwAJbNbGpPXrWuFJ5PDkQ6tgf5SZqDYvAS"}
    assert body["params"][2] == {"encoding": "jsonParsed"}


def test_vechain_reads_vet_and_vtho(fake):
    fake.vechain[ADDRESS] = {"vet": int(DOCS["thor_account"]["balance"], 16), "vtho": 5 * 10**18}
    provider = VechainThorProvider(url=fake.url, http=_http("vechain"))
    vet, vtho = provider.balances(chain="vechain", address=ADDRESS)
    assert vet.symbol == "VET" and vet.quantity == Decimal(int(DOCS["thor_account"]["balance"], 16)).scaleb(-18)
    assert vtho.symbol == "VTHO" and vtho.quantity == Decimal(5)


def test_vechain_malformed_json_is_a_provider_error(fake):
    fake.fail("vechain", "malformed")
    with pytest.raises(ProviderError, match="not valid JSON"):
        VechainThorProvider(url=fake.url, http=_http("vechain", retries=0)).balances(chain="vechain", address=ADDRESS)


def _gecko(fake, **kw) -> CoinGeckoProvider:
    return CoinGeckoProvider(api_key="cg", url=fake.url, http=_http("coingecko", **kw))


def test_coingecko_prices_coins_and_tokens_with_their_time(fake):
    fake.updated_at = 1764806400
    assets = ["native:ethereum", f"token:ethereum:{USDC}", f"token:solana:{SOL_USDC}", "token:ethereum:0xdead"]
    prices = _gecko(fake).prices(assets=assets, now=NOW)
    assert prices["native:ethereum"].usd == Decimal("3403.12")  # exact: JSON numbers parse to Decimal
    assert prices[f"token:ethereum:{USDC}"].usd == Decimal("0.999891")
    assert prices["native:ethereum"].as_of == datetime.fromtimestamp(1764806400, UTC)
    assert "token:ethereum:0xdead" not in prices  # unknown: left out, so the snapshot lists it unpriced
    query = next(q for p, path, q in fake.requests if path == "/api/v3/simple/price")
    assert query == {"ids": "ethereum", "vs_currencies": "usd", "include_last_updated_at": "true"}


def test_coingecko_zero_and_nan_prices_are_not_prices(fake):
    fake.coins["ethereum"] = 0
    assert "native:ethereum" not in _gecko(fake).prices(assets=["native:ethereum"], now=NOW)
    fake.coins["ethereum"] = 3400.0
    fake.fail("coingecko", "nan")
    with pytest.raises(ProviderError, match="not valid JSON"):  # NaN is not JSON; it is refused, never a price
        _gecko(fake, retries=0).prices(assets=["native:ethereum"], now=NOW)


def test_coingecko_rate_limit_is_retried(fake):
    fake.fail("coingecko", "429")
    assert _gecko(fake).prices(assets=["native:solana"], now=NOW)["native:solana"].usd == Decimal("187.41")
    assert fake.count("coingecko") == 2


def test_the_client_sends_the_coingecko_key_header():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        return httpx.Response(200, content=json.dumps({}).encode())

    http = HttpClient(provider="coingecko", headers={"x-cg-demo-api-key": "k"}, transport=httpx.MockTransport(handler))
    CoinGeckoProvider(api_key="k", url="https://api.coingecko.com", http=http).prices(assets=["native:solana"], now=NOW)
    assert seen["x-cg-demo-api-key"] == "k"
