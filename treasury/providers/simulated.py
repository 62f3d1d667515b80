"""Offline chain and price sources: deterministic, labelled ``simulated``.

Balances are drawn from a seeded generator keyed by the chain and address, so one wallet always holds the same
simulated assets. Prices are levels moved by a seeded, correlated shock per 5-minute bucket (a market factor and
an asset's own), so a price history exists for the risk model and any timestamp replays exactly.
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import UTC, datetime
from decimal import Decimal

from treasury.addresses import EVM_CHAINS, NATIVE
from treasury.providers.base import Balance, Price

BUCKET_S = 300
# Asset key → (symbol, name, decimals, USD level, volatility per bucket of the log price's noise).
TOKENS: dict[str, tuple[str, str, int]] = {
    "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": ("USDC", "USD Coin", 6),
    "0x514910771af9ca656af840dff83e8264ecf986ca": ("LINK", "Chainlink", 18),
    "0x7fc66500c84a76ad7e9c93437bfc5ac33e2ddae9": ("AAVE", "Aave", 18),
}
SOLANA_TOKENS: dict[str, tuple[str, str, int]] = {
    "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v": ("USDC", "USD Coin", 6),
    "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN": ("JUP", "Jupiter", 6),
}
LEVELS: dict[str, tuple[float, float]] = {
    "ethereum": (3400.0, 0.012),
    "polygon-ecosystem-token": (0.45, 0.018),
    "solana": (190.0, 0.016),
    "vechain": (0.042, 0.017),
    "vethor-token": (0.0028, 0.017),
    "USDC": (1.0, 0.0002),
    "LINK": (21.0, 0.016),
    "AAVE": (260.0, 0.017),
    "JUP": (0.95, 0.02),
}
UNKNOWN = ("0x00000000000000000000000000000000000dead1", "MYST", "Unpriced test token", 18)


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 (a simulation, not a secret)


def _amount(rng: random.Random, low: float, high: float, decimals: int) -> Decimal:
    raw = int(math.exp(rng.uniform(math.log(low), math.log(high))) * 10**decimals)
    return Decimal(raw).scaleb(-decimals)


class SimulatedChainProvider:
    name = "simulated"
    families = ("evm", "solana", "vechain")

    def __init__(self, *, seed: int = 7) -> None:
        self.seed = seed

    def balances(self, *, chain: str, address: str) -> list[Balance]:
        rng = _rng(self.seed, chain, address.lower())
        symbol, _ = NATIVE[chain]
        if chain == "vechain":
            return [
                Balance("native:vechain", "VET", "VeChain", _amount(rng, 1e4, 5e6, 18), 18, "", self.name),
                Balance("token:vechain:vtho", "VTHO", "VeThor", _amount(rng, 1e3, 2e5, 18), 18, "", self.name),
            ]
        if chain == "solana":
            found = [Balance("native:solana", "SOL", "Solana", _amount(rng, 5, 5e3, 9), 9, "", self.name)]
            for mint, (sym, name, dec) in SOLANA_TOKENS.items():
                found.append(Balance(f"token:solana:{mint}", sym, name, _amount(rng, 100, 1e6, dec), dec, mint,
                                     self.name))  # fmt: skip
            return found
        assert chain in EVM_CHAINS
        found = [Balance(f"native:{chain}", symbol, symbol, _amount(rng, 0.5, 400, 18), 18, "", self.name)]
        for contract, (sym, name, dec) in TOKENS.items():
            if rng.random() < 0.8:
                found.append(Balance(f"token:{chain}:{contract}", sym, name, _amount(rng, 10, 5e5, dec), dec,
                                     contract, self.name))  # fmt: skip
        if rng.random() < 0.5:  # some wallets hold a token nobody prices: it is listed as unpriced
            contract, sym, name, dec = UNKNOWN
            found.append(Balance(f"token:{chain}:{contract}", sym, name, _amount(rng, 1, 1e4, dec), dec, contract,
                                 self.name))  # fmt: skip
        return found


def _level_key(asset: str) -> str | None:
    parts = asset.split(":", 2)
    if parts[0] == "native" and parts[1] in NATIVE:
        return NATIVE[parts[1]][1]
    if parts[0] == "token" and len(parts) == 3:
        if parts[2] == "vtho":
            return "vethor-token"
        known = TOKENS.get(parts[2].lower()) or SOLANA_TOKENS.get(parts[2])
        return known[0] if known else None
    return None


def simulated_usd(key: str, *, at: datetime, seed: int = 7) -> Decimal:
    """Return the simulated USD price of level ``key`` at ``at`` (constant within a 5-minute bucket)."""
    level, sigma = LEVELS[key]
    bucket = int(at.timestamp()) // BUCKET_S
    market = _rng(seed, "market", bucket).gauss(0, 1)
    own = _rng(seed, key, bucket).gauss(0, 1)
    shock = sigma * (0.6 * market + 0.8 * own) * 4  # a few buckets' worth of wander around the level
    return Decimal(str(round(level * math.exp(shock), 8 if level < 1 else 4)))


class SimulatedPriceProvider:
    name = "simulated"

    def __init__(self, *, seed: int = 7) -> None:
        self.seed = seed

    def prices(self, *, assets: list[str], now: datetime) -> dict[str, Price]:
        as_of = datetime.fromtimestamp(int(now.timestamp()) // BUCKET_S * BUCKET_S, UTC)
        found = {}
        for asset in assets:
            key = _level_key(asset)
            if key is not None:
                found[asset] = Price(asset, simulated_usd(key, at=now, seed=self.seed), self.name, as_of)
        return found
