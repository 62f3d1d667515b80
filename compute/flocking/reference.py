"""NumPy reference of predator-prey flocking: the validation and benchmark baseline for the kernels.

The same grid and rules as `compute.flocking.kernels`, vectorised: the grid is a stable argsort of the cell
indices, the candidate pairs of all agents are listed at once (cell by cell of the 3 x 3 block, then in index
order within a cell, the kernels' order), and per-agent sums are `bincount`s over the pairs. Respawns draw from
the same per-agent splitmix64 streams, so both backends follow the same trajectories up to rounding.
`brute_force_neighbours` checks every pair, for testing the grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0


@dataclass(frozen=True, eq=False)
class NeighbourSummary:
    """Per agent: neighbours within the radius, the sums of their indices and squared indices; and the number
    of candidate pairs the search checked in all (n * (n - 1) for brute force)."""

    count: np.ndarray
    index_sum: np.ndarray
    index_square_sum: np.ndarray
    pair_checks: int


def uniform(rng: np.ndarray, agents: np.ndarray) -> np.ndarray:
    """Advance the splitmix64 streams of `agents` (indices into `rng`, in place) and return doubles in [0, 1)."""
    with np.errstate(over="ignore"):
        x = rng[agents] + _GOLDEN
        rng[agents] = x
        x = (x ^ (x >> np.uint64(30))) * _MIX1
        x = (x ^ (x >> np.uint64(27))) * _MIX2
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def delta(d: np.ndarray, size: float) -> np.ndarray:
    """Return the shortest signed offsets on a torus of `size` for raw offsets in (-size, size)."""
    return np.where(d > 0.5 * size, d - size, np.where(d < -0.5 * size, d + size, d))


@dataclass(frozen=True)
class Grid:
    """Cells of at least the neighbour radius on a width x height torus."""

    gx: int
    gy: int
    width: float
    height: float

    def cells(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        cx = np.minimum((x / (self.width / self.gx)).astype(np.int64), self.gx - 1)
        cy = np.minimum((y / (self.height / self.gy)).astype(np.int64), self.gy - 1)
        return cy * self.gx + cx

    def pairs(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (i, j): every agent i against every other agent j of its 3 x 3 block of cells, grouped by i's
        block cell in row-major order, then j ascending within a cell."""
        n = len(x)
        cell = self.cells(x, y)
        order = np.argsort(cell, kind="stable")
        start = np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=self.gx * self.gy))])
        cx, cy = cell % self.gx, cell // self.gx
        agents = np.arange(n)
        firsts, lens = [], []
        for oy in (-1, 0, 1):
            for ox in (-1, 0, 1):
                other = ((cy + oy) % self.gy) * self.gx + (cx + ox) % self.gx
                firsts.append(start[other])
                lens.append(start[other + 1] - start[other])
        # Interleave to agent-major order: agent 0's nine cells, then agent 1's, ...
        first = np.stack(firsts, axis=1).ravel()
        length = np.stack(lens, axis=1).ravel()
        i = np.repeat(np.repeat(agents, 9), length)
        within = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
        j = order[np.repeat(first, length) + within]
        keep = i != j
        return i[keep], j[keep]


def grid_neighbours(x: np.ndarray, y: np.ndarray, grid: Grid, radius: float) -> NeighbourSummary:
    """Return the grid search's neighbour summary, computed in NumPy."""
    n = len(x)
    i, j = grid.pairs(x, y)
    dx, dy = delta(x[j] - x[i], grid.width), delta(y[j] - y[i], grid.height)
    near = dx * dx + dy * dy < radius * radius
    i, j = i[near], j[near]
    return NeighbourSummary(
        count=np.bincount(i, minlength=n).astype(np.int32),
        index_sum=np.bincount(i, weights=j, minlength=n).astype(np.int64),
        index_square_sum=np.bincount(i, weights=j.astype(np.float64) ** 2, minlength=n).astype(np.int64),
        pair_checks=len(near),
    )


def brute_force_neighbours(
    x: np.ndarray, y: np.ndarray, *, width: float, height: float, radius: float
) -> NeighbourSummary:
    """Return the neighbour summary from checking every pair: the ground truth for the grid searches."""
    n = len(x)
    count = np.zeros(n, dtype=np.int32)
    index_sum = np.zeros(n, dtype=np.int64)
    index_square_sum = np.zeros(n, dtype=np.int64)
    indices = np.arange(n, dtype=np.int64)
    for first in range(0, n, 512):  # 512 rows at a time bound the memory to 512 * n
        rows = slice(first, min(first + 512, n))
        dx = delta(x[None, :] - x[rows, None], width)
        dy = delta(y[None, :] - y[rows, None], height)
        near = dx * dx + dy * dy < radius * radius
        near[np.arange(near.shape[0]), indices[rows]] = False
        count[rows] = near.sum(axis=1)
        index_sum[rows] = near @ indices
        index_square_sum[rows] = near @ (indices * indices)
    return NeighbourSummary(count, index_sum, index_square_sum, n * (n - 1))


def _limit(ax: np.ndarray, ay: np.ndarray, most: float) -> tuple[np.ndarray, np.ndarray]:
    norm = np.sqrt(ax * ax + ay * ay)
    scale = np.where(norm > most, most / np.where(norm > 0, norm, 1.0), 1.0)
    return ax * scale, ay * scale


def _clamp_speed(vx: np.ndarray, vy: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    speed = np.sqrt(vx * vx + vy * vy)
    safe = np.where(speed > 0, speed, 1.0)
    scale = np.where(speed > high, high / safe, np.where(speed < low, low / safe, 1.0))
    still = speed == 0.0
    rx = np.where(still & (low > 0), low, vx * scale)
    return rx, np.where(still, 0.0, vy * scale)


class NumpyFlock:
    """Positions, velocities and streams of one flock, all in NumPy (the same contract as the Taichi engine)."""

    def __init__(
        self, state: np.ndarray, streams: np.ndarray, *, prey: int, grid: Grid, rules: dict[str, float]
    ) -> None:
        self.x, self.y, self.vx, self.vy = (state[:, k].copy() for k in range(4))
        self.rng = streams.copy()
        self.prey = prey
        self.grid = grid
        self.rules = rules

    def close(self) -> None:
        return None

    def run(self, steps: int) -> list[int]:
        """Advance `steps` steps; return the prey caught in each."""
        return [self._step() for _ in range(steps)]

    def _step(self) -> int:
        r = self.rules
        n, prey, grid = len(self.x), self.prey, self.grid
        x, y, vx, vy = self.x, self.y, self.vx, self.vy
        i, j = grid.pairs(x, y)
        dx, dy = delta(x[j] - x[i], grid.width), delta(y[j] - y[i], grid.height)
        d2 = dx * dx + dy * dy
        near = d2 < r["radius"] ** 2
        i, j, dx, dy, d2 = i[near], j[near], dx[near], dy[near], d2[near]
        inverse = 1.0 / np.maximum(d2, 1e-12)

        # Prey.
        mate = (i < prey) & (j < prey)
        close = mate & (d2 < r["separation_radius"] ** 2)
        threat = (i < prey) & (j >= prey)

        def total(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
            return np.bincount(i[mask], weights=values[mask], minlength=n)[:prey]

        mates = np.bincount(i[mate], minlength=n)[:prey]
        sep_x, sep_y = total(close, -dx * inverse), total(close, -dy * inverse)
        flee_x = total(threat, -dx * inverse * r["radius"])
        flee_y = total(threat, -dy * inverse * r["radius"])
        ax = r["separation"] * sep_x + r["flee"] * flee_x
        ay = r["separation"] * sep_y + r["flee"] * flee_y
        some = mates > 0
        per = np.where(some, mates, 1)
        ax += np.where(
            some,
            r["alignment"] * (total(mate, vx[j]) / per - vx[:prey])
            + r["cohesion"] * (total(mate, dx) / per) / r["radius"],
            0.0,
        )
        ay += np.where(
            some,
            r["alignment"] * (total(mate, vy[j]) / per - vy[:prey])
            + r["cohesion"] * (total(mate, dy) / per) / r["radius"],
            0.0,
        )
        ax, ay = _limit(ax, ay, r["prey_force"])
        new_vx, new_vy = np.empty(n), np.empty(n)
        new_vx[:prey], new_vy[:prey] = _clamp_speed(
            vx[:prey] + ax, vy[:prey] + ay, r["prey_min_speed"], r["prey_max_speed"]
        )

        # Predators: the nearest prey in range, ties to the lower index.
        hunt = (i >= prey) & (j < prey)
        hi, hj, hd2 = i[hunt], j[hunt], d2[hunt]
        order = np.lexsort((hj, hd2, hi))
        hi, hj, hd2, hdx, hdy = hi[order], hj[order], hd2[order], dx[hunt][order], dy[hunt][order]
        first = np.ones(len(hi), dtype=bool)
        first[1:] = hi[1:] != hi[:-1]
        hunters, target, distance = hi[first], hj[first], np.sqrt(hd2[first])
        pax, pay = np.zeros(n), np.zeros(n)
        moving = distance > 0
        speed = r["predator_max_speed"]
        pax[hunters[moving]] = r["pursuit"] * (hdx[first][moving] / distance[moving] * speed - vx[hunters[moving]])
        pay[hunters[moving]] = r["pursuit"] * (hdy[first][moving] / distance[moving] * speed - vy[hunters[moving]])
        pax, pay = _limit(pax[prey:], pay[prey:], r["predator_force"])
        new_vx[prey:], new_vy[prey:] = _clamp_speed(
            vx[prey:] + pax, vy[prey:] + pay, r["predator_min_speed"], r["predator_max_speed"]
        )
        caught = np.unique(target[distance < r["catch_radius"]])

        # Move; caught prey respawn from their own streams (three draws each, as in the kernel).
        nx = np.mod(x + new_vx, grid.width)
        ny = np.mod(y + new_vy, grid.height)
        self.x = np.where((nx >= grid.width) | (nx < 0), 0.0, nx)
        self.y = np.where((ny >= grid.height) | (ny < 0), 0.0, ny)
        self.vx, self.vy = new_vx, new_vy
        if len(caught):
            top = 1.0 - _TO_UNIT
            self.x[caught] = np.minimum(uniform(self.rng, caught) * grid.width, grid.width * top)
            self.y[caught] = np.minimum(uniform(self.rng, caught) * grid.height, grid.height * top)
            angle = uniform(self.rng, caught) * (2.0 * math.pi)
            self.vx[caught] = r["respawn_speed"] * np.cos(angle)
            self.vy[caught] = r["respawn_speed"] * np.sin(angle)
        return len(caught)

    def state(self) -> np.ndarray:
        """Return an (agents, 4) f64 array of x, y, vx, vy."""
        return np.stack([self.x, self.y, self.vx, self.vy], axis=1)
