"""DreamSnail: commit a digest, fetch its proof, verify it online and offline."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache

from mesh.log import checkpoint_sign

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
DIGEST = hashlib.sha256(b"the quarterly audit, final").hexdigest()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def _commit(client, **body):
    return client.post("/api/dreamsnail/commit", body, content_type="application/json")


def test_commit_then_proof_then_offline_verification(client, tmp_path):
    committed = _commit(client, algorithm="sha256", digest=DIGEST.upper())
    assert committed.status_code == 201
    index = committed.json()["index"]
    assert committed.json()["digest"] == DIGEST

    pending = client.get(f"/api/dreamsnail/proof/{index}")
    assert pending.status_code == 202
    assert pending.json()["code"] == "pending"
    assert pending.json()["retry_after_s"] > 0

    checkpoint_sign(force=True)
    proof = client.get(f"/api/dreamsnail/proof/{index}").json()
    bundle = tmp_path / "bundle.txt"
    bundle.write_text(proof["bundle"])

    result = subprocess.run(
        [sys.executable, "-m", "mesh.verify", str(bundle), "--key", proof["verifier_key"], "--digest", DIGEST],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"valid: entry {index} is in the log of size {proof['size']}" in result.stdout

    other = hashlib.sha256(b"a different document").hexdigest()
    result = subprocess.run(
        [sys.executable, "-m", "mesh.verify", str(bundle), "--key", proof["verifier_key"], "--digest", other],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "invalid" in result.stdout


def test_the_verify_endpoint_says_valid_or_why_not(client):
    index = _commit(client, algorithm="sha256", digest=DIGEST).json()["index"]
    checkpoint_sign(force=True)
    bundle = client.get(f"/api/dreamsnail/proof/{index}").json()["bundle"]
    ok = client.post("/api/dreamsnail/verify", {"bundle": bundle, "digest": DIGEST}, content_type="application/json")
    assert ok.json() == {"valid": True, "reason": None, "index": index, "size": 2, "origin": ok.json()["origin"]}

    lines = bundle.split("\n")
    proof_line = next(i for i, line in enumerate(lines) if line.startswith("index ")) + 1
    lines[proof_line] = ("A" if lines[proof_line][0] != "A" else "B") + lines[proof_line][1:]
    tampered = client.post("/api/dreamsnail/verify", {"bundle": "\n".join(lines)}, content_type="application/json")
    assert tampered.json()["valid"] is False
    assert tampered.json()["reason"]

    wrong = client.post(
        "/api/dreamsnail/verify", {"bundle": bundle, "digest": "ab" * 32}, content_type="application/json"
    )
    assert wrong.json()["valid"] is False
    assert "does not commit that digest" in wrong.json()["reason"]

    truncated = client.post("/api/dreamsnail/verify", {"bundle": bundle[:80]}, content_type="application/json")
    assert truncated.json()["valid"] is False


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"algorithm": "md5", "digest": "ab" * 16}, "bad_algorithm", "not supported"),
        ({"algorithm": "sha256", "digest": "ab" * 16}, "bad_digest", "64 hex digits; got 32"),
        ({"algorithm": "sha256", "digest": "zz" * 32}, "bad_digest", "non-hex"),
        ({"algorithm": "sha512", "digest": "ab" * 32}, "bad_digest", "128 hex digits"),
    ],
)
def test_malformed_commits_are_422_and_not_logged(client, body, code, message):
    response = _commit(client, **body)
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert message in response.json()["detail"]
    assert client.get("/api/mesh/node").json()["log_size"] == 0


def test_a_file_is_hashed_on_the_server_and_not_kept(client, tmp_path, settings):
    upload = tmp_path / "contract.pdf"
    upload.write_bytes(b"%PDF-1.7 contract body")
    with upload.open("rb") as f:
        response = client.post("/api/dreamsnail/commit/file", {"file": f, "algorithm": "blake3"})
    assert response.status_code == 201
    import blake3

    assert response.json()["digest"] == blake3.blake3(b"%PDF-1.7 contract body").hexdigest()
    assert not list(Path(settings.DREAMNET_HOME).rglob("contract.pdf"))


def test_unknown_entries_are_404(client):
    response = client.get("/api/dreamsnail/proof/5")
    assert response.status_code == 404
    assert response.json()["code"] == "no_such_entry"


def test_commits_are_rate_limited(client, settings):
    """The default allows 30 commits a minute per client address; the 31st is refused with 429."""
    statuses = [_commit(client, algorithm="sha256", digest=DIGEST).status_code for _ in range(31)]
    assert statuses == [201] * 30 + [429]
    refused = _commit(client, algorithm="sha256", digest=DIGEST)
    assert refused.json()["code"] == "rate_limited"
    assert "Retry-After" in refused.headers


def test_the_spec_sections_are_served(client):
    spec = client.get("/api/dreamsnail/spec")
    assert spec.headers["Content-Type"].startswith("text/markdown")
    assert spec.content.decode().startswith("## Specification")
    assert "tlog-proof@v1" in spec.content.decode()
    assert client.get("/api/dreamsnail/summary").content.decode().startswith("## Summary")
    assert client.get("/api/dreamsnail/roadmap").content.decode().startswith("## Roadmap")
