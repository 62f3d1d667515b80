"""Signal manifests: a folder's state, signed by its publisher, each naming its predecessor's digest.

A manifest body is canonical JSON ``{"v": 1, "signal", "name", "seq", "prev", "created_at", "files": [{"path",
"size", "mtime_ns", "chunks"}]}``; its digest is BLAKE3 over those bytes and the publisher signs the digest's
bytes with Ed25519 (the node key). A subscriber accepts manifest ``n`` only when it verifies under the key named
in the signal key, has ``seq = n`` and ``prev`` = the digest of the manifest ``n - 1`` it holds, and every path is
safe; chunks are checked by digest on arrival. So a relay (another subscriber serving its copy) can withhold
updates but cannot alter one. No Django import.
"""

from __future__ import annotations

import json
from typing import Any

import nacl.exceptions
import nacl.signing

from mesh.sync.chunks import digest_of
from mesh.sync.folder import FileRecord, SyncError

VERSION = 1


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def manifest_build(*, signal: str, name: str, seq: int, prev: str, created_at: str,
                   records: list[FileRecord]) -> dict[str, Any]:  # fmt: skip
    files = [{"path": r.path, "size": r.size, "mtime_ns": r.mtime_ns, "chunks": r.chunks}
             for r in sorted(records, key=lambda r: r.path) if not r.deleted]  # fmt: skip
    return {"v": VERSION, "signal": signal, "name": name, "seq": seq, "prev": prev, "created_at": created_at,
            "files": files}  # fmt: skip


def manifest_sign(body: dict[str, Any], key: nacl.signing.SigningKey) -> dict[str, Any]:
    digest = digest_of(canonical(body))
    return {"body": body, "digest": digest, "signature": key.sign(bytes.fromhex(digest)).signature.hex()}


def manifest_verify(signed: Any, *, publisher_key: bytes, signal: str, seq: int, prev: str) -> dict[str, Any]:
    """Return the verified body of ``signed`` as manifest ``seq`` after ``prev``; SyncError naming the defect.

    Codes: ``bad_manifest`` (shape), ``bad_signature`` (digest or signature), ``wrong_signal``, ``broken_chain``
    (wrong seq or predecessor), ``path_traversal`` (a file path leaving the folder).
    """
    try:
        body, digest, signature = signed["body"], str(signed["digest"]), bytes.fromhex(str(signed["signature"]))
        if not isinstance(body, dict):
            raise TypeError("body is not an object")
    except (KeyError, TypeError, ValueError) as exc:
        raise SyncError(f"A manifest is malformed: {exc!r}.", code="bad_manifest") from exc
    if digest_of(canonical(body)) != digest:
        raise SyncError("A manifest's content does not match its digest; it was altered.", code="bad_signature")
    try:
        nacl.signing.VerifyKey(publisher_key).verify(bytes.fromhex(digest), signature)
    except (nacl.exceptions.BadSignatureError, ValueError) as exc:
        raise SyncError(
            "A manifest's signature does not verify with the publisher's key.", code="bad_signature"
        ) from exc
    if body.get("v") != VERSION or body.get("signal") != signal:
        raise SyncError("The manifest belongs to another signal.", code="wrong_signal")
    if body.get("seq") != seq or body.get("prev") != prev:
        raise SyncError(
            f"Manifest {body.get('seq')} does not follow manifest {seq - 1} held here.", code="broken_chain"
        )
    for f in body.get("files", []):
        FileRecord.from_wire({**f, "version": {"publisher": seq}, "deleted": False})  # path and chunk checks
    return body


def manifest_records(body: dict[str, Any]) -> list[FileRecord]:
    """The files of a verified manifest as records (version vectors are not used by signals)."""
    return [FileRecord.from_wire({**f, "version": {"publisher": body["seq"]}, "deleted": False})
            for f in body["files"]]  # fmt: skip
