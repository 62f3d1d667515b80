"""The node identity: an Ed25519 key in DREAMNET_HOME/identity/ (mode 0600), created on first use.

It signs checkpoints and receipts. The key file holds the 32-byte seed; creation is atomic (O_EXCL), so
processes starting together agree on one key. The key name in signed notes is the log origin,
``DREAMNET_NODE_NAME`` or ``dreamnet.local/<node id>``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import nacl.signing
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from mesh.note import Signer

KEY_FILE = "ed25519.seed"


@dataclass(frozen=True)
class NodeIdentity:
    node_id: str
    origin: str
    signer: Signer
    signing_key: nacl.signing.SigningKey

    @property
    def verifier_key(self) -> str:
        return self.signer.verifier_key

    @property
    def public_key_hex(self) -> str:
        return self.signer.public_key.hex()


def identity_dir() -> Path:
    return Path(settings.DREAMNET_HOME) / "identity"


def _read_seed(path: Path) -> bytes:
    seed = path.read_bytes()
    if len(seed) != 32:
        raise ImproperlyConfigured(f"{path} is not a 32-byte Ed25519 seed; restore it from backup.")
    if path.stat().st_mode & 0o077:
        raise ImproperlyConfigured(f"{path} is readable by other users; run: chmod 600 {path}")
    return seed


def _load_or_create_seed(path: Path) -> tuple[bytes, bool]:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_seed(path), False
    seed = bytes(nacl.signing.SigningKey.generate())
    with os.fdopen(fd, "wb") as f:
        f.write(seed)
    return seed, True


@lru_cache(maxsize=1)
def node_identity() -> NodeIdentity:
    """Return this node's identity, creating the key on first use."""
    seed, _created = _load_or_create_seed(identity_dir() / KEY_FILE)
    key = nacl.signing.SigningKey(seed)
    node_id = hashlib.sha256(bytes(key.verify_key)).hexdigest()[:16]
    origin = settings.DREAMNET_NODE_NAME or f"dreamnet.local/{node_id}"
    return NodeIdentity(node_id=node_id, origin=origin, signer=Signer(origin, key), signing_key=key)


def identity_ensure() -> tuple[NodeIdentity, bool]:
    """Create the key if missing; return the identity and whether it was created now."""
    existed = (identity_dir() / KEY_FILE).exists()
    node_identity.cache_clear()
    return node_identity(), not existed
