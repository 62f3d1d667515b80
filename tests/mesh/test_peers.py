"""Mesh peers: registration with a pinned key, heartbeats that verify signatures and consistency, fork
detection with evidence, trust that decays, the tlog-witness endpoint, the console, and two real nodes."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nacl.signing
import pytest
from django.utils import timezone
from django.utils.module_loading import import_string

from mesh import merkle
from mesh.identity import node_identity
from mesh.log import checkpoint_sign
from mesh.models import Cosignature, Event, Peer, PeerHeartbeat, PeerStateChange
from mesh.note import Checkpoint, Signer, Verifier, open_checkpoint, parse_note, verify_note
from mesh.peers.services import (
    peer_heartbeat,
    peer_push,
    peer_register,
    peer_score_now,
    peers_heartbeat_round,
)
from mesh.peers.witness import cosign, format_add_checkpoint, parse_add_checkpoint, verify_cosignature

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
WITNESS = "/api/mesh/witness/add-checkpoint"


class FakeNode:
    """A DreamNet-shaped log on loopback: /api/mesh/node, /checkpoint, /proof/consistency and a witness endpoint,
    served from an in-memory Merkle tree signed with its own key, with switches to misbehave."""

    def __init__(self, name: str = "peer.test/log") -> None:
        self.name = name
        self.signer = Signer(name, nacl.signing.SigningKey.generate())
        self.entries: list[bytes] = []
        self.tree = merkle.MemoryTree()
        self.note: str | None = None
        self.mode = "ok"  # ok | down (503) | garbage (200 with junk) | forged (signed by another key)
        self.witnessed: tuple[int, bytes] = (0, merkle.EMPTY_ROOT)  # our log, as this fake witness last saw it
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def verifier_key(self) -> str:
        return self.signer.verifier_key

    def append(self, count: int) -> None:
        for _ in range(count):
            entry = json.dumps({"n": len(self.entries)}).encode()
            self.entries.append(entry)
            self.tree.append(entry)

    def sign(self) -> str:
        body = Checkpoint(self.name, self.tree.size, merkle.root(self.tree.size, self.tree))
        self.note = self.signer.sign(body.to_text())
        return self.note

    def rewrite(self, index: int, *, extra: int = 0) -> None:
        """Rebuild the log with entry ``index`` edited (plus ``extra`` new entries) and sign it again."""
        self.entries[index] = b'{"n": "edited"}'
        self.tree = merkle.MemoryTree(self.entries)
        self.append(extra)
        self.sign()

    def push_body(self, old: int, *, proof: list[bytes] | None = None) -> bytes:
        if proof is None:
            proof = merkle.consistency_proof(old, self.tree.size, self.tree) if 0 < old < self.tree.size else []
        return format_add_checkpoint(old=old, proof=proof, note=self.note)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        node = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                node.requests.append(self.path)
                if node.mode == "down":
                    return self._send(503, b'{"detail": "maintenance"}')
                if node.mode == "garbage":
                    return self._send(200, b"<html>hello</html>", "text/html")
                if parts.path == "/api/mesh/node":
                    data = {"node_id": "fake", "origin": node.name, "verifier_key": node.verifier_key,
                            "log_size": node.tree.size, "checkpoint_size": None}  # fmt: skip
                    return self._send(200, json.dumps(data).encode())
                if parts.path == "/api/mesh/checkpoint":
                    if node.note is None:
                        return self._send(404, b'{"detail": "No checkpoint yet", "code": "no_checkpoint"}')
                    note = node.note
                    if node.mode == "forged":
                        impostor = Signer(node.name, nacl.signing.SigningKey.generate())
                        note = impostor.sign(note.rpartition("\n\n")[0] + "\n")
                    return self._send(200, note.encode(), "text/plain; charset=utf-8")
                if parts.path == "/api/mesh/proof/consistency":
                    query = dict(urllib.parse.parse_qsl(parts.query))
                    old, new = int(query["old"]), int(query["new"])
                    if not 0 < old <= new <= node.tree.size:
                        return self._send(422, b'{"detail": "bad size", "code": "bad_size"}')
                    proof = merkle.consistency_proof(old, new, node.tree)
                    data = {"old": old, "new": new, "hashes": [base64.b64encode(h).decode() for h in proof]}
                    return self._send(200, json.dumps(data).encode())
                return self._send(404, b'{"detail": "Not found", "code": "not_found"}')

            def do_POST(self) -> None:
                """A minimal tlog witness of the node under test, cosigning with this fake's key."""
                node.requests.append(self.path)
                request = parse_add_checkpoint(self.rfile.read(int(self.headers["Content-Length"])))
                text, _ = parse_note(request.note)
                checkpoint = Checkpoint.parse(text)
                seen_size, seen_root = node.witnessed
                if request.old != seen_size:
                    return self._send(409, f"{seen_size}\n".encode(), "text/x.tlog.size")
                try:
                    merkle.verify_consistency(request.old, checkpoint.size, seen_root, checkpoint.root_hash,
                                              request.proof)  # fmt: skip
                except merkle.ProofError:
                    return self._send(422, b"bad proof", "text/plain")
                node.witnessed = (checkpoint.size, checkpoint.root_hash)
                line = cosign(text, name=node.name, signing_key=node.signer._signing_key, timestamp=int(time.time()))
                return self._send(200, line.encode(), "text/plain; charset=utf-8")

        return Handler


@pytest.fixture
def fake():
    node = FakeNode()
    node.append(5)
    node.sign()
    yield node
    node.close()


@pytest.fixture
def api():
    from dreamnet.apikeys import apikey_create

    _key, raw = apikey_create(name="peers-test", scopes=["mesh"])
    return {"X-DREAMNET-KEY": raw}


@pytest.fixture
def inline_tasks(monkeypatch):
    """Run what the code queues with django_q's async_task at once, in this process, and list the calls."""
    calls = []

    def run(func, *args, **kwargs):
        calls.append((func, args))
        return import_string(func)(*args)

    monkeypatch.setattr("django_q.tasks.async_task", run)
    return calls


def _register(fake: FakeNode) -> Peer:
    return peer_register(url=fake.url, verifier_key=fake.verifier_key)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Registration -------------------------------------------------------------------------------------------------


def test_it_registers_a_peer_with_the_key_its_operator_gave(olivia, fake):
    peer = peer_register(url=fake.url + "/", verifier_key=fake.verifier_key, by=olivia)
    assert (peer.url, peer.origin, peer.state, peer.pinned_via) == (fake.url, fake.name, "trusted", "operator")
    assert peer.score == 50.0
    change = PeerStateChange.objects.get(peer=peer)
    assert change.to_state == "trusted" and "pinned" in change.reason and change.by == olivia
    event = Event.objects.get(topic="peer.registered")
    assert event.payload["origin"] == fake.name and event.actor == f"user:{olivia.pk}"


def test_trust_on_first_use_needs_the_operator_to_confirm_the_key(client, olivia, fake):
    client.force_login(olivia)
    shown = client.post("/console/mesh/peers/", {"url": fake.url})
    page = shown.content.decode()
    assert shown.status_code == 200
    assert fake.verifier_key in page and "Trust this key and register" in page
    assert not Peer.objects.exists()  # nothing is pinned until the operator confirms

    confirmed = client.post("/console/mesh/peers/", {"url": fake.url, "confirm_key": fake.verifier_key})
    peer = Peer.objects.get()
    assert confirmed.status_code == 302 and confirmed["Location"] == f"/console/mesh/peers/{peer.pk}/"
    assert peer.pinned_via == "tofu" and peer.verifier_key == fake.verifier_key


def test_a_key_that_changes_between_discovery_and_confirmation_is_refused(client, olivia, fake):
    client.force_login(olivia)
    shown_key = fake.verifier_key
    fake.signer = Signer(fake.name, nacl.signing.SigningKey.generate())  # the node now presents another key
    refused = client.post("/console/mesh/peers/", {"url": fake.url, "confirm_key": shown_key})
    assert "presents the key" in refused.content.decode()
    assert not Peer.objects.exists()


def test_bad_registrations_get_specific_errors(client, api, fake):
    def post(**body):
        return client.post("/api/mesh/peers", body, content_type="application/json", headers=api)

    closed = f"http://127.0.0.1:{_free_port()}"
    other = Signer("other.test/log", nacl.signing.SigningKey.generate()).verifier_key
    cases = [
        ({"url": "ftp://example.com", "verifier_key": fake.verifier_key}, 422, "invalid_url"),
        ({"url": "javascript:alert(1)", "verifier_key": fake.verifier_key}, 422, "invalid_url"),
        ({"url": "http://user:pw@127.0.0.1:1", "verifier_key": fake.verifier_key}, 422, "invalid_url"),
        ({"url": fake.url, "verifier_key": "peer.test/log+0000000+AAAA"}, 422, "invalid_key"),
        ({"url": fake.url, "verifier_key": node_identity().verifier_key}, 422, "self_peer"),
        ({"url": closed, "verifier_key": fake.verifier_key}, 422, "peer_unreachable"),
        ({"url": fake.url, "verifier_key": other}, 422, "key_mismatch"),
    ]
    for body, status, code in cases:
        response = post(**body)
        assert (response.status_code, response.json()["code"]) == (status, code), body
    assert post(url=fake.url, verifier_key=fake.verifier_key).status_code == 201
    again = post(url=fake.url, verifier_key=fake.verifier_key)
    assert (again.status_code, again.json()["code"]) == (409, "peer_exists")
    fake.mode = "garbage"
    garbled = client.post("/api/mesh/peers/discover", {"url": fake.url}, content_type="application/json", headers=api)
    assert (garbled.status_code, garbled.json()["code"]) == (422, "peer_bad_response")
    assert client.get("/api/mesh/peers").status_code == 401


# Heartbeats -----------------------------------------------------------------------------------------------------


def test_a_heartbeat_verifies_the_signature_and_the_consistency_proof(fake):
    peer = _register(fake)
    first = peer_heartbeat(peer=peer)
    assert (first.result, first.size) == ("ok", 5)
    fake.append(3)
    fake.sign()
    second = peer_heartbeat(peer=peer)
    assert (second.result, second.size) == ("ok", 8)
    assert "consistent with size 5" in second.detail
    assert "/api/mesh/proof/consistency?old=5&new=8" in fake.requests
    peer.refresh_from_db()
    assert (peer.size, peer.state, peer.last_result) == (8, "trusted", "ok")
    assert peer.score > 50 and peer.last_seen_at is not None
    assert verify_note(peer.checkpoint_note, Verifier.from_key(fake.verifier_key))


def test_an_empty_peer_is_reachable_but_has_nothing_to_verify():
    node = FakeNode()
    try:
        peer = _register(node)
        assert peer_heartbeat(peer=peer).result == "empty"
    finally:
        node.close()


def _assert_fork_evidence(peer: Peer, fake: FakeNode, kind: str) -> dict:
    peer.refresh_from_db()
    assert (peer.state, peer.score) == ("quarantined", 0.0)
    change = peer.changes.first()
    assert change.to_state == "quarantined" and change.reason.startswith("Fork detected")
    evidence = change.evidence
    assert evidence["kind"] == kind
    key = Verifier.from_key(fake.verifier_key)
    ours, theirs = (open_checkpoint(evidence[side]["note"], key) for side in ("ours", "theirs"))
    assert ours.root_hash != theirs.root_hash or ours.size != theirs.size
    alert = Event.objects.get(topic="peer.fork_detected")
    assert alert.payload["severity"] == "critical"
    assert alert.payload["evidence"]["theirs"]["note"] == evidence["theirs"]["note"]
    return evidence


def test_a_second_tree_of_the_same_size_is_a_fork(fake):
    peer = _register(fake)
    peer_heartbeat(peer=peer)
    fake.rewrite(2)
    beat = peer_heartbeat(peer=peer)
    assert beat.result == "fork"
    evidence = _assert_fork_evidence(peer, fake, "same_size_different_root")
    assert evidence["ours"]["size"] == evidence["theirs"]["size"] == 5
    assert peers_heartbeat_round() == 0  # a quarantined peer is cut off


def test_a_failed_consistency_proof_is_a_fork(fake):
    peer = _register(fake)
    peer_heartbeat(peer=peer)
    fake.rewrite(2, extra=3)
    assert peer_heartbeat(peer=peer).result == "fork"
    evidence = _assert_fork_evidence(peer, fake, "consistency_proof_failed")
    assert (evidence["proof"]["old"], evidence["proof"]["new"]) == (5, 8) and evidence["proof"]["hashes"]


def test_a_log_that_shrank_and_cannot_prove_itself_a_prefix_is_a_fork(fake):
    peer = _register(fake)
    peer_heartbeat(peer=peer)
    fake.entries = fake.entries[:3]
    fake.rewrite(1)  # three entries, one of them edited, signed at size 3 after size 5
    assert peer_heartbeat(peer=peer).result == "fork"
    evidence = _assert_fork_evidence(peer, fake, "rollback")
    assert (evidence["ours"]["size"], evidence["theirs"]["size"]) == (5, 3)


def test_a_stale_but_consistent_checkpoint_is_not_a_fork(fake):
    peer = _register(fake)
    old_note = fake.note
    fake.append(4)
    fake.sign()
    peer_heartbeat(peer=peer)
    fake.note = old_note  # a cache serving yesterday's checkpoint
    beat = peer_heartbeat(peer=peer)
    assert beat.result == "stale"
    peer.refresh_from_db()
    assert (peer.state, peer.size) == ("trusted", 9)


def test_bad_signatures_are_penalised_with_evidence_until_quarantine(fake):
    peer = _register(fake)
    fake.mode = "forged"
    beat = peer_heartbeat(peer=peer)
    assert beat.result == "bad_signature" and beat.evidence["note"].startswith(fake.name)
    peer.refresh_from_db()
    assert (peer.state, round(peer.score)) == ("suspect", 20)
    assert "suspect threshold 40" in peer.changes.first().reason
    peer_heartbeat(peer=peer)
    peer.refresh_from_db()
    assert (peer.state, peer.score) == ("quarantined", 0.0)
    change = peer.changes.first()
    assert "quarantine threshold 15" in change.reason and "a different key" in change.evidence["error"]
    assert Event.objects.filter(topic="peer.state_changed").count() == 2


def test_malformed_answers_are_penalised(fake):
    peer = _register(fake)
    fake.mode = "garbage"
    beat = peer_heartbeat(peer=peer)
    assert beat.result == "bad_response" and "malformed checkpoint note" in beat.detail
    peer.refresh_from_db()
    assert (peer.state, round(peer.score)) == ("suspect", 35)


def test_unreachable_periods_are_charged_not_single_misses(fake, settings):
    peer = _register(fake)
    fake.mode = "down"
    assert peer_heartbeat(peer=peer).result == "unreachable"
    peer.refresh_from_db()
    assert round(peer.score, 3) == 50 and peer.unreachable_since is not None  # one miss costs nothing
    Peer.objects.filter(pk=peer.pk).update(
        unreachable_since=timezone.now() - timedelta(seconds=2.5 * settings.MESH_PEER_UNREACHABLE_PERIOD_S)
    )
    peer_heartbeat(peer=peer)
    peer.refresh_from_db()
    assert (round(peer.score), peer.state, peer.unreachable_periods_charged) == (30, "suspect", 2)
    peer_heartbeat(peer=peer)  # the same two periods are not charged twice
    peer.refresh_from_db()
    assert round(peer.score) == 30
    fake.mode = "ok"
    assert peer_heartbeat(peer=peer).result == "ok"
    peer.refresh_from_db()
    assert peer.unreachable_since is None and peer.state == "suspect"  # 32 is still below 40


def test_a_suspect_peer_is_trusted_again_only_after_a_verified_heartbeat(fake, settings):
    peer = _register(fake)
    long_ago = timezone.now() - timedelta(seconds=3 * settings.MESH_PEER_SCORE_HALF_LIFE_S)
    Peer.objects.filter(pk=peer.pk).update(state="suspect", score=30.0, score_at=long_ago)
    fake.mode = "down"
    peer_heartbeat(peer=peer)
    peer.refresh_from_db()
    assert peer.state == "suspect" and peer.score == pytest.approx(47.5, abs=0.01)  # decayed, not forgiven
    fake.mode = "ok"
    peer_heartbeat(peer=peer)
    peer.refresh_from_db()
    assert peer.state == "trusted"
    assert peer.changes.first().reason.startswith("Trusted again")


def test_a_quiet_peers_score_decays_towards_neutral_as_configured(client, api, fake, settings):
    settings.MESH_PEER_SCORE_HALF_LIFE_S = 600
    peer = _register(fake)
    t0 = timezone.now()
    Peer.objects.filter(pk=peer.pk).update(score=90.0, score_at=t0)
    peer.refresh_from_db()
    assert peer_score_now(peer, now=t0 + timedelta(seconds=600)) == pytest.approx(70.0)
    assert peer_score_now(peer, now=t0 + timedelta(seconds=1200)) == pytest.approx(60.0)
    settings.MESH_PEER_SCORE_NEUTRAL = 60
    assert peer_score_now(peer, now=t0 + timedelta(seconds=600)) == pytest.approx(75.0)
    settings.MESH_PEER_SCORE_NEUTRAL = 50
    Peer.objects.filter(pk=peer.pk).update(score=10.0, score_at=t0 - timedelta(seconds=600))
    listed = client.get("/api/mesh/peers", headers=api).json()[0]
    assert listed["score"] == pytest.approx(30.0, abs=0.05)  # bad scores drift back to neutral too


# The witness endpoint (c2sp.org/tlog-witness) ------------------------------------------------------------------


def _push(client, body: bytes):
    return client.post(WITNESS, data=body, content_type="text/plain")


def test_the_witness_cosigns_consistent_checkpoints(client, fake):
    peer = _register(fake)
    first = _push(client, fake.push_body(0))
    assert first.status_code == 200
    cosigner = client.get("/api/mesh/witness").json()
    assert cosigner["cosigner_key"].split("+")[0] == node_identity().origin
    text, signatures = parse_note(fake.note + first.content.decode())
    identity = node_identity()
    found = verify_cosignature(text, signatures, name=identity.origin, public_key=identity.signer.public_key)
    assert found is not None and abs(found[1] - time.time()) < 60
    fake.append(3)
    fake.sign()
    assert _push(client, fake.push_body(5)).status_code == 200
    peer.refresh_from_db()
    assert (peer.size, peer.state) == (8, "trusted")
    assert list(peer.heartbeats.values_list("direction", "result")) == [("push", "ok"), ("push", "ok")]


def test_the_witness_answers_409_with_the_size_seen_and_refuses_replays(client, fake):
    _register(fake)
    old_note = fake.note
    assert _push(client, fake.push_body(0)).status_code == 200
    fake.append(3)
    fake.sign()
    conflict = _push(client, fake.push_body(0))
    assert (conflict.status_code, conflict["Content-Type"], conflict.content) == (409, "text/x.tlog.size", b"5\n")
    assert _push(client, fake.push_body(5)).status_code == 200
    replay = format_add_checkpoint(old=5, proof=[], note=old_note)  # yesterday's checkpoint again
    assert _push(client, replay).content == b"8\n"
    above = format_add_checkpoint(old=8, proof=[], note=old_note)
    assert (_push(client, above).status_code, _push(client, above).json()["code"]) == (400, "old_too_large")
    assert PeerHeartbeat.objects.filter(direction="push", result="conflict").count() == 2


def test_the_witness_answers_422_on_a_bad_proof_and_asks_the_peer_itself(client, fake, inline_tasks,
                                                                          django_capture_on_commit_callbacks):  # fmt: skip
    peer = _register(fake)
    assert _push(client, fake.push_body(0)).status_code == 200
    fake.append(3)
    fake.sign()
    with django_capture_on_commit_callbacks(execute=True):
        bad = _push(client, fake.push_body(5, proof=[b"\x07" * 32, b"\x08" * 32]))
    assert (bad.status_code, bad.json()["code"]) == (422, "bad_proof")
    recorded = peer.heartbeats.get(result="bad_proof")
    assert recorded.evidence["kind"] == "pushed_proof_failed"
    # Anyone can push a signed checkpoint with a junk proof, so the node asks the peer for the proof itself.
    assert inline_tasks == [("mesh.tasks.peer_heartbeat_task", (peer.pk,))]
    peer.refresh_from_db()
    assert (peer.state, peer.size) == ("trusted", 8)


def test_the_witness_quarantines_a_peer_that_pushes_a_second_tree_of_the_same_size(client, fake):
    peer = _register(fake)
    assert _push(client, fake.push_body(0)).status_code == 200
    fake.rewrite(1)
    forked = _push(client, fake.push_body(5, proof=[]))
    assert (forked.status_code, forked.content) == (409, b"5\n")
    _assert_fork_evidence(peer, fake, "same_size_different_root")
    after = _push(client, fake.push_body(5, proof=[]))
    assert (after.status_code, after.json()["code"]) == (403, "peer_quarantined")


def test_the_witness_refuses_unknown_logs_forged_signatures_and_malformed_bodies(client, fake):
    _register(fake)
    stranger = FakeNode("stranger.test/log")
    try:
        stranger.append(2)
        stranger.sign()
        unknown = _push(client, stranger.push_body(0))
    finally:
        stranger.close()
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_log")
    impostor = Signer(fake.name, nacl.signing.SigningKey.generate())
    forged = format_add_checkpoint(old=0, proof=[], note=impostor.sign(fake.note.rpartition("\n\n")[0] + "\n"))
    assert (_push(client, forged).status_code, _push(client, forged).json()["code"]) == (403, "bad_signature")
    for body in [b"", b"old 01\n\n" + fake.note.encode(), b"old 0\nnot-base64\n\n" + fake.note.encode(),
                 b"old 0\n" + fake.note.encode(), b"old 0\n\nnot a note\n", b"\xff\xfe"]:  # fmt: skip
        response = _push(client, body)
        assert (response.status_code, response.json()["code"]) == (400, "malformed"), body
    assert not PeerHeartbeat.objects.exists()  # nothing anyone could send without the key acts on the peer


def test_pushing_our_checkpoint_keeps_the_peers_cosignature(client, fake):
    import mesh

    peer = _register(fake)
    for i in range(4):
        mesh.publish("order.paid", {"n": i})
    ours = checkpoint_sign(force=True)
    fake.witnessed = (3, merkle.root(3, merkle.MemoryTree(bytes(e.entry) for e in _entries()[:3])))
    beat = peer_push(peer=peer)  # old 0 → 409 "3" → old 3 with a proof → cosigned
    assert beat.result == "ok"
    assert fake.requests.count(WITNESS) == 2
    cosignature = Cosignature.objects.get(peer=peer)
    assert cosignature.size == ours.size
    peer.refresh_from_db()
    assert peer.witness_size == ours.size
    note = client.get("/api/mesh/checkpoint/cosigned").content.decode()
    text, signatures = parse_note(note)
    key = Verifier.from_key(fake.verifier_key)
    assert verify_cosignature(text, signatures, name=key.name, public_key=key.public_key) is not None
    assert open_checkpoint(note, Verifier.from_key(node_identity().verifier_key)).size == ours.size


def _entries():
    from mesh.models import LogEntry

    return list(LogEntry.objects.order_by("index"))


# Console and API ------------------------------------------------------------------------------------------------


def test_the_console_shows_peers_live_with_reasons_and_evidence_and_lifts_with_a_note(client, olivia, fake):
    peer = _register(fake)
    peer_heartbeat(peer=peer)
    fake.rewrite(0)
    peer_heartbeat(peer=peer)
    client.force_login(olivia)
    page = client.get("/console/mesh/peers/").content.decode()
    assert fake.name in page and "quarantined" in page and "Fork detected" in page
    assert 'data-live-url="/ws/console/"' in page
    partial = client.get("/console/mesh/peers/", headers={"HX-Request": "true", "HX-Target": "peer-table"})
    assert partial.content.decode().lstrip().startswith('<section id="peer-table"')
    detail = client.get(f"/console/mesh/peers/{peer.pk}/").content.decode()
    assert "Evidence" in detail and "same_size_different_root" in detail and "Lift the quarantine" in detail
    missing_note = client.post(f"/console/mesh/peers/{peer.pk}/lift/", {"note": ""})
    assert missing_note.status_code == 422
    lifted = client.post(f"/console/mesh/peers/{peer.pk}/lift/", {"note": "Their operator restored the log.",
                                                                  "forget_history": "on"})  # fmt: skip
    assert lifted.status_code == 302
    peer.refresh_from_db()
    assert (peer.state, peer.size) == ("suspect", 0)
    change = peer.changes.first()
    assert (change.note, change.by) == ("Their operator restored the log.", olivia)
    assert Event.objects.filter(topic="peer.quarantine_lifted").exists()
    assert peer_heartbeat(peer=peer).result == "ok"  # the rewritten log is accepted as first seen
    peer.refresh_from_db()
    assert peer.state == "trusted"


def test_the_peer_pages_are_staff_only(client, alice, fake):
    peer = _register(fake)
    client.force_login(alice)
    assert client.get("/console/mesh/peers/").status_code == 302
    assert client.get(f"/console/mesh/peers/{peer.pk}/").status_code == 302
    assert client.post(f"/console/mesh/peers/{peer.pk}/remove/").status_code == 302
    assert Peer.objects.exists()


def test_the_api_lists_details_heartbeats_and_lifts(client, api, fake):
    peer = _register(fake)
    beat = client.post(f"/api/mesh/peers/{peer.pk}/heartbeat", headers=api).json()
    assert beat["state"] == "trusted" and beat["size"] == 5 and beat["heartbeats"][-1]["result"] == "ok"
    not_quarantined = client.post(f"/api/mesh/peers/{peer.pk}/lift", {"note": "x"}, content_type="application/json",
                                  headers=api)  # fmt: skip
    assert (not_quarantined.status_code, not_quarantined.json()["code"]) == (409, "not_quarantined")
    Peer.objects.filter(pk=peer.pk).update(state="quarantined")
    no_note = client.post(f"/api/mesh/peers/{peer.pk}/lift", {"note": " "}, content_type="application/json",
                          headers=api)  # fmt: skip
    assert (no_note.status_code, no_note.json()["code"]) == (422, "note_required")
    lifted = client.post(f"/api/mesh/peers/{peer.pk}/lift", {"note": "checked"}, content_type="application/json",
                         headers=api).json()  # fmt: skip
    assert lifted["state"] == "suspect" and lifted["changes"][0]["note"] == "checked"
    assert client.get("/api/mesh/peers/999", headers=api).status_code == 404
    assert client.delete(f"/api/mesh/peers/{peer.pk}", headers=api).status_code == 204
    assert not Peer.objects.exists()


# Tasks ----------------------------------------------------------------------------------------------------------


def test_the_heartbeat_task_holds_no_worker_without_peers(fake, monkeypatch):
    import mesh.tasks
    from mesh.tasks import peers_heartbeat_task

    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"the task waited {seconds} s with no peer to contact")

    monkeypatch.setattr(mesh.tasks.time, "sleep", no_sleep)
    assert peers_heartbeat_task() == 0  # no peers: no round, no wait
    peer_register(url=fake.url, verifier_key=fake.verifier_key)
    Peer.objects.update(state=Peer.State.QUARANTINED)
    requests_before = len(fake.requests)
    assert peers_heartbeat_task() == 0  # only quarantined peers: none is contacted
    assert len(fake.requests) == requests_before
    assert not PeerHeartbeat.objects.exists()


def test_the_heartbeat_task_loops_at_the_configured_interval(fake, settings):
    from django_q.models import Schedule

    from mesh.tasks import PEERS_SCHEDULE, peers_heartbeat_task, schedule_ensure

    settings.MESH_PEER_HEARTBEAT_S = 1
    peer = _register(fake)
    assert peers_heartbeat_task(duration_s=2.5) == 2
    assert peer.heartbeats.filter(direction="pull").count() == 2
    schedule_ensure()
    assert Schedule.objects.get(name=PEERS_SCHEDULE).func == "mesh.tasks.peers_heartbeat_task"


# Two real nodes on loopback ---------------------------------------------------------------------------------------


class ServedNode:
    """``manage.py serve --no-cluster`` with its own DREAMNET_HOME and SQLite database on a free port."""

    def __init__(self, home: Path, name: str) -> None:
        self.home, self.name, self.port = home, name, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--no-cluster", "--port", str(self.port)],
            cwd=ROOT, env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self.key = ""

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DREAMNET_", "DATABASE_URL", "REDIS_URL"))}
        return env | {"DREAMNET_HOME": str(self.home), "DREAMNET_NODE_NAME": self.name,
                      "DJANGO_SETTINGS_MODULE": "dreamnet.settings"}  # fmt: skip

    def wait(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/api/mesh/node", timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"{self.name} did not start within 90 s")

    def python(self, code: str) -> str:
        """Run ``code`` with Django set up against this node's database; return its stdout."""
        done = subprocess.run([sys.executable, "-c", f"import django; django.setup()\n{code}"], cwd=ROOT,
                              env=self.env(), capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def api(self, method: str, path: str, body: dict | None = None) -> dict | list:
        request = urllib.request.Request(
            self.url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"X-DREAMNET-KEY": self.key, "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return response.read().decode()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


SEED = """
import mesh
from mesh.log import checkpoint_sign
for i in range(6):
    mesh.publish("order.paid", {"n": i})
checkpoint_sign(force=True)
from dreamnet.apikeys import apikey_create
print(apikey_create(name="peers", scopes=["mesh"])[1])
"""

HEARTBEATS = "from mesh.peers.services import peers_heartbeat_round; peers_heartbeat_round()"

# Rebuild the log with entry 1 edited and one entry more, and sign it again with the node's own key.
REWRITE = """
from django.db import transaction
from mesh.log import checkpoint_sign, log_append
from mesh.models import Checkpoint, LogEntry, LogState, TreeNode
entries = [(e.kind, bytes(e.entry)) for e in LogEntry.objects.order_by("index")]
entries[1] = (entries[1][0], entries[1][1].replace(b'"order.paid"', b'"order.void"'))
entries.append(("event", b'{"kind":"event","note":"after the rewrite"}'))
with transaction.atomic():
    for model in (Checkpoint, LogEntry, TreeNode, LogState):
        model.objects.all().delete()
    for kind, entry in entries:
        log_append(kind=kind, entry=entry)
print(checkpoint_sign(force=True).size)
"""


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    nodes = [ServedNode(tmp_path_factory.mktemp(name), f"{name}.test/log") for name in ("alpha", "beta")]
    try:
        for node in nodes:
            node.wait()
            node.key = node.python(SEED).strip().splitlines()[-1]
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def _cosigned_by(note: str, witness: ServedNode) -> bool:
    key = Verifier.from_key(json.loads(witness.get("/api/mesh/node"))["verifier_key"])
    text, signatures = parse_note(note)
    return verify_cosignature(text, signatures, name=key.name, public_key=key.public_key) is not None


def test_two_nodes_watch_each_other_cosign_and_quarantine_a_rewritten_history(two_nodes):
    alpha, beta = two_nodes
    # alpha trusts beta on first use (discover, then confirm); beta pins alpha's key given out of band.
    offered = alpha.api("POST", "/api/mesh/peers/discover", {"url": beta.url})
    assert offered["origin"] == "beta.test/log"
    alpha.api("POST", "/api/mesh/peers", {"url": beta.url, "verifier_key": offered["verifier_key"],
                                          "trust_on_first_use": True})  # fmt: skip
    alpha_key = json.loads(alpha.get("/api/mesh/node"))["verifier_key"]
    beta.api("POST", "/api/mesh/peers", {"url": alpha.url, "verifier_key": alpha_key})

    for node in (alpha, beta, alpha, beta):
        node.python(HEARTBEATS)
    for watcher, watched in ((alpha, beta), (beta, alpha)):
        [peer] = watcher.api("GET", "/api/mesh/peers")
        assert (peer["origin"], peer["state"], peer["last_result"]) == (watched.name, "trusted", "ok")
        assert peer["size"] >= 6 and peer["score"] > 50 and peer["last_seen_at"] and peer["witness_size"] >= 6
        assert _cosigned_by(watched.get("/api/mesh/checkpoint/cosigned"), watcher)

    [beta_seen] = alpha.api("GET", "/api/mesh/peers")
    assert int(beta.python(REWRITE).strip()) > beta_seen["size"]
    alpha.python(HEARTBEATS)  # one heartbeat catches it

    [peer] = alpha.api("GET", "/api/mesh/peers")
    assert peer["state"] == "quarantined" and peer["last_result"] == "fork"
    detail = alpha.api("GET", f"/api/mesh/peers/{peer['id']}")
    evidence = detail["changes"][0]["evidence"]
    assert evidence["kind"] == "consistency_proof_failed"
    key = Verifier.from_key(offered["verifier_key"])
    ours, theirs = open_checkpoint(evidence["ours"]["note"], key), open_checkpoint(evidence["theirs"]["note"], key)
    assert ours.size == beta_seen["size"] and theirs.size > ours.size  # both signed by beta: the proof of the fork
    alerts = alpha.api("GET", "/api/mesh/events?topic=peer.fork_detected")["events"]
    assert len(alerts) == 1 and alerts[0]["payload"]["evidence"]["theirs"]["note"] == evidence["theirs"]["note"]

    beta.python(HEARTBEATS)  # beta's own push is now refused by alpha
    [alpha_seen] = beta.api("GET", "/api/mesh/peers")
    assert alpha_seen["state"] == "trusted"
    beats = beta.api("GET", f"/api/mesh/peers/{alpha_seen['id']}")["heartbeats"]
    assert any(b["direction"] == "cosign" and b["result"] == "refused" and "quarantined" in b["detail"] for b in beats)


def test_the_admin_shows_peers_read_only(client, fake):
    from django.contrib.auth import get_user_model

    peer = _register(fake)
    peer_heartbeat(peer=peer)
    Cosignature.objects.create(peer=peer, size=1, root_hash=b"\x00" * 32, line="— x AAAA\n", timestamp=1)
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    for model in ("peer", "peerstatechange", "peerheartbeat", "cosignature"):
        assert client.get(f"/admin/mesh/{model}/").status_code == 200, model
    change = client.get(f"/admin/mesh/peer/{peer.pk}/change/").content.decode()
    assert fake.verifier_key in change and "Registered; key" in change
    assert client.get("/admin/mesh/peer/add/").status_code == 403
