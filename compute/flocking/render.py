"""Render a flock to an RGB image: prey as a density glow, predators as red marks, in NumPy."""

from __future__ import annotations

import numpy as np

_BACKGROUND = np.array([8, 12, 24], dtype=np.float64)
_PREY = np.array([120, 220, 255], dtype=np.float64)
_PREDATOR = np.array([255, 60, 40], dtype=np.uint8)


def render_flock(state: np.ndarray, *, prey: int, width: float, height: float, scale: float = 1.0) -> np.ndarray:
    """Return an (round(height * scale), round(width * scale), 3) uint8 RGB image of `state` (rows x, y, vx, vy).

    Pixel (r, c) shows the world square [c, c + 1) x [r, r + 1) / scale, row 0 at y = 0. Prey brighten their
    pixel with their count (one prey shows at 58 %, three saturate); each predator is a 3 x 3 red square.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    columns, rows = max(1, round(width * scale)), max(1, round(height * scale))
    if columns * rows > 4096 * 4096:
        raise ValueError(f"the image would be {columns} x {rows} pixels; the limit is 4096 x 4096")
    state = np.asarray(state, dtype=np.float64)
    c = np.minimum((state[:, 0] * (columns / width)).astype(np.intp), columns - 1)
    r = np.minimum((state[:, 1] * (rows / height)).astype(np.intp), rows - 1)
    density = np.bincount(r[:prey] * columns + c[:prey], minlength=rows * columns).reshape(rows, columns)
    level = np.minimum(density / 3.0, 1.0)[..., None] ** 0.5
    image = (_BACKGROUND + level * (_PREY - _BACKGROUND)).astype(np.uint8)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            image[(r[prey:] + dr) % rows, (c[prey:] + dc) % columns] = _PREDATOR
    return image
