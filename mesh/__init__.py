"""StarBridge mesh: event bus, signed Merkle log, receipts, artifacts, DreamSnail, peers.

``mesh.publish``, ``mesh.publish_many``, ``mesh.publish_on_commit`` and ``mesh.receipt_issue`` are the entry points for other apps. They are loaded lazily so the
pure modules here (merkle, note, proofbundle, dreamfile, verify) import nothing from Django:
``python -m mesh.verify`` runs on a machine without it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["publish", "publish_many", "publish_on_commit", "receipt_issue"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        import mesh.services as services

        return getattr(services, name)
    raise AttributeError(f"module 'mesh' has no attribute {name!r}")
