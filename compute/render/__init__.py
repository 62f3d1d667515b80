"""The scene renderer: Loom validates and prepares a JSON scene, Fabric path-traces it with Taichi.

    result = render_scene("compute/render/scenes/showcase.json", width=256, height=256, samples=16)
    write_png("frame.png", result.image)

Importing this package does not import Taichi: the kernels load on the first render, on the runtime's
owner thread. The scene format is documented in docs/render.md.
"""

from __future__ import annotations

from pathlib import Path

from compute.render.fabric import RenderResult, render_manifest, render_scene, trace
from compute.render.images import decode_png, encode_png, read_png, write_png
from compute.render.loom import (
    DEFAULT_LIMITS,
    Limits,
    Manifest,
    SceneError,
    SceneIssue,
    configure,
    extract,
    load_scene,
    manifest,
    prepare,
    sort,
    validate,
)

SCENES = Path(__file__).resolve().parent / "scenes"

__all__ = [
    "DEFAULT_LIMITS",
    "SCENES",
    "Limits",
    "Manifest",
    "RenderResult",
    "SceneError",
    "SceneIssue",
    "configure",
    "decode_png",
    "encode_png",
    "extract",
    "load_scene",
    "manifest",
    "prepare",
    "read_png",
    "render_manifest",
    "render_scene",
    "sort",
    "trace",
    "validate",
    "write_png",
]
