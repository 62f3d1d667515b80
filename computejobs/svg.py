"""Small server-side SVG plots (no chart library, no JavaScript): TSP tours and convergence traces."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

STYLE = "font-family:system-ui,sans-serif;font-size:12px"


def tour_svg(coords: Sequence[Sequence[float]], tour: Sequence[int], *, title: str, size: int = 480) -> str:
    """Return an SVG drawing of the closed tour through ``coords`` (y up), scaled to ``size`` pixels."""
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    lo_x, hi_x, lo_y, hi_y = min(xs), max(xs), min(ys), max(ys)
    scale = (size - 40) / max(hi_x - lo_x, hi_y - lo_y, 1e-9)

    def point(i: int) -> str:
        return f"{20 + (xs[i] - lo_x) * scale:.1f},{size - 20 - (ys[i] - lo_y) * scale:.1f}"

    path = " ".join(point(i) for i in [*tour, tour[0]])
    dots = "".join(
        f'<circle cx="{point(i).split(",")[0]}" cy="{point(i).split(",")[1]}" r="2"/>' for i in range(len(xs))
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img" aria-label="{escape(title)}">'
        f'<rect width="{size}" height="{size}" fill="#0d1020"/>'
        f'<polyline points="{path}" fill="none" stroke="#19c3b4" stroke-width="1.5"/>'
        f'<g fill="#f5b942">{dots}</g>'
        f'<text x="10" y="16" fill="#e8eaf6" style="{STYLE}">{escape(title)}</text></svg>'
    )


def convergence_svg(points: Sequence[tuple[float, float]], *, title: str, optimum: float | None = None) -> str:
    """Return a step plot of best length against seconds, with the optimum as a dashed line when known."""
    width, height, pad = 480, 240, 36
    if not points:
        points = [(0.0, 0.0)]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    lo_y = min([*ys, optimum]) if optimum is not None else min(ys)
    hi_y, hi_x = max(ys), max(max(xs), 1e-6)
    span = (hi_y - lo_y) or 1.0

    def px(x: float, y: float) -> str:
        return f"{pad + x / hi_x * (width - 2 * pad):.1f},{height - pad - (y - lo_y) / span * (height - 2 * pad):.1f}"

    steps = []
    for i, (x, y) in enumerate(points):
        if i:
            steps.append(px(x, points[i - 1][1]))
        steps.append(px(x, y))
    steps.append(px(hi_x, ys[-1]))
    opt = ""
    if optimum is not None:
        a, b = px(0, optimum), px(hi_x, optimum)
        opt = (f'<line x1="{a.split(",")[0]}" y1="{a.split(",")[1]}" x2="{b.split(",")[0]}" y2="{b.split(",")[1]}" '
               f'stroke="#f5b942" stroke-dasharray="4 3"/>')  # fmt: skip
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f'<rect width="{width}" height="{height}" fill="#0d1020"/>{opt}'
        f'<polyline points="{" ".join(steps)}" fill="none" stroke="#7c5cff" stroke-width="2"/>'
        f'<text x="{pad}" y="16" fill="#e8eaf6" style="{STYLE}">{escape(title)}</text>'
        f'<text x="{pad}" y="{height - 8}" fill="#a3a9c7" style="{STYLE}">0 s</text>'
        f'<text x="{width - pad - 40}" y="{height - 8}" fill="#a3a9c7" style="{STYLE}">{hi_x:.2f} s</text></svg>'
    )
