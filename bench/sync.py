"""Sync formats benchmark: .qport, .qdlt and .fractal against zstd, gzip, rsync and tar|zstd in the same run.

    .venv/bin/python bench/sync.py [--quick] [--json]

Works in a temporary folder on files built from this repository's own sources (text) and seeded random bytes
(incompressible), so every run sees the same data. Each figure is the best of a few runs, file to file, fsync
included on both sides. Prints, with the ratios:
- .qport pack and open MB/s (zstd level 3, one thread, BLAKE3 of the plain and packed bytes) against plain
  ``zstandard`` at the same level (streamed file to file) and against ``gzip -6``/``gzip -d``; aim: within 1.2x of
  zstd, ahead of gzip;
- .qdlt create and apply MB/s and size for a 1% change (scattered 2 KB edits and one insertion) against
  ``rsync --no-whole-file --only-write-batch`` on the same pair of files; aim: no more bytes than rsync's batch;
- .fractal pack and open MB/s and size of a folder against ``tar -c | zstd -19 --long=27`` (when ``zstd`` is
  installed);
- the figures the original Tesseract claimed (285 MB/s for .qport, 600+ MB/s for .qdlt) beside ours.

``--json`` ends the output with one line: a JSON object of ratios (``qport_pack_vs_zstd`` is .qport's pack MB/s
over plain zstd's; ``qdlt_bytes_vs_rsync_batch`` is the delta's size over rsync's batch; ...). A portal section is
added when ``bench/sync_portal.py`` exists: its ``portal_figures(quick: bool) -> dict[str, float]`` is called and
its ratios join the same object.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import zstandard  # noqa: E402

from mesh.sync import fractal, qdlt, qport  # noqa: E402
from mesh.sync.durable import fsync_path  # noqa: E402

MB = 1024 * 1024
TESSERACT_QPORT_MB_S = 285.0
TESSERACT_QDLT_MB_S = 600.0


def corpus(size: int, seed: int = 16) -> bytes:
    """``size`` bytes: three quarters this repository's text (shuffled in 4 KiB blocks), one quarter random."""
    texts = sorted(p for p in ROOT.glob("**/*") if p.suffix in {".py", ".md", ".html", ".css"}
                   and ".venv" not in p.parts and "var" not in p.parts and p.is_file())  # fmt: skip
    text = b"".join(p.read_bytes() for p in texts)
    rng = random.Random(seed)
    blocks = [text[i : i + 4096] for i in range(0, len(text) - 4096, 4096)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(blocks) if rng.random() < 0.75 else rng.randbytes(4096)
    return bytes(out[:size])


def edited(data: bytes, fraction: float = 0.01, seed: int = 3) -> bytes:
    """``data`` with ``fraction`` of it rewritten in scattered 2 KB edits, plus a 4 KB insertion at a third."""
    rng = random.Random(seed)
    out = bytearray(data)
    for _ in range(int(len(data) * fraction) // 2048):
        at = rng.randrange(len(data) - 2048)
        out[at : at + 2048] = rng.randbytes(2048)
    third = len(out) // 3
    return bytes(out[:third] + rng.randbytes(4096) + out[third:])


def best(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """The shortest wall time of each function over ``repeat`` rounds, the functions taking turns in each round
    (on shared cores, a busy spell then slows both sides of a ratio, not one)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: min(t) for name, t in times.items()}


def _zstd_pack(src: Path, dst: Path, level: int) -> None:
    cctx = zstandard.ZstdCompressor(level=level, threads=0)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        cctx.copy_stream(fin, fout, size=src.stat().st_size)
    fsync_path(dst)


def _zstd_open(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        zstandard.ZstdDecompressor().copy_stream(fin, fout)
    fsync_path(dst)


def _shell(command: str, out: Path) -> None:
    with open(out, "wb") as f:
        subprocess.run(command, shell=True, check=True, stdout=f)  # noqa: S602 - fixed commands on our temp paths
    fsync_path(out)


def bench_qport(work: Path, size: int, repeat: int) -> dict[str, float]:
    src = work / "plain.bin"
    src.write_bytes(corpus(size))
    packed, opened = work / "plain.bin.qport", work / "opened.bin"
    z, zo, g, go = work / "plain.zst", work / "zopened.bin", work / "plain.gz", work / "gopened.bin"
    packs = best({"qport": lambda: qport.pack_file(src, packed, force=True),
                  "zstd": lambda: _zstd_pack(src, z, qport.DEFAULT_LEVEL),
                  "gzip": lambda: _shell(f"gzip -6 -c {src}", g)}, repeat)  # fmt: skip
    opens = best({"qport": lambda: qport.open_file(packed, opened, force=True), "zstd": lambda: _zstd_open(z, zo),
                  "gzip": lambda: _shell(f"gzip -d -c {g}", go)}, repeat)  # fmt: skip
    t_pack, t_zpack, t_gpack = packs["qport"], packs["zstd"], packs["gzip"]
    t_open, t_zopen, t_gopen = opens["qport"], opens["zstd"], opens["gzip"]
    assert opened.read_bytes() == src.read_bytes() == zo.read_bytes() == go.read_bytes()
    mb = size / MB
    f = {
        "qport_pack_mb_s": mb / t_pack, "qport_open_mb_s": mb / t_open,
        "zstd_pack_mb_s": mb / t_zpack, "zstd_open_mb_s": mb / t_zopen,
        "gzip_pack_mb_s": mb / t_gpack, "gzip_open_mb_s": mb / t_gopen,
        "qport_bytes": packed.stat().st_size, "zstd_bytes": z.stat().st_size, "gzip_bytes": g.stat().st_size,
    }  # fmt: skip
    print(f"\n.qport on {mb:.0f} MB (3/4 text, 1/4 random); zstd level {qport.DEFAULT_LEVEL}, one thread")
    print(f"  {'':18}{'pack MB/s':>10}{'open MB/s':>11}{'bytes':>14}{'ratio':>8}")
    for name, key in ((".qport", "qport"), ("zstandard", "zstd"), ("gzip -6", "gzip")):
        print(f"  {name:18}{f[f'{key}_pack_mb_s']:10.1f}{f[f'{key}_open_mb_s']:11.1f}{f[f'{key}_bytes']:14,}"
              f"{f[f'{key}_bytes'] / size:8.3f}")  # fmt: skip
    print(f"  Tesseract's claim: {TESSERACT_QPORT_MB_S:.0f} MB/s; .qport packs at {f['qport_pack_mb_s']:.0f} MB/s")
    return f


def bench_qdlt(work: Path, size: int, repeat: int) -> dict[str, float]:
    base, target = work / "base.bin", work / "target.bin"
    data = corpus(size, seed=17)
    base.write_bytes(data)
    target.write_bytes(edited(data))
    delta, rebuilt = work / "target.bin.qdlt", work / "rebuilt.bin"
    dest = work / "rsync-dest.bin"
    shutil.copyfile(base, dest)
    batch = work / "rsync.batch"

    def rsync() -> None:
        for p in (batch, batch.with_suffix(".batch.sh")):
            p.unlink(missing_ok=True)
        subprocess.run(["rsync", "--no-whole-file", f"--only-write-batch={batch}", str(target), str(dest)],
                       check=True, capture_output=True)  # fmt: skip
        fsync_path(batch)

    times = best({"create": lambda: qdlt.delta_file(base, target, delta, force=True), "rsync": rsync}, repeat)
    t_create, t_rsync = times["create"], times["rsync"]
    t_apply = best({"apply": lambda: qdlt.apply_file(delta, base, rebuilt, force=True)}, repeat)["apply"]
    assert rebuilt.read_bytes() == target.read_bytes()
    tsize = target.stat().st_size
    mb = tsize / MB
    f = {
        "qdlt_create_mb_s": mb / t_create, "qdlt_apply_mb_s": mb / t_apply, "rsync_batch_mb_s": mb / t_rsync,
        "qdlt_bytes": delta.stat().st_size, "rsync_batch_bytes": batch.stat().st_size, "target_bytes": tsize,
    }  # fmt: skip
    print(f"\n.qdlt for a 1% change of {mb:.0f} MB (scattered 2 KB edits, one 4 KB insertion)")
    print(f"  .qdlt create {f['qdlt_create_mb_s']:8.1f} MB/s  apply {f['qdlt_apply_mb_s']:8.1f} MB/s  "
          f"{f['qdlt_bytes']:>10,} bytes ({f['qdlt_bytes'] / tsize:.2%} of the file)")  # fmt: skip
    print(f"  rsync batch  {f['rsync_batch_mb_s']:8.1f} MB/s{'':22}{f['rsync_batch_bytes']:>10,} bytes "
          f"({f['rsync_batch_bytes'] / tsize:.2%})")  # fmt: skip
    print(f"  Tesseract's claim: {TESSERACT_QDLT_MB_S:.0f}+ MB/s; .qdlt creates at {f['qdlt_create_mb_s']:.0f} "
          f"and applies at {f['qdlt_apply_mb_s']:.0f} MB/s")  # fmt: skip
    return f


def _folder(root: Path, size: int) -> None:
    """A project-like folder: this repository's text files, a second edited copy of them, some random blobs."""
    rng = random.Random(5)
    sources = sorted(p for p in ROOT.glob("**/*") if p.suffix in {".py", ".md", ".html", ".css", ".json"}
                     and ".venv" not in p.parts and "var" not in p.parts and p.is_file())  # fmt: skip
    written = 0
    for copy in ("v1", "v2"):
        for p in sources:
            if written >= size * 0.8:
                break
            out = root / copy / p.relative_to(ROOT)
            out.parent.mkdir(parents=True, exist_ok=True)
            data = p.read_bytes()
            if copy == "v2" and rng.random() < 0.1:
                data = data.replace(b"def ", b"def  ", 1)
            out.write_bytes(data)
            written += len(data)
    n = 0
    while written < size:
        blob = rng.randbytes(min(256 * 1024, size - written))
        (root / "blobs").mkdir(exist_ok=True)
        (root / "blobs" / f"b{n}.bin").write_bytes(blob)
        written += len(blob)
        n += 1


def bench_fractal(work: Path, size: int, repeat: int) -> dict[str, float]:
    src = work / "tree"
    src.mkdir()
    _folder(src, size)
    total = sum(p.stat().st_size for p in src.rglob("*") if p.is_file())
    packed, opened = work / "tree.fractal", work / "opened-tree"

    tz, untarred = work / "tree.tar.zst", work / "untar"

    def open_fractal() -> None:
        fractal.open_file(packed, opened, force=True)

    def tar_zstd() -> None:
        _shell(f"tar -C {work} -cf - tree | zstd -q -19 --long=27 -T1 -c", tz)

    def untar() -> None:
        shutil.rmtree(untarred, ignore_errors=True)
        untarred.mkdir()
        subprocess.run(f"zstd -q -d --long=27 -c {tz} | tar -C {untarred} -xf -", shell=True, check=True)  # noqa: S602
        for p in untarred.rglob("*"):
            if p.is_file():
                fsync_path(p)

    reference = shutil.which("zstd") is not None
    packs = best({"fractal": lambda: fractal.pack_path(src, packed, force=True)} | ({"tar": tar_zstd} if reference else {}),
                 repeat)  # fmt: skip
    opens = best({"fractal": open_fractal} | ({"tar": untar} if reference else {}), repeat)
    mb = total / MB
    f = {"fractal_pack_mb_s": mb / packs["fractal"], "fractal_open_mb_s": mb / opens["fractal"],
         "fractal_bytes": packed.stat().st_size, "folder_bytes": total}  # fmt: skip
    print(f"\n.fractal of a {mb:.1f} MB folder ({sum(1 for _ in src.rglob('*'))} entries; level 19, long range)")
    print(f"  .fractal        pack {f['fractal_pack_mb_s']:7.2f} MB/s  open {f['fractal_open_mb_s']:7.1f} MB/s  "
          f"{f['fractal_bytes']:>11,} bytes (ratio {f['fractal_bytes'] / total:.3f})")  # fmt: skip
    if reference:
        f |= {"tar_zstd_pack_mb_s": mb / packs["tar"], "tar_zstd_open_mb_s": mb / opens["tar"],
              "tar_zstd_bytes": tz.stat().st_size}  # fmt: skip
        print(f"  tar | zstd -19  pack {f['tar_zstd_pack_mb_s']:7.2f} MB/s  open {f['tar_zstd_open_mb_s']:7.1f} MB/s  "
              f"{f['tar_zstd_bytes']:>11,} bytes (ratio {f['tar_zstd_bytes'] / total:.3f})")  # fmt: skip
    else:
        print("  (zstd CLI not installed: no tar | zstd reference)")
    return f


def ratios(q: dict[str, float], d: dict[str, float], fr: dict[str, float]) -> dict[str, float]:
    out = {
        "qport_pack_vs_zstd": q["qport_pack_mb_s"] / q["zstd_pack_mb_s"],
        "qport_open_vs_zstd": q["qport_open_mb_s"] / q["zstd_open_mb_s"],
        "qport_pack_vs_gzip6": q["qport_pack_mb_s"] / q["gzip_pack_mb_s"],
        "qport_open_vs_gzip": q["qport_open_mb_s"] / q["gzip_open_mb_s"],
        "qport_bytes_vs_zstd": q["qport_bytes"] / q["zstd_bytes"],
        "qport_bytes_vs_gzip6": q["qport_bytes"] / q["gzip_bytes"],
        "qport_pack_vs_tesseract_claim": q["qport_pack_mb_s"] / TESSERACT_QPORT_MB_S,
        "qdlt_bytes_vs_rsync_batch": d["qdlt_bytes"] / d["rsync_batch_bytes"],
        "qdlt_bytes_vs_target": d["qdlt_bytes"] / d["target_bytes"],
        "qdlt_create_vs_rsync_batch": d["qdlt_create_mb_s"] / d["rsync_batch_mb_s"],
        "qdlt_create_vs_tesseract_claim": d["qdlt_create_mb_s"] / TESSERACT_QDLT_MB_S,
        "qdlt_apply_vs_tesseract_claim": d["qdlt_apply_mb_s"] / TESSERACT_QDLT_MB_S,
        "fractal_bytes_vs_folder": fr["fractal_bytes"] / fr["folder_bytes"],
    }
    if "tar_zstd_bytes" in fr:
        out |= {
            "fractal_pack_vs_tar_zstd19": fr["fractal_pack_mb_s"] / fr["tar_zstd_pack_mb_s"],
            "fractal_open_vs_tar_zstd19": fr["fractal_open_mb_s"] / fr["tar_zstd_open_mb_s"],
            "fractal_bytes_vs_tar_zstd19": fr["fractal_bytes"] / fr["tar_zstd_bytes"],
        }
    return {k: round(v, 4) for k, v in out.items()}


def portal_section(quick: bool) -> dict[str, float]:
    """The figures of ``bench/sync_portal.py`` (another section of the sync bench), when it exists."""
    path = Path(__file__).with_name("sync_portal.py")
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location("sync_portal", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.portal_figures(quick))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller files (32 MB, 8 MB folder), 2 runs each")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of ratios")
    args = parser.parse_args()
    size, folder, repeat = (32 * MB, 8 * MB, 2) if args.quick else (128 * MB, 32 * MB, 3)
    with tempfile.TemporaryDirectory(prefix="dreamnet-bench-sync-") as tmp:
        work = Path(tmp)
        q = bench_qport(work, size, repeat)
        d = bench_qdlt(work, size, repeat)
        fr = bench_fractal(work, folder, max(1, repeat - 1))
    result = ratios(q, d, fr) | portal_section(args.quick)
    print("\nratios: " + ", ".join(f"{k} {v:.3f}" for k, v in result.items()))
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
