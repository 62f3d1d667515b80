"""MAX-MIN Ant System for the symmetric TSP (Stützle & Hoos 2000), anytime, on Taichi or NumPy.

The control loop (bounds, who deposits, restarts, budgets, trace) runs here once for both backends; a colony
owns the pheromone state and builds, 2-opts and scores tours. The Taichi colony runs construction, 2-opt
and the pheromone update as kernels on the process's runtime; the NumPy colony is the reference.

Settings follow ACOTSP's MMAS with local search: 25 ants, alpha 1, beta 2, rho 0.2, 20 nearest-neighbour
candidates, tau_max = 1 / (rho * L_best), tau_min = tau_max / (2n), the iteration-best ant deposits except
every u_gb-th iteration (25, 5, 3, 2, then 1 as the run since the last restart ages), when the best ant since
that restart does. Trails reset to tau_max after `restart_after` iterations without a new restart-best.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Literal

import numpy as np

from compute import runtime
from compute.aco.reference import NumpyColony, nearest_neighbour_tour, nearest_neighbours, tour_lengths
from compute.tsplib import Instance, distance_matrix

Backend = Literal["taichi", "numpy"]
_MAX_DISTANCE = 2**30  # the kernels add two distances in 32 bits


@dataclass(frozen=True)
class AcoParams:
    """MMAS parameters; `ants` and `candidates` are capped at n and n - 1."""

    ants: int = 25
    alpha: float = 1.0
    beta: float = 2.0
    rho: float = 0.2
    candidates: int = 20
    restart_after: int = 250

    def __post_init__(self) -> None:
        if self.ants < 1 or self.candidates < 1 or self.restart_after < 1:
            raise ValueError("ants, candidates and restart_after must be at least 1")
        if not 0.0 < self.rho < 1.0:
            raise ValueError(f"rho must lie strictly between 0 and 1, got {self.rho}")


@dataclass(frozen=True)
class TracePoint:
    """A new best-so-far tour: found in `iteration` (1-based), `seconds` after the solve started."""

    iteration: int
    length: int
    seconds: float


@dataclass(frozen=True, eq=False)
class AcoResult:
    """The best tour found (0-based city indices), its length and how the run went."""

    tour: np.ndarray
    length: int
    iterations: int
    seconds: float
    backend: Backend
    trace: list[TracePoint] = field(default_factory=list)


# The clock a time budget is measured on (a test steps it by hand to check the stopping rule without timing).
_now = time.perf_counter


def _kernels() -> ModuleType:
    """Import the kernels on first use, so that importing compute.aco does not import Taichi."""
    import compute.aco.kernels as kernels

    return kernels


class _Workspace:
    """Taichi arrays for one (cities, ants, candidates) shape, allocated once per runtime and reused.

    Create and use only on the runtime's owner thread; kept for the runtime's life (a few MB at n = 300), so
    no array is ever freed while a kernel might use it. `lock` gives one colony at a time the workspace.
    """

    def __init__(self, n: int, ants: int, width: int) -> None:
        ti = runtime.import_taichi()
        self.lock = threading.Lock()
        self.dist = ti.ndarray(ti.i32, (n, n))
        self.heuristic = ti.ndarray(ti.f64, (n, n))
        self.tau = ti.ndarray(ti.f64, (n, n))
        self.total = ti.ndarray(ti.f64, (n, n))
        self.nn = ti.ndarray(ti.i32, (n, width))
        self.tour = ti.ndarray(ti.i32, (ants, n))
        self.visited = ti.ndarray(ti.i32, (ants, n))
        self.pos = ti.ndarray(ti.i32, (ants, n))
        self.dlb = ti.ndarray(ti.i32, (ants, n))
        self.rng = ti.ndarray(ti.u64, ants)
        self.length = ti.ndarray(ti.i64, ants)
        self.ib_tour = ti.ndarray(ti.i32, n)
        self.restart_tour = ti.ndarray(ti.i32, n)
        self.best_tour = ti.ndarray(ti.i32, n)


class TaichiColony:
    """The Taichi colony: the same contract as `NumpyColony`, each step one kernel on the runtime thread.

    Tours stay on the device; only the iteration-best length crosses per iteration. Use as a context
    manager: entering takes the shared workspace for this shape (waiting while another colony holds it)
    and loads the problem into it; leaving releases it.
    """

    def __init__(
        self, dist: np.ndarray, nn: np.ndarray, heuristic: np.ndarray, *, ants: int, alpha: float, seed: int
    ) -> None:
        n, width = nn.shape
        self.alpha = alpha
        self._arrays = (dist.astype(np.int32), nn.astype(np.int32), heuristic.astype(np.float64))
        self._streams = np.random.SeedSequence(seed).generate_state(ants, dtype=np.uint64)
        self._ws = runtime.resource(("aco", n, ants, width), lambda: _Workspace(n, ants, width))

    def __enter__(self) -> TaichiColony:
        self._ws.lock.acquire()
        try:
            runtime.call(self._load)
        except BaseException:
            self._ws.lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._ws.lock.release()

    def _load(self) -> None:
        ws = self._ws
        dist, nn, heuristic = self._arrays
        ws.dist.from_numpy(dist)
        ws.nn.from_numpy(nn)
        ws.heuristic.from_numpy(heuristic)
        ws.rng.from_numpy(self._streams)

    def reset(self, value: float) -> None:
        """Set every trail to `value`."""
        ws = self._ws
        runtime.call(lambda: _kernels().reset_pheromone(ws.tau, ws.total, ws.heuristic, value, self.alpha))

    def iterate(self) -> int:
        """Build and 2-opt one tour per ant; keep the iteration-best tour and return its length."""
        ws = self._ws
        return runtime.call(
            lambda: _kernels().iterate(
                ws.dist, ws.total, ws.nn, ws.tour, ws.visited, ws.pos, ws.dlb, ws.rng, ws.length, ws.ib_tour
            )
        )

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
        ws = self._ws
        flags = (int(keep_restart), int(keep_best), int(deposit_restart))
        runtime.call(
            lambda: _kernels().update_pheromone(
                ws.tau, ws.total, ws.heuristic, ws.ib_tour, ws.restart_tour, ws.best_tour,
                *flags, amount, rho, tau_min, tau_max, self.alpha,
            )
        )  # fmt: skip

    def best_tour(self) -> np.ndarray:
        """Return the best-so-far tour saved by `update`."""
        return runtime.call(self._ws.best_tour.to_numpy)

    def improve(self, tours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return `tours` (one per ant) 2-opted and their lengths."""
        return runtime.call(self._improve, tours.astype(np.int32))

    def _improve(self, tours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ws = self._ws
        ws.tour.from_numpy(tours)
        _kernels().improve(ws.dist, ws.nn, ws.tour, ws.pos, ws.dlb, ws.rng, ws.length)
        return ws.tour.to_numpy(), ws.length.to_numpy()


def _distances(problem: Instance | np.ndarray) -> np.ndarray:
    """Return the problem's distance matrix (int64), checked to be one the kernels can use."""
    dist = distance_matrix(problem) if isinstance(problem, Instance) else np.asarray(problem)
    n = len(dist)
    if dist.ndim != 2 or dist.shape != (n, n) or n < 4 or not np.issubdtype(dist.dtype, np.integer):
        raise ValueError(f"need a square integer distance matrix of at least 4 cities, got {dist.dtype} {dist.shape}")
    if not np.array_equal(dist, dist.T) or dist.min() < 0 or dist.max() >= _MAX_DISTANCE:
        raise ValueError(f"distances must be symmetric, non-negative and below {_MAX_DISTANCE} (32-bit sums)")
    return dist.astype(np.int64)


def _colony(dist: np.ndarray, params: AcoParams, backend: Backend, seed: int, ants: int) -> TaichiColony | NumpyColony:
    """Return the backend's colony for `dist`; use it as a context manager."""
    if backend not in ("taichi", "numpy"):
        raise ValueError(f"backend must be 'taichi' or 'numpy', got {backend!r}")
    nn = nearest_neighbours(dist, min(params.candidates, len(dist) - 1))
    heuristic = (1.0 / (dist + 0.1)) ** params.beta
    colony_cls = TaichiColony if backend == "taichi" else NumpyColony
    return colony_cls(dist, nn, heuristic, ants=ants, alpha=params.alpha, seed=seed)


def _deposit_period(since_restart: int) -> int:
    """Return u_gb: the restart-best ant deposits every u_gb-th iteration, the iteration-best otherwise."""
    for limit, period in ((25, 25), (75, 5), (125, 3), (250, 2)):
        if since_restart < limit:
            return period
    return 1


def solve(
    problem: Instance | np.ndarray,
    *,
    iterations: int | None = None,
    seconds: float | None = None,
    seed: int = 0,
    params: AcoParams | None = None,
    backend: Backend = "taichi",
    target: int | None = None,
) -> AcoResult:
    """Run MMAS with 2-opt on `problem` (a TSPLIB instance or a symmetric integer distance matrix).

    Stops after `iterations`, after `seconds` of wall time (counted from the call, so it includes Taichi's
    first-use compilation), or once a tour of length <= `target` is found, whichever comes first; at least
    one iteration always runs. A given seed reproduces the run exactly with an iteration budget, on either
    backend and for any Taichi thread count. Blocks the calling thread; Taichi work runs on the runtime thread.
    """
    if iterations is None and seconds is None:
        raise ValueError("give an iteration budget, a time budget or both")
    started = _now()
    params = params or AcoParams()
    dist = _distances(problem)
    n = len(dist)
    with _colony(dist, params, backend, seed, ants=min(params.ants, n)) as colony:
        tau_max = 1.0 / (params.rho * int(tour_lengths(nearest_neighbour_tour(dist), dist)[0]))
        tau_min = tau_max / (2 * n)
        colony.reset(tau_max)
        best_length = restart_length = math.inf
        restart_at = restart_found = iteration = 0
        trace: list[TracePoint] = []
        while True:
            iteration += 1
            length = colony.iterate()
            keep_best, keep_restart = length < best_length, length < restart_length
            if keep_best:
                best_length = length
                trace.append(TracePoint(iteration, length, _now() - started))
                tau_max = 1.0 / (params.rho * length)
                tau_min = tau_max / (2 * n)
            if keep_restart:
                restart_length, restart_found = length, iteration
            deposit_restart = iteration % _deposit_period(iteration - restart_at) == 0
            colony.update(
                keep_restart=keep_restart,
                keep_best=keep_best,
                deposit_restart=deposit_restart,
                amount=1.0 / (restart_length if deposit_restart else length),
                rho=params.rho,
                tau_min=tau_min,
                tau_max=tau_max,
            )
            if iteration - restart_found >= params.restart_after:
                colony.reset(tau_max)
                restart_length, restart_at = math.inf, iteration
            if (
                (iterations is not None and iteration >= iterations)
                or (seconds is not None and _now() - started >= seconds)
                or (target is not None and best_length <= target)
            ):
                break
        best_tour = colony.best_tour()
    return AcoResult(
        tour=best_tour,
        length=int(best_length),
        iterations=iteration,
        seconds=_now() - started,
        backend=backend,
        trace=trace,
    )


def improve_tours(
    problem: Instance | np.ndarray,
    tours: np.ndarray,
    *,
    backend: Backend = "taichi",
    candidates: int = 20,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Return `tours` (rows of 0-based city permutations) improved by 2-opt, and their lengths.

    Uses the `candidates` nearest neighbours of each city; never lengthens a tour. Raises ValueError unless
    every row is a permutation of the problem's cities.
    """
    dist = _distances(problem)
    n = len(dist)
    tours = np.atleast_2d(np.asarray(tours, dtype=np.int32))
    if tours.shape[1] != n or not np.array_equal(np.sort(tours, axis=1), np.broadcast_to(np.arange(n), tours.shape)):
        raise ValueError(f"every tour must be a permutation of the cities 0..{n - 1}")
    with _colony(dist, AcoParams(candidates=candidates), backend, seed, ants=len(tours)) as colony:
        return colony.improve(tours)
