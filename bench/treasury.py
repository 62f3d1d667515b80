"""Treasury benchmark: a snapshot of 100 wallets × 20 tokens against the local fake providers.

    .venv/bin/python bench/treasury.py [--wallets 100] [--tokens 20] [--rounds 3]

A throw-away SQLite database (with DATABASE_URL: a fresh PostgreSQL database on that server, dropped at exit; --json
ends with a line of ratios), the fake Alchemy and CoinGecko servers of the test suite (tests/treasury/
fakeproviders.py, real HTTP on 127.0.0.1), and the treasury configured to read them. Each round values a company
watching ``--wallets`` EVM wallets holding ETH and ``--tokens`` ERC-20 tokens each: per wallet the adapter makes
`eth_getBalance` and `alchemy_getTokenBalances` (token metadata is read once per token per snapshot), prices come in
batches, then the lines, the receipt and the event are written. The reference, measured in the same run against the
same server, is one bare `httpx` JSON-RPC call (`eth_getBalance` on a kept-alive client): the ratio says how many
bare calls one wallet costs, end to end.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import add_arguments, database_env, emit_json  # noqa: E402


def _setup() -> str:
    os.environ |= {
        "DREAMNET_HOME": tempfile.mkdtemp(prefix="dreamnet-bench-"),
        "DJANGO_SETTINGS_MODULE": "dreamnet.settings",
        "DREAMNET_MESH_CHECKPOINT_TIMER": "false",
    }
    os.environ.pop("REDIS_URL", None)
    database = database_env()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return database


def _bare_call_ms(url: str, address: str, calls: int = 300) -> float:
    import httpx2 as httpx

    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": [address, "latest"]}
    with httpx.Client(timeout=5) as client:
        for _ in range(20):
            client.post(url, json=body).raise_for_status()
        started = time.perf_counter()
        for _ in range(calls):
            client.post(url, json=body).json()
        return (time.perf_counter() - started) / calls * 1000


def _serve(conn, contracts: list[str], addresses: list[str]) -> None:
    from tests.treasury.fakeproviders import FakeProviders

    fake = FakeProviders()
    for i, contract in enumerate(contracts):
        fake.meta[contract] = {"decimals": 18 if i % 2 else 6, "name": f"Token {i}", "symbol": f"T{i}", "logo": None}
        fake.tokens[("ethereum", contract)] = 1.0 + i
    for w, address in enumerate(addresses):
        fake.evm[address] = {"wei": (w + 1) * 10**17, "tokens": dict.fromkeys(contracts, (w + 1) * 10**6)}
    conn.send(fake.url)
    fake.server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wallets", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20 wallets x 5 tokens, 2 rounds")
    add_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.wallets, args.tokens, args.rounds = 20, 5, 2
    database = _setup()
    print(f"database: {database}")
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one log line per request would be measured too
    from django.conf import settings

    from commerce.services import company_create
    from tests.treasury.fakeproviders import ALCHEMY_KEY
    from treasury.models import Wallet
    from treasury.services import snapshot_request, snapshot_run

    contracts = [f"0x{0xC0FFEE000000 + i:040x}" for i in range(args.tokens)]
    addresses = [f"0x{0xBEEF0000 + w:040x}" for w in range(args.wallets)]
    # The fake serves from its own process, so its request handling does not compete with the snapshot for the GIL.
    parent, child = multiprocessing.get_context("fork").Pipe()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(child, contracts, addresses), daemon=True)
    server.start()
    url = parent.recv()
    try:
        company = company_create(slug="bench", name="Bench Treasury", verified=True)
        for w, address in enumerate(addresses):
            Wallet.objects.create(company=company, chain="ethereum", address=address, label=f"W{w}")
        settings.TREASURY_SOURCES = ["alchemy", "coingecko"]
        settings.ALCHEMY_API_KEY, settings.ALCHEMY_URL = ALCHEMY_KEY, url + "/{network}/v2"
        settings.COINGECKO_URL = url
        bare_ms = _bare_call_ms(f"{url}/eth-mainnet/v2/{ALCHEMY_KEY}", addresses[0])
        per_wallet = []
        for _ in range(args.rounds):
            snapshot = snapshot_request(company=company)
            started = time.perf_counter()
            snapshot = snapshot_run(snapshot=snapshot)
            elapsed = time.perf_counter() - started
            assert snapshot.status == "done", snapshot.error
            lines = snapshot.holdings.count()
            assert lines == args.wallets * (args.tokens + 1), lines
            per_wallet.append(elapsed / args.wallets * 1000)
        wallet_ms = statistics.median(per_wallet)
        print(f"reference: bare httpx eth_getBalance call    {bare_ms:8.3f} ms")
        print(f"snapshot of {args.wallets} wallets x {args.tokens} tokens       "
              f"{wallet_ms * args.wallets / 1000:8.3f} s  ({lines} lines)")  # fmt: skip
        print(f"per wallet (median of {args.rounds} rounds)              {wallet_ms:8.3f} ms   "
              f"{wallet_ms / bare_ms:5.1f}x the bare call")  # fmt: skip
        emit_json(args, database, {"wallet_cost_vs_bare_call": wallet_ms / bare_ms})
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
