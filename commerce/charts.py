"""Server-side SVG price chart (no JavaScript, no chart library)."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 640, 200, 24


def spot_chart_svg(ticks) -> SafeString | None:
    """Return an inline SVG line chart of the ticks' mid prices, or None with fewer than two ticks."""
    if len(ticks) < 2:
        return None
    mids = [float(t.bid + t.ask) / 2 for t in ticks]
    start, end = ticks[0].fetched_at.timestamp(), ticks[-1].fetched_at.timestamp()
    low, high = min(mids), max(mids)
    span_y = (high - low) or 1.0
    span_x = (end - start) or 1.0
    points = " ".join(
        f"{PAD + (t.fetched_at.timestamp() - start) / span_x * (WIDTH - 2 * PAD):.1f},"
        f"{HEIGHT - PAD - (m - low) / span_y * (HEIGHT - 2 * PAD):.1f}"
        for t, m in zip(ticks, mids, strict=True)
    )
    label = f"{ticks[0].metal} mid price from {low:,.2f} to {high:,.2f} USD over {len(ticks)} ticks"
    svg = format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}">'
        '<text x="{pad}" y="14" class="chart-label">{high}</text>'
        '<text x="{pad}" y="{bottom}" class="chart-label">{low}</text>'
        '<polyline points="{points}" class="chart-line"/></svg>',
        w=WIDTH,
        h=HEIGHT,
        label=label,
        pad=PAD,
        high=f"{high:,.2f}",
        low=f"{low:,.2f}",
        bottom=HEIGHT - 4,
        points=points,
    )
    return mark_safe(svg)  # noqa: S308 (built by format_html above)
