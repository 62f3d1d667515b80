"""Load figures on loopback: HTTP requests/s with p50/p99 per page against a bare Django view, and websocket fan-out.

    .venv/bin/python bench/load.py [--quick] [--seconds S] [--concurrency C] [--json] [--ws-only]
        [--redis redis://127.0.0.1:6379/N]      (DATABASE_URL: on a fresh PostgreSQL database, dropped at exit)

Runs on a throw-away SQLite database in a temporary DREAMNET_HOME (never on your data), the demo catalog loaded.
Two topologies, started here and stopped at the end, each serving the same project:
- daphne: one daphne process for HTTP and websockets (what `manage.py serve` runs);
- production: HTTP through `uvicorn --workers N` (N = CPU cores), websockets through daphne.
For each, C keep-alive connections send requests for S seconds to each target in turn: the bare view
(`/bench/bare`, an HttpResponse("ok") mounted by bench/load_settings.py only), the catalog page (`/metals`),
a product page (`/metals/{sku}`), `/api/health` and a DreamSnail commit (POST /api/dreamsnail/commit, a fresh
digest each; its rate limit is lifted for the run). Each line prints req/s, p50 and p99, and the ratio of the
target's throughput to the bare view's in the same topology and run.
Fan-out: K websocket clients on /ws/status/ of the daphne process, one public event published; how many received
it within 1 s of the publish (K = 100, 300, 1000; 300 and 1000 with --quick). --redis runs the servers with
that Redis as channel layer and cache (publishers then send to the groups themselves; no relay polls the log);
--ws-only skips the HTTP part.
Each target gets a short warm-up that is not counted. --quick took 49 s on a busy 2-core machine; the default
runs 5 s per target and adds 1,000 clients, about 2 minutes. The load generator shares the machine's cores with the
servers: the figures are what one machine does with both, not a server's ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import add_arguments, emit_json, throwaway_database_url  # noqa: E402

SKU = "xau-bar-1oz-pamp"


def _setup(redis_url: str = "") -> dict[str, str]:
    home = tempfile.mkdtemp(prefix="dreamnet-load-")
    database_url = throwaway_database_url()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DREAMNET_", "DATABASE_URL", "REDIS_URL"))}
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    env |= {
        "DREAMNET_HOME": home,
        "DJANGO_SETTINGS_MODULE": "bench.load_settings",
        "PYTHONPATH": str(ROOT),
        "DREAMNET_MESH_CHECKPOINT_TIMER": "false",
        "DREAMNET_DREAMSNAIL_COMMIT_RATE": "1000000/m",
    }
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from commerce.demo import demo_catalog_load
    from commerce.services import spot_refresh

    call_command("migrate", verbosity=0)
    demo_catalog_load()
    spot_refresh()
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(argv: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/bare", timeout=2).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{argv[2]} exited while starting (code {proc.returncode})") from None
            time.sleep(0.3)
    raise SystemExit(f"{argv[2]} did not answer on port {port} within 60 s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# A minimal HTTP/1.1 keep-alive client: the standard library has no async one, and a heavy client would take
# CPU from the servers it measures.
async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


def _request(target: str, port: int) -> bytes:
    host = f"127.0.0.1:{port}"
    if target == "commit":
        body = json.dumps({"algorithm": "sha256", "digest": secrets.token_hex(32)}).encode()
        return (
            f"POST /api/dreamsnail/commit HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
    return f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


async def _load(port: int, target: str, seconds: float, concurrency: int) -> dict:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                writer.write(_request(target, port))
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                if status >= 400:
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "requests": len(latencies),
        "errors": errors,
    }


async def _fanout(port: int, clients: int) -> dict:
    """Connect ``clients`` websockets, publish one public event; say how many got it within 1 s, and when."""
    from asgiref.sync import sync_to_async
    from websockets.asyncio.client import connect
    from websockets.exceptions import WebSocketException

    import mesh

    async def joined():  # connected and subscribed (its first snapshot came), or None: not counted
        try:
            ws = await connect(f"ws://127.0.0.1:{port}/ws/status/", open_timeout=20, max_queue=None)
        except (OSError, TimeoutError, WebSocketException):
            return None
        try:
            await asyncio.wait_for(ws.recv(), 20)
        except (TimeoutError, WebSocketException):
            await ws.close()
            return None
        return ws

    sockets = []
    for start in range(0, clients, 50):  # in batches, so the handshakes do not all time out at once
        sockets += [ws for ws in await asyncio.gather(*(joined() for _ in range(min(50, clients - start)))) if ws]
    nonce = secrets.token_hex(8)
    published = time.perf_counter()
    await sync_to_async(mesh.publish)("status.bench", {"nonce": nonce})
    deadline = published + 10.0  # wait past the 1 s mark to say when the late ones got it

    async def arrival(ws) -> float | None:
        while (left := deadline - time.perf_counter()) > 0:
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), left))
            except TimeoutError:
                return None
            if message.get("type") == "event" and message["event"]["payload"].get("nonce") == nonce:
                return time.perf_counter() - published
        return None

    arrivals = await asyncio.gather(*(arrival(ws) for ws in sockets))
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    got = sorted(a for a in arrivals if a is not None)
    return {
        "connected": len(sockets),
        "within_1s": sum(a <= 1.0 for a in got),
        "p50_s": statistics.median(got) if got else None,
        "last_s": got[-1] if got else None,
        "missed": len(sockets) - len(got),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="about 30 s in all")
    parser.add_argument("--seconds", type=float, help="seconds per target and topology (default 5; 1.5 with --quick)")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections (default 16)")
    parser.add_argument("--redis", default="", metavar="URL", help="run the servers with this Redis (channel layer)")
    parser.add_argument("--ws-only", action="store_true", help="websocket fan-out only, no HTTP load")
    add_arguments(parser)
    args = parser.parse_args()
    seconds = args.seconds or (1.5 if args.quick else 5.0)
    fanout_sizes = [300, 1000] if args.quick else [100, 300, 1000]
    env = _setup(args.redis)
    database = "postgresql" if env.get("DATABASE_URL") else "sqlite"
    ratios: dict[str, float | int | None] = {}
    cores = os.cpu_count() or 1
    targets = [("bare view", "/bench/bare"), ("catalog /metals", "/metals"), ("product /metals/{sku}", f"/metals/{SKU}"),
               ("/api/health", "/api/health"), ("DreamSnail commit", "commit")]  # fmt: skip
    load = os.getloadavg()[0]
    print(
        f"{cores} CPU cores (load average {load:.1f} at the start); {args.concurrency} connections; {seconds:g} s per target; "
        f"{database}; channel layer {'Redis' if args.redis else 'in-memory'}; loopback"
    )
    daphne_port, uvicorn_port = _free_port(), _free_port()
    daphne = _start([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(daphne_port),
                     "dreamnet.asgi:application"], env, daphne_port)  # fmt: skip
    keys = {"bare view": "bare", "catalog /metals": "catalog", "product /metals/{sku}": "product_page",
            "/api/health": "health", "DreamSnail commit": "commit"}  # fmt: skip
    try:
        uvicorn = None if args.ws_only else _start([sys.executable, "-m", "uvicorn", "dreamnet.asgi:application",
                          "--host", "127.0.0.1", "--port", str(uvicorn_port), "--workers", str(cores),
                          "--no-access-log", "--lifespan", "off"], env, uvicorn_port)  # fmt: skip
        try:
            topologies = [
                ("daphne (1 process)", "daphne", daphne_port),
                (f"uvicorn --workers {cores}", "uvicorn", uvicorn_port),
            ]
            for topology, short, port in [] if args.ws_only else topologies:
                print(f"\n== HTTP through {topology}")
                print(f"{'target':24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs bare':>8} {'errors':>7}")
                bare = None
                for label, target in targets:
                    asyncio.run(_load(port, target, min(seconds, 0.5), args.concurrency))  # warm-up, not counted
                    row = asyncio.run(_load(port, target, seconds, args.concurrency))
                    bare = bare or row["rps"]
                    if keys[label] != "bare":
                        prefix = "" if short == "daphne" else "uvicorn_"
                        ratios[f"{prefix}{keys[label]}_vs_bare"] = row["rps"] / bare
                    print(f"{label:24} {row['rps']:9,.0f} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f} "
                          f"{row['rps'] / bare:7.2f}x {row['errors']:7d}")  # fmt: skip
        finally:
            if uvicorn is not None:
                _stop(uvicorn)
        print("\n== websocket fan-out through daphne: one public event, clients that got it within 1 s")
        for size in fanout_sizes:
            r = asyncio.run(_fanout(daphne_port, size))
            when = f"median {r['p50_s']:.2f} s, last {r['last_s']:.2f} s" if r["p50_s"] is not None else "none got it"
            print(f"{size:6d} clients: {r['connected']:5d} connected, {r['within_1s']:5d} got it within 1 s "
                  f"({when}; {r['missed']} not within 10 s)")  # fmt: skip
            ratios[f"ws_{size}_clients_share_within_1s"] = r["within_1s"] / size
            ratios[f"ws_{size}_clients_last_arrival_s"] = r["last_s"]
    finally:
        _stop(daphne)
    ratios["channel_layer"] = "redis" if args.redis else "in-memory"
    emit_json(args, database, ratios)


if __name__ == "__main__":
    main()
