"""Log entry bytes: canonical JSON built from the rows a leaf seals. Pure; imports nothing from Django.

The same functions build an entry when it is appended and again when ``mesh_audit`` recomputes it from the
stored rows, so any edit to a sealed row shows up as a mismatch at its index.
"""

from __future__ import annotations

import json
from typing import Any

import blake3

ENTRY_VERSION = 1


def canonical_json(value: Any) -> bytes:
    """Return ``value`` as compact JSON with sorted keys, UTF-8: one byte string per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def blake3_hex(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def event_entry(*, topic: str, payload_blake3: str, actor: str, created_at: str) -> bytes:
    return canonical_json(
        {"v": ENTRY_VERSION, "kind": "event", "topic": topic, "payload_blake3": payload_blake3, "actor": actor,
         "created_at": created_at}
    )  # fmt: skip


def receipt_entry(*, body: dict[str, Any], signature: str) -> bytes:
    return canonical_json({"v": ENTRY_VERSION, "kind": "receipt", "receipt": body, "signature": signature})


def dreamsnail_entry(*, algorithm: str, digest: str) -> bytes:
    # "digest" as "<algorithm>:<hex>" is what mesh.proofbundle.entry_commits_digest recognises offline.
    return canonical_json({"v": ENTRY_VERSION, "kind": "dreamsnail", "digest": f"{algorithm}:{digest}"})
