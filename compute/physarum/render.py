"""Render a physarum trail to an RGB image: a filmic tone curve and a warm slime-mould palette, in NumPy."""

from __future__ import annotations

import numpy as np

# Trail level (0..1 after tone mapping) -> colour: black, deep amber, orange, pale yellow.
_STOPS = np.array([0.0, 0.25, 0.6, 1.0])
_COLOURS = np.array([[4, 4, 10], [110, 38, 6], [245, 150, 30], [255, 246, 205]], dtype=np.float64)
_LUT = np.stack([np.interp(np.linspace(0, 1, 256), _STOPS, _COLOURS[:, c]) for c in range(3)], axis=1).astype(np.uint8)
_BLOCKED = np.array([70, 0, 40], dtype=np.uint8)


def render_trail(trail: np.ndarray, *, blocked: np.ndarray | None = None, exposure: float | None = None) -> np.ndarray:
    """Return trail (height, width) as an (height, width, 3) uint8 RGB image, row 0 at the top.

    Levels map through 1 - exp(-trail / exposure); `exposure` defaults to half the 99th percentile of the
    non-zero trail, so frames of one run look alike as the total changes. Cells in `blocked` (a bool mask)
    are tinted. A trail that is all zero renders black.
    """
    trail = np.asarray(trail, dtype=np.float64)
    if trail.ndim != 2:
        raise ValueError(f"trail must be a 2-D array, got shape {trail.shape}")
    if exposure is None:
        positive = trail[trail > 0]
        exposure = 0.5 * float(np.percentile(positive, 99)) if positive.size else 1.0
    if not exposure > 0:
        raise ValueError(f"exposure must be positive, got {exposure!r}")
    level = 1.0 - np.exp(-np.maximum(trail, 0.0) / exposure)
    image = _LUT[np.minimum((level * 255.0 + 0.5).astype(np.intp), 255)]
    if blocked is not None:
        image[np.asarray(blocked, dtype=bool)] = _BLOCKED
    return image
