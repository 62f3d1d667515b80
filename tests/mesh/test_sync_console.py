"""The operator's /console/sync/ page: portals live, open (key shown once), join, close; outsiders refused."""

from __future__ import annotations

import nacl.signing
import pytest
from django.utils import timezone

from mesh.models import Peer, Portal, SyncTransfer
from mesh.note import Signer
from mesh.sync.portals import portal_open, transfer_record

pytestmark = pytest.mark.django_db


def test_olivia_opens_a_portal_and_sees_its_key_once(client, olivia, tmp_path):
    client.force_login(olivia)
    response = client.post(
        "/console/sync/", {"action": "open", "open-path": str(tmp_path / "plans"), "open-name": "plans"}
    )
    assert response.status_code == 200
    portal = Portal.objects.get(name="plans")
    assert f"dnportal1.{portal.portal_id}." in response.content.decode()
    assert f"dnportal1.{portal.portal_id}." not in client.get("/console/sync/").content.decode()


def test_a_bad_folder_is_a_form_error(client, olivia, tmp_path, settings):
    client.force_login(olivia)
    response = client.post("/console/sync/", {"action": "open", "open-path": str(settings.DREAMNET_HOME / "x")})
    assert response.status_code == 422 and "inside DREAMNET_HOME" in response.content.decode()
    (tmp_path / "file.txt").write_text("x")
    response = client.post("/console/sync/", {"action": "open", "open-path": str(tmp_path / "file.txt")})
    assert response.status_code == 422 and "is a file" in response.content.decode()


def test_joining_checks_the_key_against_the_peer(client, olivia, tmp_path):
    key = nacl.signing.SigningKey(b"\x09" * 32)
    peer = Peer.objects.create(url="http://127.0.0.1:9", origin="p.test", pinned_via="operator", score=50.0,
                               verifier_key=Signer("p.test", key).verifier_key, score_at=timezone.now())  # fmt: skip
    client.force_login(olivia)
    wrong = client.post("/console/sync/", {"action": "connect", "connect-key": f"dnportal1.{'a' * 32}.{'b' * 64}.{'c' * 64}",
                                           "connect-peer": peer.pk, "connect-path": str(tmp_path / "j")})  # fmt: skip
    assert wrong.status_code == 422 and "opened by another node" in wrong.content.decode()
    good = client.post("/console/sync/", {"action": "connect", "connect-peer": peer.pk, "connect-path": str(tmp_path / "j"),
                                          "connect-key": f"dnportal1.{'a' * 32}.{'b' * 64}.{bytes(key.verify_key).hex()}"})  # fmt: skip
    assert good.status_code == 302 and Portal.objects.get(role="joiner").peer == peer


def test_the_live_table_shows_progress_and_transfers_and_close_works(client, olivia, tmp_path):
    portal = portal_open(path=tmp_path / "live", name="live")
    transfer_record(kind="portal", direction="in", peer_key=b"\x01" * 32, manifest="f" * 64, files=2, chunks=3,
                    bytes_moved=4096, conflicts=1, portal_id=portal.pk)  # fmt: skip
    Portal.objects.filter(pk=portal.pk).update(progress_done=512, progress_total=2048, connected=True)
    client.force_login(olivia)
    part = client.get("/console/sync/", headers={"HX-Request": "true", "HX-Target": "portal-table"})
    html = part.content.decode()
    assert part.status_code == 200 and html.lstrip().startswith('<section id="portal-table"')
    assert 'value="512"' in html and "ffffffffffffffff" in html
    assert SyncTransfer.objects.get().receipt is not None
    assert client.post(f"/console/sync/{portal.portal_id}/close/").status_code == 302
    assert Portal.objects.get(pk=portal.pk).state == "closed"


def test_charlie_is_refused(client, charlie):
    client.force_login(charlie)
    assert client.get("/console/sync/").status_code in (302, 403)


def test_signals_are_listed(client, olivia, tmp_path):
    from mesh.sync.signals import signal_open

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_text("a")
    signal = signal_open(path=tmp_path / "out", name="news")
    assert signal.last_seq == 1 and signal.last_digest
    client.force_login(olivia)
    html = client.get("/console/sync/").content.decode()
    assert f'data-signal="{signal.signal_id}"' in html and "#1" in html
    from django.contrib import admin

    from mesh.models import Signal, SyncTransfer

    assert all(admin.site.is_registered(m) for m in (Portal, Signal, SyncTransfer))


def test_a_quarantined_peer_is_not_admitted_to_the_channel():
    from mesh.sync.portals import admitted_peer_keys

    key = nacl.signing.SigningKey(b"\x0a" * 32)
    peer = Peer.objects.create(url="http://127.0.0.1:7", origin="q.test", pinned_via="operator", score=50.0,
                               verifier_key=Signer("q.test", key).verifier_key, score_at=timezone.now())  # fmt: skip
    assert bytes(key.verify_key) in admitted_peer_keys()
    Peer.objects.filter(pk=peer.pk).update(state="quarantined", score=0)
    assert bytes(key.verify_key) not in admitted_peer_keys()
