"""NumPy reference of the MAX-MIN Ant System colony: the benchmark baseline for the Taichi kernels.

Same algorithm as `compute.aco.kernels`, vectorised across ants instead of parallelised across them:
tour construction advances all ants one step at a time, and 2-opt improves all tours together by applying,
per round, each tour's best improving move over its neighbour lists. Both local searches stop at a 2-opt
local optimum for the same neighbourhood; they differ only in pivoting rule (best improvement here, first
improvement with don't-look bits in the kernels), so they may stop at different optima.
"""

from __future__ import annotations

import numpy as np


def nearest_neighbours(dist: np.ndarray, width: int) -> np.ndarray:
    """Return an (n, width) int32 array: each city's `width` nearest other cities, nearest first.

    Ties break by city index, so the lists are deterministic.
    """
    d = np.asarray(dist, dtype=np.float64).copy()
    np.fill_diagonal(d, np.inf)
    return np.argsort(d, axis=1, kind="stable")[:, :width].astype(np.int32)


def nearest_neighbour_tour(dist: np.ndarray, start: int = 0) -> np.ndarray:
    """Return the greedy nearest-neighbour tour from `start` (used to size the initial pheromone)."""
    n = len(dist)
    visited = np.zeros(n, dtype=bool)
    tour = np.empty(n, dtype=np.int32)
    city = start
    for step in range(n):
        tour[step] = city
        visited[city] = True
        if step < n - 1:
            city = int(np.argmin(np.where(visited, np.iinfo(np.int64).max, dist[city])))
    return tour


def tour_lengths(tours: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Return the closed-tour length of each row of `tours` (int64)."""
    tours = np.atleast_2d(tours)
    return dist[tours, np.roll(tours, -1, axis=1)].sum(axis=1, dtype=np.int64)


def construct_tours(total: np.ndarray, nn: np.ndarray, ants: int, rng: np.random.Generator) -> np.ndarray:
    """Build `ants` tours with the random-proportional rule restricted to candidate lists.

    From city c an ant picks an unvisited candidate j with probability proportional to total[c, j]; when all
    candidates are visited it takes the unvisited city with the largest total[c, j] (as in ACOTSP).
    """
    n, width = nn.shape
    rows = np.arange(ants)
    tours = np.empty((ants, n), dtype=np.int32)
    visited = np.zeros((ants, n), dtype=bool)
    current = rng.integers(n, size=ants)
    tours[:, 0] = current
    visited[rows, current] = True
    for step in range(1, n):
        candidates = nn[current]
        weights = np.where(visited[rows[:, None], candidates], 0.0, total[current[:, None], candidates])
        cumulative = np.cumsum(weights, axis=1)
        mass = cumulative[:, -1]
        target = rng.random(ants) * mass
        # First candidate whose running sum passes the target; only unvisited ones raise the sum.
        pick = np.minimum((cumulative <= target[:, None]).sum(axis=1), width - 1)
        chosen = candidates[rows, pick]
        stuck = mass <= 0.0
        if stuck.any():
            chosen[stuck] = np.where(visited[stuck], -1.0, total[current[stuck]]).argmax(axis=1)
        tours[:, step] = chosen
        visited[rows, chosen] = True
        current = chosen
    return tours


def two_opt(tours: np.ndarray, dist: np.ndarray, nn: np.ndarray) -> np.ndarray:
    """Return copies of `tours` improved to 2-opt local optima over the neighbour lists `nn`.

    A move joins city c1 to one of its listed neighbours c2 closer than c1's tour neighbour (both tour
    directions). Each round applies every unfinished tour's best strictly improving move; integer distances
    make the test exact, so no tour ever gets longer and the loop ends.
    """
    tours = np.array(np.atleast_2d(tours), dtype=np.int64)
    n, width = nn.shape
    cities = np.arange(n)
    c1 = cities[None, :, None]
    c2 = nn[None, :, :].astype(np.int64)
    d12 = dist[c1, c2]
    active = np.arange(len(tours))
    while active.size:
        t = tours[active]
        rows = np.arange(len(active))[:, None]
        pos = np.empty_like(t)
        pos[rows, t] = cities
        succ = np.take_along_axis(t, (pos + 1) % n, axis=1)[:, :, None]
        pred = np.take_along_axis(t, (pos - 1) % n, axis=1)[:, :, None]
        succ2 = succ[rows[:, :, None], c2, 0]
        pred2 = pred[rows[:, :, None], c2, 0]
        radius_succ, radius_pred = dist[c1, succ], dist[pred, c1]
        gain_succ = radius_succ + dist[c2, succ2] - d12 - dist[succ, succ2]
        gain_pred = radius_pred + dist[pred2, c2] - d12 - dist[pred, pred2]
        # Only neighbours closer than c1's tour neighbour start a move, exactly as in the kernels: any improving
        # move passes this test at one of its endpoints, so a local optimum is the same for both.
        gain_succ[np.broadcast_to(d12 >= radius_succ, gain_succ.shape)] = 0
        gain_pred[np.broadcast_to(d12 >= radius_pred, gain_pred.shape)] = 0
        gains = np.concatenate([gain_succ, gain_pred], axis=2).reshape(len(active), -1)
        best = gains.argmax(axis=1)
        improving = gains[np.arange(len(active)), best] > 0
        for r in np.flatnonzero(improving):
            city, rest = divmod(int(best[r]), 2 * width)
            direction, h = divmod(rest, width)
            other = int(nn[city, h])
            if direction == 0:  # the tour reads city succ(city) .. other succ(other): reverse succ(city)..other
                first, last = int(succ[r, city, 0]), other
            else:  # the tour reads pred(city) city .. pred(other) other: reverse city..pred(other)
                first, last = city, int(pred[r, other, 0])
            a, b = pos[r, first], pos[r, last]
            tour = tours[active[r]]
            if a <= b:
                tour[a : b + 1] = tour[a : b + 1][::-1].copy()
            else:  # the segment wraps; reversing its complement gives the same cycle
                tour[b + 1 : a] = tour[b + 1 : a][::-1].copy()
        active = active[improving]
    return tours.astype(np.int32)


class NumpyColony:
    """Pheromone state and tour building for one problem, all in NumPy (the same contract as the Taichi one)."""

    def __init__(
        self, dist: np.ndarray, nn: np.ndarray, heuristic: np.ndarray, *, ants: int, alpha: float, seed: int
    ) -> None:
        self.dist = np.asarray(dist, dtype=np.int64)
        self.nn = nn
        self.heuristic = heuristic
        self.ants = ants
        self.alpha = alpha
        self.rng = np.random.default_rng(seed)
        self.tau = np.empty_like(heuristic)
        self.total = np.empty_like(heuristic)
        self.ib_tour = self.restart_tour = self.best = np.empty(0, dtype=np.int32)

    def __enter__(self) -> NumpyColony:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def reset(self, value: float) -> None:
        """Set every trail to `value`."""
        self.tau.fill(value)
        self.total = self.tau**self.alpha * self.heuristic

    def iterate(self) -> int:
        """Build and 2-opt one tour per ant; keep the iteration-best tour and return its length."""
        tours = two_opt(construct_tours(self.total, self.nn, self.ants, self.rng), self.dist, self.nn)
        lengths = tour_lengths(tours, self.dist)
        k = int(np.argmin(lengths))  # ties go to the lowest ant index, as in the kernels
        self.ib_tour = tours[k]
        return int(lengths[k])

    def update(
        self,
        *,
        keep_restart: bool,
        keep_best: bool,
        deposit_restart: bool,
        amount: float,
        rho: float,
        tau_min: float,
        tau_max: float,
    ) -> None:
        """Save the iteration-best tour as restart-best / best-so-far when flagged, then deposit `amount` along
        the restart-best (deposit_restart) or iteration-best tour, evaporate by rho, clamp to the bounds."""
        if keep_restart:
            self.restart_tour = self.ib_tour
        if keep_best:
            self.best = self.ib_tour
        tour = self.restart_tour if deposit_restart else self.ib_tour
        self.tau *= 1.0 - rho
        following = np.roll(tour, -1)
        self.tau[tour, following] += amount
        self.tau[following, tour] += amount
        np.clip(self.tau, tau_min, tau_max, out=self.tau)
        self.total = self.tau**self.alpha * self.heuristic

    def best_tour(self) -> np.ndarray:
        """Return the best-so-far tour saved by `update`."""
        return self.best.copy()

    def improve(self, tours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return `tours` 2-opted and their lengths."""
        improved = two_opt(tours, self.dist, self.nn)
        return improved, tour_lengths(improved, self.dist)
