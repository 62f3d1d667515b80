"""Backup and restore as docs/operations.md describes it: `pg_dump -Fc` of the database and a copy of
DREAMNET_HOME's identity key; restored into a fresh database, `manage.py mesh_audit` passes. Without the key the
checkpoints no longer verify, which is why the key is part of the backup."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

import mesh
from mesh.identity import KEY_FILE, identity_dir
from mesh.log import checkpoint_sign
from mesh.models import LogEntry
from tests.conftest import subprocess_env

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="backup/restore is pg_dump/pg_restore: set DATABASE_URL=postgres://… (CI's second pass)",
    ),
    pytest.mark.skipif(
        not shutil.which("pg_dump"), reason="pg_dump and pg_restore (PostgreSQL client tools) are not installed"
    ),
    pytest.mark.django_db(transaction=True),
]
ROOT = Path(__file__).resolve().parents[2]


def _pg(db: dict) -> tuple[list[str], dict[str, str]]:
    args = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]
    env = os.environ | ({"PGPASSWORD": db["PASSWORD"]} if db["PASSWORD"] else {})
    return args, env


def _audit(database_url: str, home: Path) -> subprocess.CompletedProcess:
    env = subprocess_env(DATABASE_URL=database_url, DREAMNET_HOME=str(home))
    return subprocess.run(
        [sys.executable, "manage.py", "mesh_audit"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_dump_restored_into_a_fresh_database_passes_the_audit(tmp_path):
    for n in range(5):
        mesh.publish("order.paid", {"number": f"PSD-{n}", "total": "2450.10"})
    now = timezone.now()
    mesh.receipt_issue(operation="backup.test", subject="t", inputs={}, outputs={"n": 5}, started=now,
                       finished=now, status="succeeded", cost=Decimal(0))  # fmt: skip
    assert checkpoint_sign(force=True) is not None
    db = connection.settings_dict
    pg, env = _pg(db)
    dump = tmp_path / "dreamnet.dump"
    subprocess.run(["pg_dump", *pg, "-Fc", "-f", str(dump), db["NAME"]], env=env, check=True, timeout=120)
    # DREAMNET_HOME's part of the backup: the identity key (mode 0600 kept) and the artifacts.
    home = tmp_path / "restored-home"
    (home / "identity").mkdir(parents=True)
    shutil.copy2(identity_dir() / KEY_FILE, home / "identity" / KEY_FILE)
    assert (home / "identity" / KEY_FILE).stat().st_mode & 0o777 == 0o600

    restored = f"{db['NAME']}_restore_{secrets.token_hex(3)}"
    subprocess.run(["createdb", *pg, restored], env=env, check=True, timeout=60)
    try:
        subprocess.run(["pg_restore", *pg, "--no-owner", "-d", restored, str(dump)], env=env, check=True, timeout=120)
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{restored}"

        audit = _audit(url, home)
        assert audit.returncode == 0, audit.stderr
        assert LogEntry.objects.count() == 6  # five events and a receipt
        assert "Log intact: 6 entries and 1 checkpoints verified." in audit.stdout

        # Restored without the identity key, the node makes a new one and its checkpoints no longer verify.
        keyless = _audit(url, tmp_path / "fresh-home")
        assert keyless.returncode != 0
        assert "signature check failed" in keyless.stderr
    finally:
        subprocess.run(["dropdb", *pg, "--force", restored], env=env, check=True, timeout=60)
