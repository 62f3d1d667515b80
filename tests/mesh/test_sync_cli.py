"""The ``dream`` file and node verbs: exit codes, one-line reasons on stderr, --json, no Django for file verbs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dreamnet.cli import app
from tests.conftest import subprocess_env
from tests.mesh.test_peers import FakeNode

ROOT = Path(__file__).resolve().parents[2]


def dream(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def _one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture
def work(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_bytes(b"DreamNet notes\n" * 500)
    return folder


@pytest.mark.parametrize("fmt", ["dreamfile", "qport"])
def test_pack_open_verify_round_trip_with_json(work, fmt):
    src = work / "notes.txt"
    packed = dream("pack", src, "--format", fmt, "--json")
    assert packed.exit_code == 0, packed.output
    info = json.loads(packed.stdout)
    assert info["format"] == fmt and info["file"] == str(src) + f".{fmt}" and info["size"] == 7500
    verified = dream("verify", info["file"], "--json")
    assert verified.exit_code == 0 and json.loads(verified.stdout)["complete"] is True
    exists = dream("open", info["file"])
    assert exists.exit_code == 3 and _one_line(exists) == f"dream open: {src} exists; pass --force to overwrite it"
    opened = dream("open", info["file"], "-o", work / "copy.txt", "--json")
    assert opened.exit_code == 0 and (work / "copy.txt").read_bytes() == src.read_bytes()
    assert json.loads(opened.stdout)["output"] == str(work / "copy.txt")
    assert dream("open", info["file"], "--force").exit_code == 0


def test_a_corrupted_file_is_refused_with_exit_1_and_one_line(work):
    dream("pack", work / "notes.txt", "--format", "qport")
    packed = work / "notes.txt.qport"
    data = bytearray(packed.read_bytes())
    data[80] ^= 0x01
    packed.write_bytes(bytes(data))
    for verb in ("verify", "open"):
        result = dream(verb, packed)
        assert result.exit_code == 1
        assert _one_line(result).startswith(f"dream {verb}: refused: ")
    assert sorted(p.name for p in work.iterdir()) == ["notes.txt", "notes.txt.qport"]
    (work / "plain").write_text("just text")
    result = dream("verify", work / "plain")
    assert result.exit_code == 1 and "is not a .dreamfile, .qport, .qdlt or .fractal" in _one_line(result)


def test_usage_errors_exit_2(work):
    missing = dream("open", work / "missing.qport")
    assert missing.exit_code == 2 and _one_line(missing) == f"dream open: {work / 'missing.qport'}: no such file"
    assert dream("pack", work / "notes.txt", "--format", "zip").exit_code == 2
    no_base = dream("pack", work / "notes.txt", "--format", "qdlt")
    assert no_base.exit_code == 2 and "--base" in _one_line(no_base)


def test_delta_and_open_with_base(work):
    base = work / "v1.bin"
    target = work / "v2.bin"
    base.write_bytes(os.urandom(300_000))
    target.write_bytes(base.read_bytes()[:150_000] + b"changed" + base.read_bytes()[150_000:])
    made = dream("delta", base, target, "--json")
    assert made.exit_code == 0, made.output
    info = json.loads(made.stdout)
    assert info["file"] == str(work / "v2.bin.qdlt") and info["file_size"] < 20_000
    assert info["base_size"] == 300_000
    no_base = dream("open", work / "v2.bin.qdlt")
    assert no_base.exit_code == 1 and "give the file it applies to with --base" in _one_line(no_base)
    structure = dream("verify", work / "v2.bin.qdlt", "--json")
    assert structure.exit_code == 0 and json.loads(structure.stdout)["complete"] is False
    wrong = dream("open", work / "v2.bin.qdlt", "--base", target, "-o", work / "out.bin")
    assert wrong.exit_code == 1 and "wrong base" in _one_line(wrong) and not (work / "out.bin").exists()
    opened = dream("open", work / "v2.bin.qdlt", "--base", base, "-o", work / "out.bin")
    assert opened.exit_code == 0 and (work / "out.bin").read_bytes() == target.read_bytes()
    again = dream("pack", target, "--format", "qdlt", "--base", base, "-o", work / "again.qdlt")
    assert again.exit_code == 0 and (work / "again.qdlt").read_bytes() == (work / "v2.bin.qdlt").read_bytes()


def test_fractal_and_open_a_folder(work):
    tree = work / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "a" / "b" / "c.txt").write_text("deep")
    made = dream("fractal", tree, "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["entries"] == 3 and (work / "tree.fractal").is_file()
    assert dream("verify", work / "tree.fractal").stdout.startswith("ok: ")
    opened = dream("open", work / "tree.fractal", "-o", work / "restored")
    assert opened.exit_code == 0 and (work / "restored" / "a" / "b" / "c.txt").read_text() == "deep"
    (tree / "escape").symlink_to("../notes.txt")
    refused = dream("fractal", tree, "--force")
    assert refused.exit_code == 1 and "points outside the folder" in _one_line(refused)


def test_every_verb_has_help():
    for verb in (["pack"], ["open"], ["verify"], ["delta"], ["fractal"], ["init"], ["stats"], ["friend", "add"],
                 ["friend", "ls"]):  # fmt: skip
        result = dream(*verb, "--help")
        assert result.exit_code == 0 and "Usage: " in result.stdout, verb


def test_file_verbs_run_without_django(work):
    script = (
        "import sys; from typer.testing import CliRunner; from dreamnet.cli import app\n"
        f"r = CliRunner().invoke(app, ['pack', {str(work / 'notes.txt')!r}, '--format', 'qport'])\n"
        f"r2 = CliRunner().invoke(app, ['open', {str(work / 'notes.txt.qport')!r}, '-o', {str(work / 'o')!r}])\n"
        "assert r.exit_code == 0 and r2.exit_code == 0, (r.output, r2.output)\n"
        "assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')], 'django imported'\n"
    )
    env = subprocess_env() | {"DJANGO_SETTINGS_MODULE": "no.such.settings"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (work / "o").read_bytes() == (work / "notes.txt").read_bytes()


# Node verbs ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_init_is_idempotent_and_stats_reads_the_node(settings):
    first = dream("init", "--json")
    assert first.exit_code == 0, first.output
    info = json.loads(first.stdout)
    assert info["home"] == str(settings.DREAMNET_HOME) and Path(info["chunk_store"]).is_dir()
    second = json.loads(dream("init", "--json").stdout)
    assert second["node_id"] == info["node_id"] and second["identity_created"] is False
    assert second["migrations_applied"] == 0
    from mesh.services import publish
    from mesh.sync.chunks import ChunkStore

    publish("test.stats", {"n": 1})
    ChunkStore(Path(info["chunk_store"])).put(b"a chunk")
    stats = dream("stats", "--json")
    assert stats.exit_code == 0, stats.output
    figures = json.loads(stats.stdout)
    assert figures["events"] == 1 and figures["log_size"] >= 1
    assert figures["chunks"] == 1 and figures["chunk_store_bytes"] == 7 and figures["peers"] == 0
    assert dream("stats").stdout.startswith("home ")


@pytest.mark.django_db
def test_friend_add_needs_a_key_or_tofu_and_ls_shows_the_label():
    node = FakeNode("friend.test/log")
    try:
        node.append(2)
        node.sign()
        unconfirmed = dream("friend", "add", node.url, "--label", "Berlin")
        assert unconfirmed.exit_code == 1 and node.verifier_key in _one_line(unconfirmed)
        added = dream("friend", "add", node.url, "--label", "Berlin", "--key", node.verifier_key, "--json")
        assert added.exit_code == 0, added.output
        assert json.loads(added.stdout)["label"] == "Berlin"
        again = dream("friend", "add", node.url, "--tofu")
        assert again.exit_code == 1 and "refused (peer_exists)" in _one_line(again)
        rows = json.loads(dream("friend", "ls", "--json").stdout)
        assert [(r["label"], r["origin"], r["state"]) for r in rows] == [("Berlin", "friend.test/log", "trusted")]
        assert "Berlin" in dream("friend", "ls").stdout
    finally:
        node.close()


@pytest.mark.django_db
def test_friend_add_on_first_use_with_tofu():
    node = FakeNode("tofu.test/log")
    try:
        node.sign()
        added = dream("friend", "add", node.url, "--tofu", "--json")
        assert added.exit_code == 0, added.output
        assert json.loads(added.stdout)["pinned_via"] == "tofu"
    finally:
        node.close()


def test_large_inputs_get_a_progress_bar_on_a_terminal_only(monkeypatch):
    from mesh.sync import cli

    with cli.progress_for(10 * 1024 * 1024, "pack") as progress:
        assert progress is None  # stderr is not a terminal under pytest: scripts get no bar
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    with cli.progress_for(1024, "pack") as progress:
        assert progress is None  # small inputs: no bar
    with cli.progress_for(10 * 1024 * 1024, "pack") as progress:
        assert callable(progress)
        progress(5 * 1024 * 1024)
