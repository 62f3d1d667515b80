"""Fabric: render a Loom manifest with the Taichi path tracer, then post-process it into an 8-bit image.

The image is traced in tiles of at most TILE_PIXELS pixels and, within a tile, in passes of at most
PASS_SAMPLES samples per pixel; each tile pass is one `compute.runtime.call` (about a second for the
showcase scene on 2 CPU cores), so other compute jobs interleave with a long render. The workspace (scene arrays and one
tile accumulator) is allocated once per runtime and grown, never shrunk; its lock gives one render at a
time the workspace. Results do not depend on the tiling, the passes or the CPU thread count: every sample
has its own random stream.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import compute.render.post as post
from compute import runtime
from compute.render.layout import LIGHT_FLOATS, MAT_FLOATS, OBJ_FLOATS, OBJ_INTS
from compute.render.loom import DEFAULT_LIMITS, Limits, Manifest, prepare

TILE_PIXELS = 256 * 256
PASS_SAMPLES = 16
_MIN_ROWS = 16

Progress = Callable[[float], None]


@dataclass(frozen=True, eq=False)
class RenderResult:
    """A rendered frame.

    image: uint8 (H, W, 3) sRGB, after bloom, exposure and tone map. hdr: float32 (H, W, 3) linear radiance,
    the mean of the samples, before any post-processing. coverage: float32 (H, W), the fraction of each
    pixel's camera rays that hit an object (an antialiased silhouette mask). seconds: wall time of the whole
    render. stats: counts and timings (see `render_manifest`).
    """

    image: np.ndarray
    hdr: np.ndarray
    coverage: np.ndarray
    seconds: float
    stats: dict[str, Any] = field(default_factory=dict)


def _kernels() -> ModuleType:
    """Import the kernels on first use, so that importing compute.render does not import Taichi."""
    import compute.render.kernels as kernels

    return kernels


def _capacity(rows: int) -> int:
    return max(_MIN_ROWS, 1 << max(rows - 1, 0).bit_length())


class _Workspace:
    """Taichi arrays for rendering, allocated on the runtime thread, grown to powers of two as scenes need.

    Use only on the runtime thread, and only while holding `lock` (one render at a time).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrays: dict[str, Any] = {}

    def array(self, name: str, rows: int, cols: int, dtype: Any) -> Any:
        """Return the array `name` with at least `rows` rows, replacing it with a larger one if needed."""
        ti = runtime.import_taichi()
        current = self.arrays.get(name)
        if current is None or current.shape[0] < rows:
            ti.sync()  # nothing may still be using the array this one replaces
            current = ti.ndarray(dtype, (_capacity(rows), cols))
            self.arrays[name] = current
        return current

    def load(self, name: str, values: np.ndarray, dtype: Any) -> Any:
        """Copy values into the array `name`, padded with zero rows to its capacity; return the array."""
        rows, cols = values.shape
        current = self.array(name, rows, cols, dtype)
        padded = np.zeros(current.shape, dtype=values.dtype)
        padded[:rows] = values
        current.from_numpy(padded)
        return current

    def tile(self, pixels: int) -> Any:
        """Return the tile accumulator (pixels x 4 float32 at least), its first `pixels` rows zeroed."""
        ti = runtime.import_taichi()
        tile = self.array("tile", pixels, 4, ti.f32)
        _kernels().clear(tile, pixels)
        return tile


def _workspace() -> _Workspace:
    return runtime.resource(("render",), _Workspace)


def _upload(ws: _Workspace, m: Manifest) -> dict[str, Any]:
    ti = runtime.import_taichi()
    return {
        "objects": ws.load("objects", m.objects.reshape(-1, OBJ_FLOATS), ti.f32),
        "kinds": ws.load("kinds", m.kinds.reshape(-1, OBJ_INTS), ti.i32),
        "clusters": ws.load("clusters", m.clusters.reshape(-1, 4), ti.f32),
        "ranges": ws.load("ranges", m.ranges.reshape(-1, 2), ti.i32),
        "materials": ws.load("materials", m.materials.reshape(-1, MAT_FLOATS), ti.f32),
        "lights": ws.load("lights", m.lights.reshape(-1, LIGHT_FLOATS), ti.f32),
    }


def _tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Return (x0, y0, tile width, tile height) covering the image, each at most TILE_PIXELS pixels."""
    tile_w = min(width, 256, TILE_PIXELS) if width * height > TILE_PIXELS else width
    tile_h = max(1, min(height, TILE_PIXELS // tile_w))
    return [
        (x0, y0, min(tile_w, width - x0), min(tile_h, height - y0))
        for y0 in range(0, height, tile_h)
        for x0 in range(0, width, tile_w)
    ]


def _key(seed: int) -> int:
    """Return the kernel's 64-bit stream key for a scene seed (splitmix64 of it, so nearby seeds differ)."""
    z = (seed + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


def trace(manifest: Manifest, *, progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Path-trace the manifest; return (hdr float32 (H, W, 3), coverage float32 (H, W)).

    Blocks the calling thread; the kernels run on the runtime thread. `progress`, if given, is called with
    the fraction done (0..1] after each tile pass, on the calling thread. Call it from an ordinary thread,
    not from a job already running on the runtime thread: that job would wait for the workspace while the
    render holding it waits for the runtime thread.
    """
    s = manifest.settings
    camera = s.camera
    scalars = {
        "key": _key(s.seed),
        "eye": camera.eye,
        "forward": camera.forward,
        "right": camera.right,
        "up": camera.up,
        "background": s.background,
    }
    passes = [(first, min(PASS_SAMPLES, s.samples - first)) for first in range(0, s.samples, PASS_SAMPLES)]
    tiles = _tiles(s.width, s.height)
    total = len(tiles) * len(passes)
    sums = np.zeros((s.height, s.width, 4), dtype=np.float32)
    ws = _workspace()
    with ws.lock:
        arrays = runtime.call(_upload, ws, manifest)
        done = 0
        for x0, y0, tw, th in tiles:
            tile = runtime.call(ws.tile, tw * th)
            for first, count in passes:
                runtime.call(
                    _launch, tile, arrays, scalars, s.width, s.height, (x0, y0, tw, th), first, count,
                    s.max_bounces, len(manifest.clusters), len(manifest.lights),
                )  # fmt: skip
                done += 1
                if progress is not None:
                    progress(done / total)
            block = runtime.call(tile.to_numpy)
            sums[y0 : y0 + th, x0 : x0 + tw] = block[: tw * th].reshape(th, tw, 4)
    sums /= np.float32(s.samples)
    return np.ascontiguousarray(sums[..., :3]), np.ascontiguousarray(sums[..., 3])


def _launch(
    tile_sums: Any,
    arrays: dict[str, Any],
    scalars: dict[str, Any],
    width: int,
    height: int,
    tile: tuple[int, int, int, int],
    first: int,
    count: int,
    max_bounces: int,
    cluster_count: int,
    light_count: int,
) -> None:
    x0, y0, tw, th = tile
    vec3 = runtime.import_taichi().math.vec3
    _kernels().trace(
        tile_sums, width, height, x0, y0, tw, th, first, count, max_bounces, scalars["key"],
        *(vec3(*scalars[k]) for k in ("eye", "forward", "right", "up", "background")),
        arrays["objects"], arrays["kinds"], arrays["clusters"], arrays["ranges"], cluster_count,
        arrays["materials"], arrays["lights"], light_count,
    )  # fmt: skip
    runtime.import_taichi().sync()


def render_manifest(manifest: Manifest, *, progress: Progress | None = None) -> RenderResult:
    """Render a Loom manifest: trace, then bloom, exposure, tone map and sRGB.

    stats holds the manifest's summary plus: arch and CPU threads of the runtime, trace_seconds,
    post_seconds, samples_per_second (camera samples, all bounces included) and coverage (mean).
    """
    started = time.perf_counter()
    info = runtime.info()
    hdr, coverage = trace(manifest, progress=progress)
    traced = time.perf_counter()
    image = post.finish(hdr, manifest.settings.post)
    finished = time.perf_counter()
    s = manifest.settings
    stats = dict(manifest.summary) | {
        "arch": info.arch,
        "threads": info.threads,
        "trace_seconds": round(traced - started, 4),
        "post_seconds": round(finished - traced, 4),
        "samples_per_second": round(s.width * s.height * s.samples / max(traced - started, 1e-9)),
        "coverage": round(float(coverage.mean()), 6),
    }
    return RenderResult(image=image, hdr=hdr, coverage=coverage, seconds=finished - started, stats=stats)


def render_scene(
    scene: Mapping[str, Any] | str | Path,
    *,
    width: int | None = None,
    height: int | None = None,
    samples: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress | None = None,
) -> RenderResult:
    """Validate and render a scene (mapping, JSON text or file path); width/height/samples override it.

    Raises SceneError listing every problem when the scene is invalid (nothing is traced then). `seconds`
    counts from the call, so it includes validation and, on a runtime's first render, kernel compilation.
    """
    started = time.perf_counter()
    manifest = prepare(scene, width=width, height=height, samples=samples, limits=limits)
    result = render_manifest(manifest, progress=progress)
    return RenderResult(
        image=result.image,
        hdr=result.hdr,
        coverage=result.coverage,
        seconds=time.perf_counter() - started,
        stats=result.stats,
    )
