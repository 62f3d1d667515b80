"""Inclusion-proof bundles (c2sp.org/tlog-proof@v1) and the offline `python -m mesh.verify` command."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import nacl.signing
import pytest

from mesh.merkle import MemoryTree, ProofError, inclusion_proof, root
from mesh.note import Checkpoint, NoteError, Signer
from mesh.proofbundle import (
    BundleError,
    VerifiedInclusion,
    entry_commits_digest,
    format_bundle,
    parse_bundle,
    verify_bundle,
)
from mesh.verify import main

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "log.example/dreamnet"
SIGNER = Signer(ORIGIN, nacl.signing.SigningKey(b"\x07" * 32))
STRANGER = Signer(ORIGIN, nacl.signing.SigningKey(b"\x08" * 32))
DIGEST = hashlib.sha256(b"my lab notebook, page 12").digest()
ENTRIES = [
    json.dumps({"topic": "trail.commit", "digest": f"sha256:{DIGEST.hex()}"}).encode() if i == 5 else b"e%d" % i
    for i in range(10)
]
TREE = MemoryTree(ENTRIES)
CHECKPOINT_NOTE = SIGNER.sign(Checkpoint(ORIGIN, 10, root(10, TREE)).to_text())


def _bundle(index: int = 5, *, with_entry: bool = True) -> str:
    entry = ENTRIES[index] if with_entry else None
    return format_bundle(
        index=index, proof=inclusion_proof(index, 10, TREE), checkpoint_note=CHECKPOINT_NOTE, entry=entry
    )


def test_the_bundle_has_the_tlog_proof_shape() -> None:
    lines = _bundle().split("\n")
    assert lines[:3] == ["c2sp.org/tlog-proof@v1", f"extra {base64.b64encode(ENTRIES[5]).decode()}", "index 5"]
    assert lines[3:7] == [base64.b64encode(p).decode() for p in inclusion_proof(5, 10, TREE)]
    assert "\n".join(lines[7:]) == "\n" + CHECKPOINT_NOTE


def test_a_bundle_round_trips_and_verifies() -> None:
    bundle = parse_bundle(_bundle())
    assert (bundle.index, bundle.extra, bundle.checkpoint.size) == (5, ENTRIES[5], 10)
    assert bundle.proof == tuple(inclusion_proof(5, 10, TREE))
    result = verify_bundle(_bundle(), SIGNER.verifier_key)
    assert result == VerifiedInclusion(5, 10, root(10, TREE), ORIGIN, ENTRIES[5])


def test_a_bundle_without_extra_needs_the_entry() -> None:
    bundle = _bundle(3, with_entry=False)
    assert verify_bundle(bundle, SIGNER.verifier_key, entry=b"e3").index == 3
    with pytest.raises(BundleError, match="no 'extra' line"):
        verify_bundle(bundle, SIGNER.verifier_key)
    with pytest.raises(ProofError, match="root mismatch"):
        verify_bundle(bundle, SIGNER.verifier_key, entry=b"e4")


def test_the_verifier_recomputes_the_leaf_from_the_extra_bytes() -> None:
    forged = _bundle().replace(base64.b64encode(ENTRIES[5]).decode(), base64.b64encode(b"someone else's").decode())
    with pytest.raises(ProofError, match="root mismatch"):
        verify_bundle(forged, SIGNER.verifier_key)


def test_a_bundle_under_a_checkpoint_by_another_key_fails() -> None:
    with pytest.raises(NoteError, match="a different key"):
        verify_bundle(_bundle(), STRANGER.verifier_key)


def test_format_refuses_a_proof_that_does_not_verify() -> None:
    with pytest.raises(ProofError):
        format_bundle(index=4, proof=inclusion_proof(5, 10, TREE), checkpoint_note=CHECKPOINT_NOTE, entry=ENTRIES[4])
    with pytest.raises(BundleError, match="outside the checkpointed tree of size 10"):
        format_bundle(index=10, proof=[], checkpoint_note=CHECKPOINT_NOTE)


def _swap_lines(text: str, a: int, b: int) -> str:
    lines = text.split("\n")
    lines[a], lines[b] = lines[b], lines[a]
    return "\n".join(lines)


GOOD = _bundle()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "first line must be 'c2sp.org/tlog-proof@v1'"),
        (GOOD.replace("@v1", "@v2", 1), "first line must be"),
        (GOOD.split("\n\n")[0], "truncated bundle: no empty line before the checkpoint"),
        (GOOD[: GOOD.index("\n\n") + 2], "checkpoint: malformed note: no blank line"),
        (GOOD[:-1], "checkpoint: malformed note: the last signature line does not end in a newline"),
        (_swap_lines(GOOD, 1, 2), "line 3: unexpected 'extra' line; order is header, extra, index, proof"),
        (_swap_lines(GOOD, 2, 3), "line 3: expected 'index N'"),
        (GOOD.replace("\nindex 5\n", "\nindex 05\n"), "line 3: expected 'index N'"),
        (GOOD.replace("\nextra ", "\nextra !"), "line 2: the extra data is not valid base64"),
        (GOOD.replace("index 5\n", "index 5\nindex 5\n"), "line 4: unexpected 'index' line"),
        (GOOD.replace("index 5\n", "index 5\nAAAA\n"), "line 4: proof line is not base64 of a 32-byte hash"),
        (GOOD.replace("index 5\n", "index 5\n" + "A" * 43 + "\n"), "line 4: proof line is not base64"),
        (GOOD + "garbage\n", "checkpoint: malformed signature line 2"),
        (GOOD + "\ntrailing\n", "checkpoint: malformed signature line 1"),
        (GOOD.replace(f"{ORIGIN}\n10\n", f"{ORIGIN}\nten\n"), "checkpoint: checkpoint size 'ten'"),
        (GOOD.encode().replace(b"index", b"ind\xffx"), "not valid UTF-8"),
    ],
    ids=lambda value: value[:12] if isinstance(value, str) else None,
)
def test_malformed_bundles_are_rejected_with_a_reason(text: str | bytes, reason: str) -> None:
    with pytest.raises(BundleError, match=reason):
        parse_bundle(text)


def test_every_truncation_of_a_bundle_is_rejected() -> None:
    for cut in range(len(GOOD)):
        with pytest.raises(BundleError):
            parse_bundle(GOOD[:cut])


def test_an_entry_commits_a_digest_raw_or_as_a_json_digest_field() -> None:
    assert entry_commits_digest(DIGEST, DIGEST)
    assert entry_commits_digest(ENTRIES[5], DIGEST)
    assert entry_commits_digest(json.dumps({"digest": DIGEST.hex().upper()}).encode(), DIGEST)
    assert not entry_commits_digest(json.dumps({"digest": DIGEST.hex()[:-2]}).encode(), DIGEST)
    assert not entry_commits_digest(json.dumps({"note": DIGEST.hex()}).encode(), DIGEST)
    assert not entry_commits_digest(b"\xff not json", DIGEST)


# --- the command -------------------------------------------------------------------------------------------


@pytest.fixture
def bundle_file(tmp_path: Path) -> Path:
    path = tmp_path / "entry5.tlog-proof"
    path.write_text(GOOD)
    return path


def test_it_says_valid_and_exits_0(bundle_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(bundle_file), "--key", SIGNER.verifier_key]) == 0
    assert capsys.readouterr().out == f"valid: entry 5 is in the log of size 10 signed by {ORIGIN}\n"


def test_it_checks_a_digest(bundle_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(bundle_file), "--key", SIGNER.verifier_key, "--digest", DIGEST.hex()]) == 0
    assert capsys.readouterr().out.endswith(f"; it commits digest {DIGEST.hex()}\n")
    assert main([str(bundle_file), "--key", SIGNER.verifier_key, "--digest", "ab" * 32]) == 1
    assert capsys.readouterr().out == f"invalid: entry 5 is in the log but does not commit digest {'ab' * 32}\n"


def test_a_digest_is_the_entry_when_the_bundle_has_no_extra(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = MemoryTree([b"first", DIGEST, b"third"])
    note = SIGNER.sign(Checkpoint(ORIGIN, 3, root(3, tree)).to_text())
    path = tmp_path / "raw.tlog-proof"
    path.write_text(format_bundle(index=1, proof=inclusion_proof(1, 3, tree), checkpoint_note=note))
    assert main([str(path), "--key", SIGNER.verifier_key, "--digest", DIGEST.hex()]) == 0
    assert main([str(path), "--key", SIGNER.verifier_key]) == 1
    assert "invalid: the bundle has no 'extra' line" in capsys.readouterr().out


def test_it_says_invalid_and_exits_1(bundle_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(bundle_file), "--key", STRANGER.verifier_key]) == 1
    assert capsys.readouterr().out.startswith(f"invalid: no signature by {ORIGIN}+")
    bundle_file.write_text(GOOD.replace("index 5", "index 6"))
    assert main([str(bundle_file), "--key", SIGNER.verifier_key]) == 1
    assert (
        capsys.readouterr().out == "invalid: root mismatch: the proof does not lead from this leaf to the given root\n"
    )
    bundle_file.write_text(GOOD.replace("index 5", "index 50"))
    assert main([str(bundle_file), "--key", SIGNER.verifier_key]) == 1
    assert capsys.readouterr().out == "invalid: leaf index 50 is out of range for a tree of size 10\n"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ([], "the following arguments are required"),
        (["{file}"], "the following arguments are required: --key"),
        (["{file}", "--key", "nonsense"], "--key: verifier key must have the form"),
        (["{file}", "--key", SIGNER.verifier_key, "--digest", "xyz"], "--digest must be an even number"),
        (["{file}", "--key", SIGNER.verifier_key, "--digest", ""], "--digest is empty"),
        (["{missing}", "--key", SIGNER.verifier_key], "No such file or directory"),
    ],
)
def test_usage_errors_exit_2(
    args: list[str], reason: str, bundle_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [a.format(file=bundle_file, missing=bundle_file.with_name("absent")) for a in args]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert reason in capsys.readouterr().err


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_module_runs_standalone_from_stdin_without_importing_django() -> None:
    done = _run("-X", "importtime", "-m", "mesh.verify", "-", "--key", SIGNER.verifier_key, stdin=GOOD)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"valid: entry 5 is in the log of size 10 signed by {ORIGIN}\n"
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert "mesh.proofbundle" in imported  # the log is real: it lists the modules the command imported
    assert not [name for name in imported if name.split(".")[0] == "django"]


def test_no_pure_mesh_module_pulls_in_django() -> None:
    code = (
        "import sys, mesh.merkle, mesh.note, mesh.proofbundle, mesh.dreamfile, mesh.verify\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    done = _run("-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


def test_the_module_exits_1_on_a_tampered_bundle(bundle_file: Path) -> None:
    bundle_file.write_text(GOOD.replace(f"{ORIGIN}\n10\n", f"{ORIGIN}\n11\n"))
    done = _run("-m", "mesh.verify", str(bundle_file), "--key", SIGNER.verifier_key)
    assert done.returncode == 1
    assert done.stdout.startswith(f"invalid: bad signature by {ORIGIN}+")
