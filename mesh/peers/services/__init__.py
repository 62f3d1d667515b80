"""Peer writes: register, heartbeat, push for cosignatures, witness pushed checkpoints, lift quarantine, remove.

A heartbeat fetches the peer's signed checkpoint and a consistency proof from the size this node last verified,
and records what it found (``PeerHeartbeat``). The same verified state is advanced by checkpoints the peer pushes
to this node's witness endpoint (c2sp.org/tlog-witness), under the peer row's lock, so both paths agree on one
"last size seen". Two signed checkpoints of one size with different roots, or a failed consistency proof, is a
fork: the peer is quarantined at once and a ``peer.fork_detected`` alert carries both signed checkpoints.
Network calls never run inside a transaction; a row lock is only taken to record what they returned.

``registry`` registers and forgets peers, ``heartbeats`` pulls and pushes and applies what it found,
``witnessing`` answers checkpoints peers push to us; ``common`` holds what they share.
"""

from __future__ import annotations

from mesh.peers.services.common import PeerError, peer_score_now, score_rules
from mesh.peers.services.heartbeats import (
    cosigned_checkpoint,
    peer_heartbeat,
    peer_push,
    peers_heartbeat_round,
    peers_history_prune,
)
from mesh.peers.services.registry import NodeInfo, peer_discover, peer_quarantine_lift, peer_register, peer_remove
from mesh.peers.services.witnessing import witness_add_checkpoint

__all__ = [
    "NodeInfo",
    "PeerError",
    "cosigned_checkpoint",
    "peer_discover",
    "peer_heartbeat",
    "peer_push",
    "peer_quarantine_lift",
    "peer_register",
    "peer_remove",
    "peer_score_now",
    "peers_heartbeat_round",
    "peers_history_prune",
    "score_rules",
    "witness_add_checkpoint",
]
