"""The coherence view: a 5×5 density matrix summarising the measured health-probe history of five services.

Pure numpy, no Django: ``coherence_matrix(rounds, services=...)`` takes probe rounds (one mapping per round,
service name → ``(ok, latency_ms)``) and returns the matrix with its purity, von Neumann entropy, eigenvalues and a
one-line reading. How it is built (docs/operations.md "Coherence view" says the same):

1. Populations. ``h_i`` is service i's share of healthy rounds in the window (a round without a result for the
   service counts as not healthy). ``p_i = h_i / Σ h``; when no service was ever healthy, ``p_i = 1/5``.
2. Correlations. ``F`` is the Pearson correlation matrix of the failure indicators (1 when a probe failed) and
   ``L`` that of the probe latencies (log(1 + ms)), both over the rounds. A service whose series is constant has no
   correlation with the others (its row and column are those of the identity), and under MIN_ROUNDS (10) rounds
   neither matrix is estimated (both are the identity). Both matrices are positive
   semi-definite with a unit diagonal, so their mean ``C = (F + L) / 2`` is too.
3. The matrix. ``ρ = D C D`` with ``D = diag(√p)``: ``ρ_ii = p_i`` (the diagonal is the healthy share) and
   ``ρ_ij = √(p_i p_j) C_ij``. A congruence of a PSD matrix is PSD, ``trace ρ = Σ p_i = 1`` and ρ is real
   symmetric (Hermitian): a valid density matrix by construction, up to float rounding.

Five healthy, independent services give ``ρ = I/5`` (populations 0.20 each, purity 0.2, entropy log2 5 ≈ 2.32
bits): the maximally mixed state. Services that fail together raise their off-diagonal terms; purity rises and
entropy falls as the node's behaviour concentrates on fewer independent modes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

SERVICES = ("database", "channel_layer", "task_cluster", "mesh_log", "peers")
LABELS = {
    "database": "database",
    "channel_layer": "channel layer",
    "task_cluster": "task cluster",
    "mesh_log": "mesh log",
    "peers": "peers",
}
# A correlation at or above this reads as "fail together" (failures) or "move together" (latencies).
TOGETHER = 0.5
# Below this many rounds a correlation says nothing (two points always correlate ±1): the identity stands in.
MIN_ROUNDS = 10

Round = Mapping[str, tuple[bool, float]]


@dataclass(frozen=True)
class Coherence:
    """The density matrix of a window of probe rounds and what it says."""

    services: tuple[str, ...]
    matrix: list[list[float]]
    healthy_share: list[float]
    purity: float
    entropy: float  # von Neumann entropy in bits (log base 2)
    eigenvalues: list[float]  # descending
    rounds: int
    reading: str
    pairs: list[dict] = field(default_factory=list)  # the pairs that fail together, strongest first


def _correlation(series: np.ndarray) -> np.ndarray:
    """Pearson correlation of the rows of ``series`` (services × rounds); constant rows correlate with nothing."""
    n = series.shape[0]
    out = np.eye(n)
    if series.shape[1] < MIN_ROUNDS:
        return out
    centred = series - series.mean(axis=1, keepdims=True)
    norms = np.sqrt((centred * centred).sum(axis=1))
    live = norms > 1e-12
    if live.sum() >= 2:
        unit = centred[live] / norms[live][:, None]
        block = np.clip(unit @ unit.T, -1.0, 1.0)
        np.fill_diagonal(block, 1.0)
        index = np.flatnonzero(live)
        out[np.ix_(index, index)] = block
    return out


def _entropy_bits(eigenvalues: np.ndarray) -> float:
    positive = eigenvalues[eigenvalues > 1e-15]
    return float(-(positive * np.log2(positive)).sum())


def coherence_matrix(rounds: Sequence[Round], *, services: Sequence[str] = SERVICES) -> Coherence | None:
    """Return the density matrix of ``rounds`` over ``services``, or None when there are no rounds."""
    if not rounds:
        return None
    names = tuple(services)
    n, t = len(names), len(rounds)
    ok = np.zeros((n, t))
    latency = np.zeros((n, t))
    for j, probes in enumerate(rounds):
        for i, name in enumerate(names):
            result = probes.get(name)
            if result is not None:
                ok[i, j] = 1.0 if result[0] else 0.0
                latency[i, j] = math.log1p(max(0.0, float(result[1])))
    healthy = ok.mean(axis=1)
    total = healthy.sum()
    populations = healthy / total if total > 0 else np.full(n, 1.0 / n)
    failures = 1.0 - ok
    fail_corr = _correlation(failures)
    latency_corr = _correlation(latency)
    corr = (fail_corr + latency_corr) / 2.0
    scale = np.sqrt(populations)
    rho = corr * np.outer(scale, scale)
    rho = (rho + rho.T) / 2.0
    eigenvalues = np.clip(np.linalg.eigvalsh(rho)[::-1], 0.0, None)
    purity = float(np.einsum("ij,ji->", rho, rho))
    pairs = []
    failed = failures.sum(axis=1) > 0
    for a in range(n):
        for b in range(a + 1, n):
            if failed[a] and failed[b] and fail_corr[a, b] >= TOGETHER:
                pairs.append({"services": [names[a], names[b]], "correlation": round(float(fail_corr[a, b]), 4)})
    pairs.sort(key=lambda p: -p["correlation"])
    coupled = [
        (names[a], names[b], float(latency_corr[a, b]))
        for a in range(n)
        for b in range(a + 1, n)
        if latency_corr[a, b] >= TOGETHER
    ]
    coupled.sort(key=lambda c: -c[2])
    return Coherence(
        services=names,
        matrix=[[round(float(x), 6) for x in row] for row in rho],
        healthy_share=[round(float(h), 6) for h in healthy],
        purity=round(purity, 6),
        entropy=round(_entropy_bits(eigenvalues), 6),
        eigenvalues=[round(float(x), 6) for x in eigenvalues],
        rounds=t,
        reading=_reading(names, healthy, pairs, coupled, t),
        pairs=pairs,
    )


def _label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


def _reading(
    names: Sequence[str], healthy: np.ndarray, pairs: list[dict], coupled: list[tuple[str, str, float]], rounds: int
) -> str:
    """One line: the strongest finding first (failing together, down, flapping, latencies coupled, all well)."""
    if pairs:
        strongest = pairs[0]["services"]
        more = f" (and {len(pairs) - 1} more pair{'s' if len(pairs) > 2 else ''})" if len(pairs) > 1 else ""
        return f"two services fail together: {_label(strongest[0])} and {_label(strongest[1])}{more}"
    down = [_label(name) for name, h in zip(names, healthy, strict=True) if h == 0]
    if len(down) == len(names):
        return "every service failed throughout the window"
    if down:
        return f"down throughout the window: {', '.join(down)}"
    flapping = [f"{_label(name)} healthy {h:.0%} of the time" for name, h in zip(names, healthy, strict=True) if h < 1]
    if flapping:
        return "failures are independent: " + "; ".join(flapping)
    if coupled:
        a, b, _ = coupled[0]
        return f"all {len(names)} services healthy; latencies move together: {_label(a)} and {_label(b)}"
    if rounds < MIN_ROUNDS:
        return f"all {len(names)} services healthy in {rounds} rounds (correlations need {MIN_ROUNDS})"
    return f"all {len(names)} services healthy and independent: populations {1 / len(names):.2f} each"


def heatmap_svg(services: Sequence[str], matrix: Sequence[Sequence[float]]) -> str:
    """Return an SVG heatmap of ``matrix`` (rows and columns labelled by ``services``), self-contained and static.

    A cell's opacity is ``|ρ_ij| / max |ρ|``; positive terms are drawn in teal, negative in orange. Each cell has
    a ``<title>`` with its value for hover and screen readers. Presentation attributes only (the CSP allows no
    inline styles).
    """
    from html import escape

    n = len(services)
    cell, left, top = 56, 110, 24
    size_w, size_h = left + n * cell + 4, top + n * cell + 4
    peak = max((abs(x) for row in matrix for x in row), default=0.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size_w} {size_h}" width="{size_w}" '
        f'height="{size_h}" role="img" aria-labelledby="coherence-svg-title" class="coherence-heatmap">',
        '<title id="coherence-svg-title">Coherence matrix of the measured probe history</title>',
    ]
    for j, name in enumerate(services):
        x = left + j * cell + cell / 2
        parts.append(
            f'<text x="{x:.0f}" y="{top - 8}" text-anchor="middle" font-size="10" fill="currentColor">'
            f"{escape(_label(name)[:12])}</text>"
        )
    for i, name in enumerate(services):
        y = top + i * cell
        parts.append(
            f'<text x="{left - 6}" y="{y + cell / 2 + 4:.0f}" text-anchor="end" font-size="11" '
            f'fill="currentColor">{escape(_label(name))}</text>'
        )
        for j, value in enumerate(matrix[i]):
            x = left + j * cell
            colour = "#0f8b8d" if value >= 0 else "#e07a1f"
            opacity = min(1.0, abs(value) / peak)
            label = f"{_label(services[i])} × {_label(services[j])}: {value:.4f}"
            parts.append(
                f'<g data-cell="{i}-{j}"><title>{escape(label)}</title>'
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{colour}" '
                f'fill-opacity="{opacity:.3f}" stroke="currentColor" stroke-opacity="0.2"/>'
                f'<text x="{x + (cell - 2) / 2:.0f}" y="{y + cell / 2 + 3:.0f}" text-anchor="middle" font-size="10" '
                f'fill="currentColor">{value:.3f}</text></g>'
            )
    parts.append("</svg>")
    return "".join(parts)
