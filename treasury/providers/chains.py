"""Real chain adapters: Alchemy (EVM), Helius (Solana), VeChain Thor. Every failure is a ProviderError."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from treasury.addresses import EVM_CHAINS, NATIVE
from treasury.providers.base import Balance, HttpClient, JsonRpc, ProviderError, hex_int, scaled

SPL_TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGpPXrWuFJ5PDkQ6tgf5SZqDYvAS"  # noqa: S105 (the SPL Token program id)
MAX_TOKEN_PAGES = 10  # alchemy_getTokenBalances pages of 100: a 1,000-token wallet is read whole


class AlchemyProvider:
    """EVM balances over Alchemy JSON-RPC at ``url_template.format(network=...)`` + ``/{api_key}``.

    ``eth_getBalance`` gives the native coin in wei; ``alchemy_getTokenBalances(address, "erc20")`` the ERC-20
    balances (paged by ``pageKey``); ``alchemy_getTokenMetadata(contract)`` each token's symbol and decimals.
    Zero balances are skipped. A token whose metadata has no usable decimals is listed with its problem.
    """

    name = "alchemy"
    families = ("evm",)

    def __init__(self, *, api_key: str, url_template: str, http: HttpClient | None = None) -> None:
        self.api_key, self.url_template = api_key, url_template
        self.http = http or HttpClient(provider=self.name)
        self._metadata: dict[tuple[str, str], dict] = {}

    def _rpc(self, chain: str) -> JsonRpc:
        base = self.url_template.format(network=EVM_CHAINS[chain]).rstrip("/")
        return JsonRpc(self.http, f"{base}/{self.api_key}")

    def balances(self, *, chain: str, address: str) -> list[Balance]:
        rpc = self._rpc(chain)
        symbol, _ = NATIVE[chain]
        wei = hex_int(rpc.call("eth_getBalance", [address, "latest"]), provider=self.name, what="eth_getBalance")
        found = [Balance(f"native:{chain}", symbol, symbol, Decimal(wei).scaleb(-18), 18, "", self.name)]
        page_key = None
        for _ in range(MAX_TOKEN_PAGES):
            params: list[Any] = [address, "erc20"] + ([{"pageKey": page_key}] if page_key else [])
            result = rpc.call("alchemy_getTokenBalances", params)
            if not isinstance(result, dict) or not isinstance(result.get("tokenBalances"), list):
                raise ProviderError(f"{self.name}: alchemy_getTokenBalances answered without tokenBalances")
            for row in result["tokenBalances"]:
                if not isinstance(row, dict) or row.get("error"):
                    continue
                contract = str(row.get("contractAddress", "")).lower()
                raw = hex_int(row.get("tokenBalance"), provider=self.name, what=f"tokenBalance of {contract}")
                if raw:
                    found.append(self._token(rpc, chain, contract, raw))
            page_key = result.get("pageKey")
            if not page_key:
                break
        return found

    def _token(self, rpc: JsonRpc, chain: str, contract: str, raw: int) -> Balance:
        meta = self._metadata.get((chain, contract))
        if meta is None:
            meta = rpc.call("alchemy_getTokenMetadata", [contract])
            if not isinstance(meta, dict):
                raise ProviderError(f"{self.name}: alchemy_getTokenMetadata({contract}) is not an object")
            self._metadata[(chain, contract)] = meta
        symbol = str(meta.get("symbol") or "?")[:32]
        quantity, decimals, problem = scaled(raw, meta.get("decimals"), what=symbol)
        return Balance(f"token:{chain}:{contract}", symbol, str(meta.get("name") or symbol)[:80], quantity, decimals,
                       contract, self.name, problem)  # fmt: skip


class HeliusProvider:
    """Solana balances over Helius JSON-RPC at ``{url}/?api-key=KEY``.

    ``getBalance`` gives lamports (9 decimals); ``getTokenAccountsByOwner`` with the SPL Token program and
    ``jsonParsed`` encoding gives each token account's mint, raw amount and decimals.
    """

    name = "helius"
    families = ("solana",)

    def __init__(self, *, api_key: str, url: str, http: HttpClient | None = None) -> None:
        self.api_key, self.url = api_key, url.rstrip("/")
        self.http = http or HttpClient(provider=self.name)

    def balances(self, *, chain: str, address: str) -> list[Balance]:
        rpc = JsonRpc(self.http, f"{self.url}/?api-key={self.api_key}")
        result = rpc.call("getBalance", [address])
        lamports = result.get("value") if isinstance(result, dict) else None
        if isinstance(lamports, bool) or not isinstance(lamports, int) or lamports < 0:
            raise ProviderError(f"{self.name}: getBalance answered no lamport count")
        found = [Balance("native:solana", "SOL", "Solana", Decimal(lamports).scaleb(-9), 9, "", self.name)]
        accounts = rpc.call(
            "getTokenAccountsByOwner", [address, {"programId": SPL_TOKEN_PROGRAM}, {"encoding": "jsonParsed"}]
        )
        rows = accounts.get("value") if isinstance(accounts, dict) else None
        if not isinstance(rows, list):
            raise ProviderError(f"{self.name}: getTokenAccountsByOwner answered no account list")
        held: dict[str, tuple[int, Any]] = {}
        for row in rows:
            try:
                info = row["account"]["data"]["parsed"]["info"]
                mint, amount = str(info["mint"]), info["tokenAmount"]
                raw, decimals = int(amount["amount"]), amount["decimals"]
            except (KeyError, TypeError, ValueError):
                raise ProviderError(f"{self.name}: a token account is not in jsonParsed form") from None
            if raw:
                total, _ = held.get(mint, (0, decimals))
                held[mint] = (total + raw, decimals)
        for mint, (raw, decimals) in sorted(held.items()):
            symbol = mint[:4] + "…" + mint[-4:]
            quantity, decimals, problem = scaled(raw, decimals, what=symbol)
            found.append(Balance(f"token:solana:{mint}", symbol, f"SPL token {mint}", quantity, decimals, mint,
                                 self.name, problem))  # fmt: skip
        return found


class VechainThorProvider:
    """VeChain balances over Thor REST: ``GET {url}/accounts/{address}`` → ``balance`` (VET) and ``energy`` (VTHO),
    hex amounts with 18 decimals."""

    name = "vechain"
    families = ("vechain",)

    def __init__(self, *, url: str, http: HttpClient | None = None) -> None:
        self.url = url.rstrip("/")
        self.http = http or HttpClient(provider=self.name)

    def balances(self, *, chain: str, address: str) -> list[Balance]:
        body = self.http.request("GET", f"{self.url}/accounts/{address}")
        if not isinstance(body, dict):
            raise ProviderError(f"{self.name}: /accounts answered {type(body).__name__}, not an object")
        vet = hex_int(body.get("balance"), provider=self.name, what="balance")
        vtho = hex_int(body.get("energy"), provider=self.name, what="energy")
        return [
            Balance("native:vechain", "VET", "VeChain", Decimal(vet).scaleb(-18), 18, "", self.name),
            Balance("token:vechain:vtho", "VTHO", "VeThor", Decimal(vtho).scaleb(-18), 18, "", self.name),
        ]
