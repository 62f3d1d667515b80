"""What the peer services share: the refusal type, score rules, and the HTTP and parsing helpers."""

from __future__ import annotations

import base64
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from mesh.models import Peer, PeerHeartbeat
from mesh.note import NoteError, Verifier
from mesh.peers import http
from mesh.peers.scoring import ScoreRules, decayed
from mesh.peers.witness import MAX_PROOF_LINES
from mesh.services import MeshError

MAX_NOTE_BYTES = 16 * 1024  # a checkpoint with 100 signature lines fits in well under this
MAX_PUSH_BYTES = MAX_NOTE_BYTES + (MAX_PROOF_LINES + 1) * 45 + 32
Result = PeerHeartbeat.Result
Direction = PeerHeartbeat.Direction
State = Peer.State


class PeerError(MeshError):
    """A peer operation the node refuses; ``status`` is the HTTP status the API answers with."""

    def __init__(self, message: str, *, code: str, status: int = 422, size: int | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.size = size  # for a witness 409: the size of the latest checkpoint seen


def score_rules() -> ScoreRules:
    return ScoreRules(
        neutral=float(settings.MESH_PEER_SCORE_NEUTRAL),
        half_life_s=float(settings.MESH_PEER_SCORE_HALF_LIFE_S),
        reward=float(settings.MESH_PEER_SCORE_REWARD),
        suspect_below=float(settings.MESH_PEER_SUSPECT_BELOW),
        quarantine_below=float(settings.MESH_PEER_QUARANTINE_BELOW),
    )


def peer_score_now(peer: Peer, *, now: datetime | None = None) -> float:
    """Return the peer's score decayed to ``now`` (it moves towards neutral while nothing happens)."""
    elapsed = ((now or timezone.now()) - peer.score_at).total_seconds()
    return decayed(peer.score, elapsed, score_rules())


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def verifier_from_key(verifier_key: str) -> Verifier:
    try:
        return Verifier.from_key(verifier_key)
    except NoteError as exc:
        raise PeerError(f"The verifier key is not valid: {exc}.", code="invalid_key") from exc


def check_url(url: str) -> str:
    try:
        return http.check_http_url(url, base=True)
    except ValueError as exc:
        raise PeerError(f"The peer URL is not usable: {exc}.", code="invalid_url") from exc


def get(peer_url: str, path: str) -> http.Response:
    return http.request("GET", peer_url + path, timeout=settings.MESH_PEER_TIMEOUT_S)
