"""The mesh console page, identity commands and the mesh_log health probe."""

from __future__ import annotations

import json
import stat
from io import StringIO

import pytest
from django.core.management import call_command

import mesh
from mesh.identity import identity_dir, node_identity
from mesh.log import checkpoint_sign
from mesh.note import Verifier

pytestmark = pytest.mark.django_db


def test_mesh_init_creates_a_private_key_once():
    out = StringIO()
    call_command("mesh_init", stdout=out)
    assert "Created node identity" in out.getvalue()
    key_file = next(identity_dir().iterdir())
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    call_command("mesh_init", stdout=out)
    assert "Kept the existing node identity" in out.getvalue()


def test_mesh_whoami_prints_a_usable_verifier_key():
    mesh.publish("order.paid", {"n": 1})
    checkpoint_sign(force=True)
    out = StringIO()
    call_command("mesh_whoami", "--json", stdout=out)
    info = json.loads(out.getvalue())
    assert info["log_size"] == 1
    assert info["node_id"] == node_identity().node_id
    assert Verifier.from_key(info["verifier_key"]).name == info["origin"]
    assert info["checkpoint"].startswith(info["origin"] + "\n1\n")


def test_the_console_shows_events_and_verifies_an_entry(client, olivia):
    for i in range(3):
        mesh.publish("order.paid", {"n": i})
    checkpoint_sign(force=True)
    client.force_login(olivia)
    page = client.get("/console/mesh/").content.decode()
    assert "#2 order.paid" in page
    assert node_identity().verifier_key in page
    partial = client.get("/console/mesh/?index=1", headers={"HX-Request": "true", "HX-Target": "verify-entry"})
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="verify-entry">')
    assert "Entry 1 is in the signed log of size 3" in body
    missing = client.get("/console/mesh/?index=9", headers={"HX-Request": "true", "HX-Target": "verify-entry"})
    assert "The log has no entry 9" in missing.content.decode()


def test_the_console_is_staff_only(client, alice):
    client.force_login(alice)
    assert client.get("/console/mesh/").status_code == 302


def test_the_empty_console_says_so(client, olivia):
    client.force_login(olivia)
    page = client.get("/console/mesh/").content.decode()
    assert "No events yet" in page
    assert "No checkpoint yet" in page


def test_health_reports_the_log(client):
    mesh.publish("order.paid", {"n": 1})
    checkpoint_sign(force=True)
    probes = {p["name"]: p for p in client.get("/api/health").json()["probes"]}
    assert probes["mesh_log"]["ok"]
    assert probes["mesh_log"]["detail"] == "1 entries; checkpoint at size 1"


def test_health_flags_entries_left_without_a_checkpoint(client, tamper):
    from datetime import timedelta

    from django.utils import timezone

    from mesh.models import LogEntry

    mesh.publish("order.paid", {"n": 1})
    fresh = {p["name"]: p for p in client.get("/api/health").json()["probes"]}["mesh_log"]
    assert fresh["ok"]  # a second-old entry is simply waiting for the cadence
    tamper(LogEntry.objects.all(), created_at=timezone.now() - timedelta(minutes=5))
    stale = {p["name"]: p for p in client.get("/api/health").json()["probes"]}["mesh_log"]
    assert not stale["ok"]
    assert "waited 300 s for a checkpoint" in stale["detail"]
