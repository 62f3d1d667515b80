""".qport, .qdlt and .fractal: round trips, determinism, and a strict reader that refuses every altered byte."""

from __future__ import annotations

import os
import random
import struct

import blake3
import pytest

from mesh.sync import envelope, fractal, qdlt, qport
from mesh.sync.envelope import FormatError, canonical_json


def _data(n: int, seed: int = 1) -> bytes:
    """Half random, half text: compressible like real files, with enough entropy that chunks differ."""
    rng = random.Random(seed)
    words = [rng.randbytes(rng.randrange(2, 9)).hex() for _ in range(500)]
    text = " ".join(rng.choice(words) for _ in range(n // 8)).encode()[: n - n // 2]
    return (rng.randbytes(n // 2) + text + rng.randbytes(n))[:n]


def _edit(data: bytes, fraction: float, *, seed: int = 2, piece: int = 1000) -> bytes:
    """``data`` with about ``fraction`` of its bytes rewritten, in scattered ``piece``-byte edits."""
    rng = random.Random(seed)
    out = bytearray(data)
    for _ in range(int(len(data) * fraction) // piece):
        at = rng.randrange(len(data) - piece)
        out[at : at + piece] = rng.randbytes(piece)
    return bytes(out)


def _refuses_every_bit_flip(packed: bytes, read) -> None:
    """Flip one bit in every byte position (a different bit each time); the reader must refuse each one."""
    accepted = []
    for i in range(len(packed)):
        mutated = bytearray(packed)
        mutated[i] ^= 1 << (i % 8)
        try:
            read(bytes(mutated))
        except FormatError:
            continue
        accepted.append(i)
    assert accepted == [], f"altered bytes accepted at {accepted}"


def _reseal(packed: bytes, *, version: int | None = None, header: dict | None = None) -> bytes:
    """Re-write the prefix and header of ``packed`` and seal it again, as a forger with the format spec would."""
    magic, ver, flags, hlen, plen, pdigest = envelope.PREFIX.unpack_from(packed)
    old_header = packed[envelope.PREFIX.size : envelope.PREFIX.size + hlen]
    payload = packed[envelope.PREFIX.size + hlen : -envelope.SEAL_SIZE]
    new_header = canonical_json(header) if header is not None else old_header
    prefix = envelope.PREFIX.pack(magic, ver if version is None else version, flags, len(new_header), plen, pdigest)
    return prefix + new_header + payload + blake3.blake3(prefix + new_header).digest()


# .qport ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 5000, 3 * 1024 * 1024 + 17])
def test_qport_round_trips_and_is_deterministic(size):
    data = _data(size, seed=size)
    packed = qport.pack(data, name="file.bin")
    assert packed[:4] == b"QPRT" and packed == qport.pack(data, name="file.bin")
    header, content = qport.unpack(packed)
    assert content == data
    assert header == {"blake3": blake3.blake3(data).hexdigest(), "level": 3, "name": "file.bin", "size": size}
    if size > 1_000_000:
        assert len(packed) < 0.8 * size  # the text half compresses


def test_qport_files_stream_and_open_atomically(tmp_path):
    src = tmp_path / "report.pdf"
    src.write_bytes(_data(2_000_000))
    dst = tmp_path / "report.pdf.qport"
    ticks = []
    qport.pack_file(src, dst, progress=ticks.append)
    assert sum(ticks) == 2_000_000 and dst.read_bytes() == qport.pack(src.read_bytes(), name="report.pdf")
    out = tmp_path / "out" / "copy.pdf"
    out.parent.mkdir()
    header, written = qport.open_file(dst, out)
    assert written == out and out.read_bytes() == src.read_bytes() and header["name"] == "report.pdf"
    with pytest.raises(envelope.OutputExists, match="pass --force"):
        qport.open_file(dst, out)
    out.write_bytes(b"old")
    qport.open_file(dst, out, force=True)
    assert out.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in out.parent.iterdir()) == ["copy.pdf"]  # no temp file left
    assert qport.verify_file(dst)["size"] == 2_000_000


def test_every_single_bit_change_of_a_qport_is_refused():
    _refuses_every_bit_flip(qport.pack(b"the quick brown fox " * 8, name="fox.txt"), qport.unpack)


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (10, "shorter than the 50-byte fixed prefix"),
        (60, "truncated header"),
        (-40, "truncated payload"),
        (-5, "truncated seal"),
    ],
)
def test_a_truncated_qport_is_refused(cut, message):
    packed = qport.pack(b"some content " * 20, name="a.txt")
    with pytest.raises(FormatError, match=message):
        qport.unpack(packed[:cut])


def test_trailing_bytes_unknown_version_and_other_magic_are_refused():
    packed = qport.pack(b"content", name="a.txt")
    with pytest.raises(FormatError, match="1 trailing bytes after the seal"):
        qport.unpack(packed + b"\0")
    with pytest.raises(FormatError, match=r"unsupported .qport version 2; this reader knows version 1"):
        qport.unpack(_reseal(packed, version=2))
    with pytest.raises(FormatError, match=r"not a .qport file: magic is b'QDLT'"):
        qport.unpack(qdlt.delta(b"a", b"b", name="b"))


def test_a_resealed_qport_with_a_false_header_is_refused():
    packed = qport.pack(b"content", name="a.txt")
    header = qport.unpack(packed)[0]
    with pytest.raises(FormatError, match="content digest mismatch"):
        qport.unpack(_reseal(packed, header=header | {"blake3": "0" * 64}))
    with pytest.raises(FormatError, match="size mismatch"):
        qport.unpack(_reseal(packed, header=header | {"size": 8}))
    with pytest.raises(FormatError, match="unknown field"):
        qport.unpack(_reseal(packed, header=header | {"mtime": 0}))
    with pytest.raises(FormatError, match="plain file name"):
        qport.unpack(_reseal(packed, header=header | {"name": "../a.txt"}))


# .qdlt -------------------------------------------------------------------------------------------------------


def test_a_one_percent_change_gives_a_delta_under_three_percent_and_rebuilds_the_target():
    base = _data(4 * 1024 * 1024, seed=5)
    target = _edit(base, 0.01)
    target = target[:100_000] + b"an inserted line\n" * 20 + target[100_000:]
    packed = qdlt.delta(base, target, name="v2.bin")
    assert packed[:4] == b"QDLT" and packed == qdlt.delta(base, target, name="v2.bin")
    assert len(packed) < 0.03 * len(target), len(packed) / len(target)
    header, rebuilt = qdlt.apply(packed, base)
    assert rebuilt == target
    assert header["base_blake3"] == blake3.blake3(base).hexdigest() and header["size"] == len(target)


@pytest.mark.parametrize(
    ("base", "target"),
    [(b"", b""), (b"", b"new file"), (b"old file", b""), (b"same" * 100, b"same" * 100), (os.urandom(300_000), b"x")],
)
def test_qdlt_edge_cases_round_trip(base, target):
    assert qdlt.apply(qdlt.delta(base, target, name="t"), base)[1] == target


def test_a_delta_applied_to_the_wrong_base_is_refused(tmp_path):
    base = _data(200_000, seed=1)
    packed = qdlt.delta(base, _edit(base, 0.02), name="t")
    with pytest.raises(FormatError, match="wrong base: this delta applies to the 200000-byte file with BLAKE3"):
        qdlt.apply(packed, base[:-1] + b"!")
    with pytest.raises(FormatError, match="wrong base"):
        qdlt.apply(packed, base + b"!")
    (tmp_path / "base").write_bytes(b"other")
    (tmp_path / "t.qdlt").write_bytes(packed)
    with pytest.raises(FormatError, match="wrong base"):
        qdlt.apply_file(tmp_path / "t.qdlt", tmp_path / "base")
    assert not (tmp_path / "t").exists()


def test_every_single_bit_change_of_a_qdlt_is_refused():
    base = b"hello world, this is the base file. " * 30
    packed = qdlt.delta(base, base.replace(b"world", b"there") + b" and a tail", name="t")
    _refuses_every_bit_flip(packed, lambda data: qdlt.apply(data, base))
    _refuses_every_bit_flip(packed, qdlt.check)


def test_qdlt_truncation_trailing_bytes_and_version_are_refused():
    base = b"base " * 100
    packed = qdlt.delta(base, b"target " * 100, name="t")
    with pytest.raises(FormatError, match="truncated payload"):
        qdlt.apply(packed[:-40], base)
    with pytest.raises(FormatError, match="3 trailing bytes"):
        qdlt.apply(packed + b"abc", base)
    with pytest.raises(FormatError, match=r"unsupported .qdlt version 9"):
        qdlt.apply(_reseal(packed, version=9), base)


def test_crafted_records_outside_the_base_are_refused():
    base = b"0123456789" * 10
    header = {"base_blake3": blake3.blake3(base).hexdigest(), "base_size": 100, "blake3": "0" * 64, "level": 3,
              "name": "t", "records": 1, "size": 50}  # fmt: skip

    def crafted(payload: bytes, **changes) -> bytes:
        import io

        out = io.BytesIO()
        writer = envelope.EnvelopeWriter(out, magic=qdlt.MAGIC, version=1, header=header | changes)
        writer.write(payload)
        writer.finish()
        return out.getvalue()

    with pytest.raises(FormatError, match="outside the 100-byte base"):
        qdlt.apply(crafted(struct.pack(">cQQ", b"C", 60, 50)), base)
    with pytest.raises(FormatError, match="unknown tag"):
        qdlt.apply(crafted(b"X" + bytes(16)), base)
    with pytest.raises(FormatError, match=r"record 1 .copy. is truncated"):
        qdlt.apply(crafted(b"C" + bytes(4)), base)
    with pytest.raises(FormatError, match="a writer makes at most"):
        qdlt.apply(crafted(struct.pack(">cQIII", b"D", 0, 100, 2 << 20, 10) + bytes(10)), base)
    with pytest.raises(FormatError, match="header says 2 records"):
        qdlt.apply(crafted(struct.pack(">cQQ", b"C", 0, 50), records=2), base)


# .fractal ----------------------------------------------------------------------------------------------------


def _tree(root, *, big: int = 0) -> None:
    (root / "docs" / "deep" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "docs" / "a.txt").write_text("alpha\n")
    (root / "docs" / "deep" / "deeper" / "z.txt").write_text("zeta\n" * 100)
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o755)
    (root / "empty.bin").write_bytes(b"")
    (root / "link").symlink_to("docs/a.txt")
    if big:
        (root / "docs" / "big.bin").write_bytes(_data(big))


def _same_tree(a, b) -> None:
    def listing(root):
        out = {}
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir", oct(p.stat().st_mode & 0o777))
            else:
                out[rel] = ("file", p.read_bytes(), bool(p.stat().st_mode & 0o100))
        return out

    assert listing(a) == listing(b)


def test_a_folder_round_trips_with_nested_dirs_empty_dirs_modes_and_inner_symlinks(tmp_path):
    src = tmp_path / "project"
    src.mkdir()
    _tree(src, big=3 * 1024 * 1024)
    packed = tmp_path / "project.fractal"
    header = fractal.pack_path(src, packed, level=3)
    assert header["kind"] == "dir" and header["entries"] == 10 and packed.read_bytes()[:4] == b"FRCL"
    out = tmp_path / "restored"
    fractal.open_file(packed, out)
    _same_tree(src, out)
    assert oct(out.stat().st_mode & 0o777) == "0o755"
    assert fractal.verify_file(packed)["root"] == header["root"]


def test_fractal_is_deterministic_whatever_the_mtimes_and_keeps_no_time(tmp_path):
    one, two = tmp_path / "one" / "tree", tmp_path / "two" / "tree"
    one.mkdir(parents=True)
    two.mkdir(parents=True)
    _tree(one)
    _tree(two)
    os.utime(two / "docs" / "a.txt", (1_000_000, 1_000_000))
    assert fractal.pack(one) == fractal.pack(two)
    single = fractal.pack(one / "run.sh")
    out = tmp_path / "run.fractal"
    out.write_bytes(single)
    header, written = fractal.open_file(out)
    assert header["kind"] == "file" and written == tmp_path / "run.sh"
    assert written.read_bytes() == (one / "run.sh").read_bytes() and written.stat().st_mode & 0o111


def test_every_single_bit_change_of_a_fractal_is_refused(tmp_path):
    src = tmp_path / "s"
    (src / "d").mkdir(parents=True)
    (src / "d" / "f.txt").write_text("hi")
    (src / "g").write_text("there")
    _refuses_every_bit_flip(fractal.pack(src), fractal.verify)


def test_fractal_truncation_trailing_bytes_and_version_are_refused(tmp_path):
    (tmp_path / "f").write_text("content")
    packed = fractal.pack(tmp_path / "f")
    with pytest.raises(FormatError, match="truncated"):
        fractal.verify(packed[:-33])
    with pytest.raises(FormatError, match="trailing bytes"):
        fractal.verify(packed + b"\n")
    with pytest.raises(FormatError, match=r"unsupported .fractal version 3"):
        fractal.verify(_reseal(packed, version=3))


def _crafted(entries: list[dict], contents: list[bytes], name: str = "evil") -> bytes:
    import io

    out = io.BytesIO()
    fractal.write_archive(out, kind="dir", name=name, entries=entries, contents=contents, level=3)
    return out.getvalue()


def _file(path: str, content: bytes) -> dict:
    return {"blake3": blake3.blake3(content).hexdigest(), "exec": False, "path": path, "size": len(content),
            "type": "file"}  # fmt: skip


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([_file("../escaped", b"x")], "path traversal"),
        ([{"path": "a", "type": "dir"}, _file("a/../../escaped", b"x")], "path traversal"),
        ([_file("/etc/escaped", b"x")], "absolute"),
        ([{"path": "up", "target": "../../etc/passwd", "type": "symlink"}], "points outside the archive"),
        ([{"path": "abs", "target": "/etc/passwd", "type": "symlink"}], "absolute or malformed"),
        (
            [{"path": "a", "target": ".", "type": "symlink"}, {"path": "b", "target": "a/../x", "type": "symlink"}],
            "through another symlink",
        ),
        ([{"path": "a", "target": "b", "type": "symlink"}, _file("a/x", b"x")], "not a folder entry"),
        ([_file("b", b"x"), _file("a", b"x")], "not sorted"),
    ],
)
def test_a_crafted_fractal_with_traversal_or_escaping_links_is_refused_and_writes_nothing(tmp_path, entries, message):
    work = tmp_path / "work"
    work.mkdir()
    packed = work / "evil.fractal"
    packed.write_bytes(_crafted(entries, [b"x" for e in entries if e["type"] == "file"]))
    with pytest.raises(FormatError, match=message):
        fractal.open_file(packed, work / "out")
    assert sorted(p.name for p in work.iterdir()) == ["evil.fractal"]
    assert not (tmp_path / "escaped").exists()


def test_a_fractal_whose_file_does_not_match_its_digest_is_refused(tmp_path):
    entry = _file("f", b"promised")
    packed = tmp_path / "x.fractal"
    packed.write_bytes(_crafted([entry | {"size": 7}], [b"swapped"]))
    with pytest.raises(FormatError, match="content digest mismatch for 'f'"):
        fractal.open_file(packed, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_packing_refuses_symlinks_that_leave_the_folder_and_special_files(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (tmp_path / "secret").write_text("s")
    (src / "out").symlink_to("../secret")
    with pytest.raises(FormatError, match="symlink out points outside the folder"):
        fractal.pack(src)
    (src / "out").unlink()
    (src / "abs").symlink_to(tmp_path / "secret")
    with pytest.raises(FormatError, match="symlink abs points outside the folder"):
        fractal.pack(src)
    (src / "abs").unlink()
    os.mkfifo(src / "pipe")
    with pytest.raises(FormatError, match="special file"):
        fractal.pack(src)
    (src / "pipe").unlink()
    (tmp_path / "link-to-src").symlink_to(src)
    with pytest.raises(FormatError, match="is a symlink"):
        fractal.pack(tmp_path / "link-to-src")
