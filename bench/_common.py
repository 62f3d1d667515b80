"""What every benchmark shares: the throw-away database (SQLite, or PostgreSQL when DATABASE_URL is set) and --json.

With DATABASE_URL set (a PostgreSQL server the bench may create databases on), a bench creates a fresh database
``<name>_bench_<random>`` on that server, runs there, and drops it at exit: it never touches the database the URL
names. Without it, the bench runs on SQLite in its temporary DREAMNET_HOME. ``--json`` makes the last line of the
output one JSON object of ratios with self-explaining keys (``*_vs_*``: a throughput ratio unless the key says
``cost``), for CI and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import secrets
from urllib.parse import urlsplit, urlunsplit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="end with one line: a JSON object of the ratios (and the database used)"
    )


def throwaway_database_url() -> str:
    """Return the DATABASE_URL of a fresh PostgreSQL database dropped at exit, or "" for SQLite (no DATABASE_URL)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return ""
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'dreamnet'}_bench_{secrets.token_hex(4)}"
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))  # the server's maintenance database
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as exc:  # the bench's figures are printed already; say what is left behind
            print(f"could not drop the bench database {name}: {exc}")

    atexit.register(drop)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_env(env: dict[str, str] | None = None) -> str:
    """Point ``env`` (os.environ by default) at the bench's throw-away database; return "sqlite" or "postgresql"."""
    env = os.environ if env is None else env
    url = throwaway_database_url()
    for name in ("DATABASE_URL", "DREAMNET_SQLITE_PATH"):
        env.pop(name, None)
    if url:
        env["DATABASE_URL"] = url
        return "postgresql"
    return "sqlite"


def emit_json(args: argparse.Namespace, database: str, ratios: dict[str, float | int | None]) -> None:
    if args.json:
        rounded = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in ratios.items()}
        print(json.dumps({"database": database, **rounded}, sort_keys=False))
