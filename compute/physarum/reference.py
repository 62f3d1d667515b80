"""NumPy reference of the physarum model: the validation and benchmark baseline for the kernels.

Same step as `compute.physarum.kernels`, vectorised over agents and cells: sense, rotate and move every agent,
count deposits per cell with `bincount`, then deposit, diffuse (3x3 mean with walls reflected into the centre)
and decay the whole trail at once. Random turns draw from NumPy's generator, not the kernels' per-agent
streams, so the two agree in behaviour and in mass balance, not agent by agent.
"""

from __future__ import annotations

import math

import numpy as np


def wrap(values: np.ndarray, size: float) -> np.ndarray:
    """Return f32 coordinates less than one width outside [0, size) moved into it on the torus."""
    values = np.where(values < 0, values + np.float32(size), values)
    values = np.where(values >= size, values - np.float32(size), values)
    return np.where((values >= size) | (values < 0), np.float32(0), values).astype(np.float32)


class NumpyPhysarum:
    """Agents and trail of one simulation, all in NumPy (the same contract as the Taichi engine)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, heading: np.ndarray, food: np.ndarray, *, seed: int) -> None:
        self.x, self.y, self.heading = x.copy(), y.copy(), heading.copy()
        self.food = food
        self.trail_now = np.zeros_like(food)
        self.blocked = np.zeros(food.shape, dtype=np.int32)
        self.rng = np.random.default_rng(seed)

    def close(self) -> None:
        return None

    def _sense(self, fx: np.ndarray, fy: np.ndarray, step: int, wrap_edges: bool, repel: float) -> np.ndarray:
        height, width = self.trail_now.shape
        i = np.floor(fy).astype(np.int64)
        j = np.floor(fx).astype(np.int64)
        if wrap_edges:
            i %= height
            j %= width
            inside = np.ones(len(i), dtype=bool)
        else:
            inside = (i >= 0) & (i < height) & (j >= 0) & (j < width)
            i = np.where(inside, i, 0)
            j = np.where(inside, j, 0)
        open_ = inside & (self.blocked[i, j] <= step)
        return np.where(open_, self.trail_now[i, j], -repel)

    def move(
        self,
        step: int,
        *,
        sensor_angle: float,
        rotation_angle: float,
        sensor_offset: float,
        step_size: float,
        wrap_edges: bool,
        repel: float,
    ) -> np.ndarray:
        """Sense, rotate and move every agent (see the kernel); return this step's deposits per cell (int)."""
        height, width = self.trail_now.shape
        f32 = np.float32
        x, y, a = self.x, self.y, self.heading
        so, sa, ra = f32(sensor_offset), f32(sensor_angle), f32(rotation_angle)
        front = self._sense(x + so * np.cos(a), y + so * np.sin(a), step, wrap_edges, repel)
        left = self._sense(x + so * np.cos(a + sa), y + so * np.sin(a + sa), step, wrap_edges, repel)
        right = self._sense(x + so * np.cos(a - sa), y + so * np.sin(a - sa), step, wrap_edges, repel)
        turning = ~((front > left) & (front > right))
        random_turn = turning & (front < left) & (front < right)
        to_right = turning & ~random_turn & (left < right)
        to_left = turning & ~random_turn & ~to_right & (right < left)
        coin = self.rng.random(len(a)) < 0.5
        a = a + np.where(random_turn, np.where(coin, ra, -ra), f32(0))
        a = a + np.where(to_left, ra, f32(0)) - np.where(to_right, ra, f32(0))
        two_pi = f32(2.0 * math.pi)
        a = np.where(a < 0, a + two_pi, np.where(a >= two_pi, a - two_pi, a)).astype(np.float32)
        nx = x + f32(step_size) * np.cos(a)
        ny = y + f32(step_size) * np.sin(a)
        if wrap_edges:
            nx, ny = wrap(nx, width), wrap(ny, height)
            ok = np.ones(len(a), dtype=bool)
        else:
            ok = (nx >= 0) & (nx < width) & (ny >= 0) & (ny < height)
        i = np.where(ok, np.floor(ny), 0).astype(np.int64)
        j = np.where(ok, np.floor(nx), 0).astype(np.int64)
        into_cut = ok & (self.blocked[i, j] > step)
        inside_cut = self.blocked[np.floor(y).astype(np.int64), np.floor(x).astype(np.int64)] > step
        moved = ok & (~into_cut | inside_cut)  # an agent caught in a cut may walk out of it
        deposits = moved & ~into_cut
        stuck = ~moved
        a[stuck] = (self.rng.random(int(stuck.sum())) * two_pi).astype(np.float32)
        self.x = np.where(moved, nx, x).astype(np.float32)
        self.y = np.where(moved, ny, y).astype(np.float32)
        self.heading = a
        return np.bincount(i[deposits] * width + j[deposits], minlength=height * width).reshape(height, width)

    def diffuse(
        self, step: int, count: np.ndarray, *, deposit: float, weight: float, keep: float, wrap_edges: bool
    ) -> None:
        """Add deposits and food, blend in the 3x3 mean (walls take the centre's value) and decay (see the kernel)."""
        height, width = self.trail_now.shape
        open_ = self.blocked <= step
        source = np.where(open_, self.trail_now + deposit * count + self.food, 0.0)
        mode = "wrap" if wrap_edges else "constant"
        padded = np.pad(source, 1, mode=mode)
        padded_open = np.pad(open_, 1, mode=mode)  # constant pads with False: off-grid is a wall
        total = np.zeros_like(source)
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                rows = slice(1 + di, 1 + di + height)
                cols = slice(1 + dj, 1 + dj + width)
                total += np.where(padded_open[rows, cols], padded[rows, cols], source)
        self.trail_now = np.where(open_, keep * ((1.0 - weight) * source + weight * (total / 9.0)), 0.0)

    def trail(self) -> np.ndarray:
        """Return a copy of the trail, (height, width) f64."""
        return self.trail_now.copy()

    def agents(self) -> np.ndarray:
        """Return an (agents, 3) f32 array of x, y, heading."""
        return np.stack([self.x, self.y, self.heading], axis=1)

    def cut(self, mask: np.ndarray, until: int, step: int) -> float:
        """Empty the trail under `mask`, block it until step `until` (the next step is `step`); return the mass
        removed."""
        removed = float(self.trail_now[mask].sum())
        self.trail_now[mask] = 0.0
        self.blocked[mask] = np.maximum(self.blocked[mask], until)
        return removed
