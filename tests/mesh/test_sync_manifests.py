"""Signal manifests without Django: signing, the predecessor chain, tampering and traversal refused."""

from __future__ import annotations

import nacl.signing
import pytest

from mesh.sync.folder import FileRecord, SyncError
from mesh.sync.manifests import manifest_build, manifest_records, manifest_sign, manifest_verify

KEY = nacl.signing.SigningKey(b"\x03" * 32)
PUB = bytes(KEY.verify_key)


def _signed(seq: int, prev: str, path: str = "a/b.txt") -> dict:
    rec = FileRecord(path, {"n": 1}, False, 5, 1, [["e" * 64, 5]], "n")
    return manifest_sign(
        manifest_build(signal="s1", name="news", seq=seq, prev=prev, created_at="t", records=[rec]), KEY
    )


def test_a_chain_verifies_link_by_link() -> None:
    first = _signed(1, "")
    body = manifest_verify(first, publisher_key=PUB, signal="s1", seq=1, prev="")
    second = _signed(2, first["digest"])
    manifest_verify(second, publisher_key=PUB, signal="s1", seq=2, prev=first["digest"])
    assert [r.path for r in manifest_records(body)] == ["a/b.txt"]


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda m: m["body"]["files"][0].update(size=6, chunks=[["f" * 64, 6]]), "bad_signature"),
        (lambda m: m.update(signature="00" * 64), "bad_signature"),
        (lambda m: m.update(body="x"), "bad_manifest"),
    ],
)
def test_a_tampered_manifest_is_refused(mutate, code) -> None:
    signed = _signed(1, "")
    mutate(signed)
    with pytest.raises(SyncError) as exc:
        manifest_verify(signed, publisher_key=PUB, signal="s1", seq=1, prev="")
    assert exc.value.code == code


def test_another_key_a_gap_or_a_foreign_signal_is_refused() -> None:
    first = _signed(1, "")
    other = bytes(nacl.signing.SigningKey(b"\x04" * 32).verify_key)
    for kwargs, code in [({"publisher_key": other}, "bad_signature"), ({"seq": 2}, "broken_chain"),
                         ({"prev": "ab" * 32}, "broken_chain"), ({"signal": "s2"}, "wrong_signal")]:  # fmt: skip
        with pytest.raises(SyncError) as exc:
            manifest_verify(first, **({"publisher_key": PUB, "signal": "s1", "seq": 1, "prev": ""} | kwargs))
        assert exc.value.code == code


def test_a_signed_manifest_with_a_traversing_path_is_still_refused() -> None:
    evil = _signed(1, "", path="../../etc/cron.d/x")
    with pytest.raises(SyncError) as exc:
        manifest_verify(evil, publisher_key=PUB, signal="s1", seq=1, prev="")
    assert exc.value.code == "path_traversal"
