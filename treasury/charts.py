"""Server-side SVG of a treasury's value over time (no JavaScript, no chart library)."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 640, 200, 24


def value_chart_svg(snapshots) -> SafeString | None:
    """Return an inline SVG of total, metal and crypto value per finished snapshot, or None with fewer than two."""
    if len(snapshots) < 2:
        return None
    start, end = snapshots[0].created_at.timestamp(), snapshots[-1].created_at.timestamp()
    series = {
        "total": [float(s.total_usd) for s in snapshots],
        "metal": [float(s.metal_usd) for s in snapshots],
        "crypto": [float(s.crypto_usd) for s in snapshots],
    }
    low, high = 0.0, max(series["total"]) or 1.0
    span_x = (end - start) or 1.0

    def points(values: list[float]) -> str:
        return " ".join(
            f"{PAD + (s.created_at.timestamp() - start) / span_x * (WIDTH - 2 * PAD):.1f},"
            f"{HEIGHT - PAD - (v - low) / (high - low) * (HEIGHT - 2 * PAD):.1f}"
            for s, v in zip(snapshots, values, strict=True)
        )

    label = (
        f"Treasury value over {len(snapshots)} snapshots, from {series['total'][0]:,.2f} to "
        f"{series['total'][-1]:,.2f} USD"
    )
    svg = format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}">'
        '<text x="{pad}" y="14" class="chart-label">${high}</text>'
        '<text x="{pad}" y="{bottom}" class="chart-label">$0</text>'
        '<polyline points="{metal}" class="chart-line chart-line-metal"/>'
        '<polyline points="{crypto}" class="chart-line chart-line-crypto"/>'
        '<polyline points="{total}" class="chart-line"/></svg>',
        w=WIDTH, h=HEIGHT, label=label, pad=PAD, high=f"{high:,.0f}", bottom=HEIGHT - 4,
        metal=points(series["metal"]), crypto=points(series["crypto"]), total=points(series["total"]),
    )  # fmt: skip
    return mark_safe(svg)  # noqa: S308 (built by format_html above)
