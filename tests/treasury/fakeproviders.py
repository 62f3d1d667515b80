"""Local fake providers that speak each real protocol, for the tests and bench/treasury.py.

One threaded HTTP server answers as:
- Alchemy: ``POST /{network}/v2/{key}`` JSON-RPC 2.0 (`eth_getBalance`, `alchemy_getTokenBalances` with
  `pageKey` paging, `alchemy_getTokenMetadata`), error objects for unknown methods and bad params, 401 for a
  wrong key;
- Helius: ``POST /?api-key=KEY`` JSON-RPC 2.0 (`getBalance`, `getTokenAccountsByOwner` in `jsonParsed` form);
- VeChain Thor: ``GET /accounts/{address}`` (`balance`, `energy` as hex);
- CoinGecko: ``GET /api/v3/simple/price`` and ``/api/v3/simple/token_price/{platform}`` with
  `include_last_updated_at`, and its rate-limit body on 429.

Faults are queued per provider (``fail("alchemy", "429", "malformed")``): each request consumes one. ``429``
answers with ``Retry-After: 0``; ``500``; ``malformed`` cuts the JSON short; ``slow`` sleeps past the client's
timeout; ``rpc_error`` answers a JSON-RPC error object; ``nan`` (CoinGecko) prices everything NaN.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

DOCS = json.loads((Path(__file__).parent / "fixtures" / "provider_docs.json").read_text())
ALCHEMY_KEY = "alchemy-test-key"
HELIUS_KEY = "helius-test-key"
PAGE = 100


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):  # a client that timed out and hung up (the "slow" fault)
            return
        super().handle_error(request, client_address)


class FakeProviders:
    def __init__(self) -> None:
        self.evm: dict[str, dict] = {}  # lower-case address → {"wei": int, "tokens": {contract: raw}}
        self.meta: dict[str, dict] = {c: dict(v["result"]) for c, v in DOCS["alchemy_getTokenMetadata"].items()}
        self.solana: dict[str, dict] = {}  # address → {"lamports": int, "tokens": {mint: (raw, decimals)}}
        self.vechain: dict[str, dict] = {}  # lower-case address → {"vet": int, "vtho": int}
        self.coins: dict[str, float | str] = {"ethereum": 3403.12, "solana": 187.41, "vechain": 0.0423,
                                              "vethor-token": 0.0029}  # fmt: skip
        self.tokens: dict[tuple[str, str], float | str] = {
            ("ethereum", "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"): 0.999891,
            ("ethereum", "0x514910771af9ca656af840dff83e8264ecf986ca"): 21.07,
            ("solana", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"): 1.0,
        }
        self.updated_at: int | None = None  # CoinGecko's last_updated_at; None means "now"
        self.faults: dict[str, deque] = defaultdict(deque)
        self.requests: list[tuple[str, str, dict | None]] = []  # (provider, method or path, body)
        self.delay_s = 0.0
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeProviders:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, provider: str, *modes: str) -> None:
        self.faults[provider].extend(modes)

    def take_fault(self, provider: str) -> str | None:
        with self.lock:
            return self.faults[provider].popleft() if self.faults[provider] else None

    def count(self, provider: str) -> int:
        return sum(1 for p, _, _ in self.requests if p == provider)


def _handler(fake: FakeProviders):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would hold the second

        def log_message(self, *args) -> None:
            return None

        def _send(self, status: int, body, headers: dict | None = None) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _fault(self, provider: str, rpc_id=None) -> bool:
            mode = fake.take_fault(provider)
            if mode is None:
                return False
            if mode == "429":
                body = DOCS["coingecko_rate_limited"] if provider == "coingecko" else {
                    "jsonrpc": "2.0", "id": rpc_id, "error": {"code": 429, "message": "Your app has exceeded its compute units per second capacity."}}  # fmt: skip
                self._send(429, body, {"Retry-After": "0"})
            elif mode == "500":
                self._send(500, {"error": "internal"})
            elif mode == "malformed":
                self._send(200, b'{"jsonrpc": "2.0", "id": 1, "resu')
            elif mode == "slow":
                time.sleep(1.5)
                self._send(200, {"jsonrpc": "2.0", "id": rpc_id, "result": "0x0"})
            elif mode == "rpc_error":
                self._send(200, {**DOCS["jsonrpc_invalid_params"], "id": rpc_id})
            else:
                fake.faults[provider].appendleft(mode)  # a data fault (nan): the handler applies it
                return False
            return True

        def do_POST(self) -> None:
            if fake.delay_s:
                time.sleep(fake.delay_s)
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length))
            except ValueError:
                self._send(400, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
                return
            alchemy = re.fullmatch(r"/([a-z-]+)/v2/([^/]+)", parts.path)
            provider = "alchemy" if alchemy else "helius"
            fake.requests.append((provider, body.get("method", "?"), body))
            if body.get("jsonrpc") != "2.0" or "id" not in body or not isinstance(body.get("params"), list):
                self._send(400, {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request"}})
                return
            if alchemy and alchemy.group(2) != ALCHEMY_KEY:
                self._send(401, {"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32600, "message": "Must be authenticated!"}})  # fmt: skip
                return
            if not alchemy and parse_qs(parts.query).get("api-key") != [HELIUS_KEY]:
                self._send(401, {"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32401, "message": "invalid api key provided"}})  # fmt: skip
                return
            if self._fault(provider, body["id"]):
                return
            try:
                result = (self._alchemy if alchemy else self._helius)(body["method"], body["params"])
            except LookupError as exc:
                self._send(200, {"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32602, "message": str(exc)}})
                return
            if result is NotImplemented:
                self._send(200, {"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32601, "message": "Method not found"}})  # fmt: skip
                return
            self._send(200, {"jsonrpc": "2.0", "id": body["id"], "result": result})

        def _alchemy(self, method: str, params: list):
            if method == "eth_getBalance":
                wallet = fake.evm.get(str(params[0]).lower())
                return hex(wallet["wei"] if wallet else 0)
            if method == "alchemy_getTokenBalances":
                address = str(params[0]).lower()
                if not re.fullmatch(r"0x[0-9a-f]{40}", address):
                    raise LookupError("invalid 1st argument: address value was not valid hexadecimal")
                tokens = sorted((fake.evm.get(address) or {"tokens": {}})["tokens"].items())
                start = int(params[2]["pageKey"]) if len(params) > 2 else 0
                page = tokens[start : start + PAGE]
                result = {"address": address, "tokenBalances": [
                    {"contractAddress": c, "tokenBalance": "0x" + format(raw, "064x")} for c, raw in page]}  # fmt: skip
                if start + PAGE < len(tokens):
                    result["pageKey"] = str(start + PAGE)
                return result
            if method == "alchemy_getTokenMetadata":
                meta = fake.meta.get(str(params[0]).lower())
                return meta or {"decimals": None, "logo": None, "name": None, "symbol": None}
            return NotImplemented

        def _helius(self, method: str, params: list):
            wallet = fake.solana.get(str(params[0])) if params else None
            if method == "getBalance":
                return {"context": {"slot": 1, "apiVersion": "2.0.15"}, "value": wallet["lamports"] if wallet else 0}
            if method == "getTokenAccountsByOwner":
                template = DOCS["helius_getTokenAccountsByOwner"]["result"]["value"][0]
                rows = []
                for mint, (raw, decimals) in (wallet or {"tokens": {}})["tokens"].items():
                    row = json.loads(json.dumps(template))
                    info = row["account"]["data"]["parsed"]["info"]
                    info.update(mint=mint, owner=params[0])
                    info["tokenAmount"] = {"amount": str(raw), "decimals": decimals, "uiAmountString": "0"}
                    rows.append(row)
                return {"context": {"slot": 1, "apiVersion": "2.0.15"}, "value": rows}
            return NotImplemented

        def do_GET(self) -> None:
            if fake.delay_s:
                time.sleep(fake.delay_s)
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path.startswith("/accounts/"):
                fake.requests.append(("vechain", parts.path, None))
                if self._fault("vechain"):
                    return
                address = parts.path.rsplit("/", 1)[1].lower()
                if not re.fullmatch(r"0x[0-9a-f]{40}", address):
                    self._send(400, b"invalid address")
                    return
                wallet = fake.vechain.get(address, {"vet": 0, "vtho": 0})
                self._send(200, {"balance": hex(wallet["vet"]), "energy": hex(wallet["vtho"]), "hasCode": False})
                return
            if parts.path.startswith("/api/v3/simple/"):
                fake.requests.append(("coingecko", parts.path, query))
                if self._fault("coingecko"):
                    return
                nan = fake.take_fault("coingecko") == "nan"
                stamp = fake.updated_at or int(time.time())
                if query.get("vs_currencies") != "usd":
                    self._send(400, {"error": "Missing parameter vs_currencies"})
                    return
                if parts.path == "/api/v3/simple/price":
                    ids = query.get("ids", "").split(",")
                    body = {i: {"usd": fake.coins[i], "last_updated_at": stamp} for i in ids if i in fake.coins}
                else:
                    platform = parts.path.rsplit("/", 1)[1]
                    wanted = query.get("contract_addresses", "").split(",")
                    known = {c.lower(): p for (pl, c), p in fake.tokens.items() if pl == platform}
                    body = {
                        c: {"usd": known[c.lower()], "last_updated_at": stamp} for c in wanted if c.lower() in known
                    }
                data = json.dumps(body).encode()
                if nan:
                    data = re.sub(rb'"usd": [0-9.e+-]+', b'"usd": NaN', data)
                self._send(200, data)
                return
            self._send(404, {"error": "not found"})

    return Handler
