"""Chain and price providers for the treasury (no Django): each reads balances or USD prices or raises ProviderError.

- ``simulated`` (default, offline): deterministic balances from the address and deterministic prices from the
  clock; labelled ``simulated`` wherever they show.
- ``alchemy``: EVM chains over Alchemy JSON-RPC (`eth_getBalance`, `alchemy_getTokenBalances`,
  `alchemy_getTokenMetadata`).
- ``helius``: Solana over Helius JSON-RPC (`getBalance`, `getTokenAccountsByOwner`).
- ``vechain``: VeChain Thor REST (`GET /accounts/{address}`: VET and VTHO).
- ``coingecko``: USD prices (`/simple/price`, `/simple/token_price/{platform}`).
"""

from __future__ import annotations

from treasury.providers.base import Balance, Price, ProviderError
from treasury.providers.chains import AlchemyProvider, HeliusProvider, VechainThorProvider
from treasury.providers.prices import CoinGeckoProvider
from treasury.providers.simulated import SimulatedChainProvider, SimulatedPriceProvider

__all__ = [
    "AlchemyProvider",
    "Balance",
    "CoinGeckoProvider",
    "HeliusProvider",
    "Price",
    "ProviderError",
    "SimulatedChainProvider",
    "SimulatedPriceProvider",
    "VechainThorProvider",
]
