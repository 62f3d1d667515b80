"""Render a scene file to a PNG from the command line.

    python -m compute.render SCENE.json OUT.png [--width W] [--height H] [--samples S] [--json]

Prints the render time and the stats (as JSON with --json). Exit status 2 with every problem listed when
the scene is invalid, 1 when a file cannot be read or written.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from compute.render.fabric import render_scene
from compute.render.images import write_png
from compute.render.loom import SceneError


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return its exit status."""
    parser = argparse.ArgumentParser(prog="python -m compute.render", description=__doc__.split("\n")[0])
    parser.add_argument("scene", help="scene file (JSON, see docs/render.md)")
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument("--width", type=int, help="override render.width")
    parser.add_argument("--height", type=int, help="override render.height")
    parser.add_argument("--samples", type=int, help="override render.samples (per pixel)")
    parser.add_argument("--json", action="store_true", help="print the stats as one JSON object")
    args = parser.parse_args(argv)
    try:
        result = render_scene(args.scene, width=args.width, height=args.height, samples=args.samples)
        path = write_png(args.out, result.image)
    except SceneError as exc:
        print(f"{args.scene}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stats = result.stats | {"seconds": round(result.seconds, 4), "out": str(path)}
    if args.json:
        print(json.dumps(stats))
        return 0
    s = result.stats
    print(
        f"rendered {args.scene} -> {path}: {s['width']}x{s['height']}, {s['samples']} spp, "
        f"{result.seconds:.3f} s (trace {s['trace_seconds']:.3f} s, post {s['post_seconds']:.3f} s) "
        f"on {s['arch']} ({s['threads']} threads)"
    )
    for key in ("objects", "by_type", "particles", "hidden", "clusters", "materials", "lights", "tagged", "coverage"):
        print(f"  {key}: {s[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
