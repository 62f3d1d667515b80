"""Shared personas and helpers.

alice (buyer) and bob (approver) belong to the same customer; charlie is an outsider; olivia is an operator
(staff). Apps add company memberships to these personas as they grow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

PASSWORD = "correct horse battery staple"


def pytest_sessionstart(session) -> None:
    """Remove SQLite write-ahead files an interrupted run left beside the test database: a fresh test database
    next to a stale WAL reads as corrupt."""
    from django.conf import settings

    name = str(settings.DATABASES["default"].get("TEST", {}).get("NAME") or "")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and name:
        for suffix in ("-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)


def _user(username: str, **extra):
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **extra
    )


@pytest.fixture(autouse=True)
def _isolated_node(settings, tmp_path):
    """Give each test its own DREAMNET_HOME (node identity, artifacts), no background checkpoint timer, fresh health
    probes on every read, and an empty cache (rate limits, sign-in lockouts and API-key failure counts must not leak between tests or runs) and price cache."""
    from django.core.cache import cache

    from agents.budget import price_cache_clear
    from mesh.identity import node_identity

    cache.clear()
    price_cache_clear()  # a price read in a rolled-back test must not outlive it
    settings.DREAMNET_HOME = tmp_path / "home"
    settings.DREAMNET_HOME.mkdir()
    settings.MESH_CHECKPOINT_TIMER = False
    # Every health read probes afresh, as a test that breaks a probe expects; tests of the 1 s snapshot set it back.
    settings.HEALTH_MAX_AGE_S = 0
    node_identity.cache_clear()
    yield
    node_identity.cache_clear()


@pytest.fixture
def alice(db):
    return _user("alice", first_name="Alice")


@pytest.fixture
def bob(db):
    return _user("bob", first_name="Bob")


@pytest.fixture
def charlie(db):
    return _user("charlie", first_name="Charlie")


@pytest.fixture
def olivia(db):
    return _user("olivia", first_name="Olivia", is_staff=True)


def subprocess_env(**extra: str) -> dict[str, str]:
    """Return an environment in which a child process uses this test run's database and channel layer."""
    import os

    from django.conf import settings
    from django.db import connection

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DREAMNET_SQLITE_PATH")}
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        env["DATABASE_URL"] = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        env["DREAMNET_SQLITE_PATH"] = str(db["NAME"])
    env |= {"DJANGO_SETTINGS_MODULE": "dreamnet.settings", "DREAMNET_HOME": str(settings.DREAMNET_HOME)}
    env["DREAMNET_MESH_CHECKPOINT_TIMER"] = "false"
    # The per-test home holds no key file of its own: pass the run's key so signed task payloads verify.
    env["SECRET_KEY"] = settings.SECRET_KEY
    return env | extra
