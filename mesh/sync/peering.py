"""What both ends of a sync connection share: this node's channel identity, the peer's URL, who is admitted."""

from __future__ import annotations

from channels.db import database_sync_to_async

from mesh.identity import node_identity
from mesh.sync.channel import Identity
from mesh.sync.portals import admitted_peer_keys

WS_PATH = "/ws/mesh/sync/"


def channel_identity() -> Identity:
    return Identity(node_identity().signing_key)


def ws_url(peer_url: str) -> str:
    base = peer_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base[len("https://") :] + WS_PATH
    if base.startswith("http://"):
        return "ws://" + base[len("http://") :] + WS_PATH
    return base + WS_PATH


async def authorize(key: bytes) -> bool:
    """Admit a channel peer: pinned here and not quarantined (read afresh for every session)."""
    return key in await database_sync_to_async(admitted_peer_keys)()
