"""Report charts as SVG: horizontal bars with their values written beside them (no JavaScript, no library).

Pure module: imports nothing from Django. Labels and values are escaped here; the SVG is inlined in the report's
HTML and drawn by the browser or by WeasyPrint in the PDF.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

WIDTH = 640
BAR_HEIGHT = 18
GAP = 6
LABEL_WIDTH = 180
VALUE_WIDTH = 130


def bar_chart_svg(*, title: str, bars: list[tuple[str, Decimal, str]]) -> str:
    """Return an SVG of one bar per ``(label, value, value_text)``, scaled to the largest value; ``value_text``
    is the formatted number written at the bar's end. An empty list gives an SVG that says there is no data."""
    if not bars:
        height = 2 * BAR_HEIGHT
        return (
            f'<svg class="report-chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
            f'aria-label="{escape(title)}: no data" xmlns="http://www.w3.org/2000/svg">'
            f'<text x="0" y="{BAR_HEIGHT}" font-size="12" fill="#666">No data in this period.</text></svg>'
        )
    top = max((abs(value) for _, value, _ in bars), default=Decimal(0)) or Decimal(1)
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = len(bars) * (BAR_HEIGHT + GAP)
    parts = [
        f'<svg class="report-chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for row, (label, value, text) in enumerate(bars):
        y = row * (BAR_HEIGHT + GAP)
        width = float(abs(value) / top) * span
        parts.append(
            f'<text x="0" y="{y + BAR_HEIGHT - 5}" font-size="11">{escape(label[:28])}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{max(width, 1):.1f}" height="{BAR_HEIGHT}" fill="#2f6f9f"/>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + BAR_HEIGHT - 5}" font-size="11">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
