"""The `peers` health probe (one of the coherence view's five services): healthy alone or with reachable peers,
failing while a peer is quarantined or unreachable."""

from __future__ import annotations

import pytest
from django.utils import timezone

from mesh.models import Peer

pytestmark = pytest.mark.django_db


def _peers_probe(client) -> dict:
    return {p["name"]: p for p in client.get("/api/health").json()["probes"]}["peers"]


def _peer(origin: str, **fields) -> Peer:
    return Peer.objects.create(
        url=f"https://{origin}", origin=origin, verifier_key=f"{origin}+00000000+AAAA",
        pinned_via=Peer.PinnedVia.OPERATOR, score=50, score_at=timezone.now(), **fields,
    )  # fmt: skip


def test_a_node_without_peers_is_healthy(client):
    probe = _peers_probe(client)
    assert probe["ok"] is True and probe["required"] is False
    assert probe["detail"] == "no peers registered"


def test_reachable_peers_pass_and_count_the_suspect(client):
    _peer("a.example")
    _peer("b.example", state=Peer.State.SUSPECT)
    probe = _peers_probe(client)
    assert probe["ok"] is True
    assert probe["detail"] == "2 peers reachable, 1 suspect"


def test_a_quarantined_peer_fails_the_probe(client):
    _peer("a.example")
    _peer("bad.example", state=Peer.State.QUARANTINED)
    probe = _peers_probe(client)
    assert probe["ok"] is False
    assert probe["detail"] == "1 of 2 peers quarantined: bad.example"


def test_an_unreachable_peer_fails_the_probe(client):
    _peer("far.example", unreachable_since=timezone.now())
    probe = _peers_probe(client)
    assert probe["ok"] is False
    assert probe["detail"] == "1 of 1 peers unreachable: far.example"
