"""Predator-prey flocking ("wolf pack"): boids for prey, pursuit for predators, on a torus, on Taichi or NumPy.

Prey separate, align and cohere with prey in range and flee predators in range; predators chase the nearest
prey in range and catch it within `catch_radius` (the prey respawns elsewhere). Every interaction has a range
of at most `radius`, and the neighbour search uses a uniform grid of cells no smaller than `radius`: each agent
checks only the agents of its own and the 8 surrounding cells, so at a fixed density the cost grows linearly
with the number of agents. `neighbour_summary` exposes that search on its own, for checking against brute
force.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

import numpy as np

from compute import runtime
from compute.flocking.reference import Grid, NeighbourSummary, NumpyFlock, grid_neighbours
from compute.flocking.render import render_flock

Backend = Literal["taichi", "numpy"]

MAX_AGENTS = 10**7  # default cap; callers (job settings) may pass their own `max_agents`
MAX_CELLS = 1 << 24


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class FlockParams:
    """World, population and rules; distances in world units, speeds and forces per step.

    The world is a width x height torus. `radius` is the range of every interaction and the grid's cell size.
    Forces cap the change of velocity per step; speeds are clamped to each kind's [min, max] (max at most
    `radius`). Weights scale the steering terms (see `compute.flocking.kernels.steer`).
    """

    width: float = 1024.0
    height: float = 1024.0
    prey: int = 20_000
    predators: int = 40
    radius: float = 16.0
    separation_radius: float = 5.0
    catch_radius: float = 2.0
    separation: float = 1.0
    alignment: float = 0.1
    cohesion: float = 0.2
    flee: float = 0.5
    pursuit: float = 0.1
    prey_force: float = 0.12
    prey_min_speed: float = 0.6
    prey_max_speed: float = 2.0
    predator_force: float = 0.1
    predator_min_speed: float = 0.6
    predator_max_speed: float = 2.3

    def __post_init__(self) -> None:
        if not _number(self.radius) or self.radius <= 0:
            raise ValueError(f"radius must be a positive, finite distance, got {self.radius!r}")
        for name in ("width", "height"):
            value = getattr(self, name)
            if not _number(value) or value < 3 * self.radius:
                raise ValueError(
                    f"{name} must be at least 3 * radius = {3 * self.radius:g} (the grid needs 3 cells), got {value!r}"
                )
        cells = int(self.width // self.radius) * int(self.height // self.radius)
        if cells > MAX_CELLS:
            raise ValueError(f"the world holds {cells} grid cells of size radius; the limit is {MAX_CELLS}")
        for name in ("prey", "predators"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if self.prey + self.predators < 1:
            raise ValueError("the flock needs at least one agent (prey + predators >= 1)")
        for name in ("separation_radius", "catch_radius"):
            value = getattr(self, name)
            if not _number(value) or not 0 <= value <= self.radius:
                raise ValueError(f"{name} must lie in [0, radius = {self.radius:g}], got {value!r}")
        for name in ("separation", "alignment", "cohesion", "flee", "pursuit", "prey_force", "predator_force"):
            value = getattr(self, name)
            if not _number(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of at least 0, got {value!r}")
        for kind in ("prey", "predator"):
            low, high = getattr(self, f"{kind}_min_speed"), getattr(self, f"{kind}_max_speed")
            if not (_number(low) and _number(high)) or not 0 <= low <= high <= self.radius:
                raise ValueError(
                    f"{kind} speeds must satisfy 0 <= {kind}_min_speed <= {kind}_max_speed <= radius = "
                    f"{self.radius:g}, got {low!r} and {high!r}"
                )

    @property
    def agents(self) -> int:
        return self.prey + self.predators

    def grid(self) -> Grid:
        """Return the neighbour grid: as many cells as fit with sides no smaller than `radius`."""
        return Grid(
            gx=int(self.width // self.radius),
            gy=int(self.height // self.radius),
            width=float(self.width),
            height=float(self.height),
        )

    def rules(self) -> dict[str, float]:
        """Return the steering parameters by name, as the engines take them."""
        names = (
            "radius", "separation_radius", "catch_radius", "separation", "alignment", "cohesion", "flee",
            "pursuit", "prey_force", "prey_min_speed", "prey_max_speed", "predator_force",
            "predator_min_speed", "predator_max_speed",
        )  # fmt: skip
        return {name: float(getattr(self, name)) for name in names} | {"respawn_speed": float(self.prey_min_speed)}


def _kernels() -> ModuleType:
    """Import the kernels on first use, so that importing compute.flocking does not import Taichi."""
    import compute.flocking.kernels as kernels

    return kernels


class _Workspace:
    """Taichi arrays for one (agents, cells) shape. Made on the owner thread and never freed: a pool per shape
    hands one to each open flock (or neighbour query) and takes it back after."""

    def __init__(self, agents: int, cells: int) -> None:
        ti = runtime.import_taichi()
        self.x, self.y, self.vx, self.vy, self.new_vx, self.new_vy = (ti.ndarray(ti.f64, agents) for _ in range(6))
        self.rng = ti.ndarray(ti.u64, agents)
        self.caught = ti.ndarray(ti.i32, agents)
        self.cell = ti.ndarray(ti.i32, agents)
        self.order = ti.ndarray(ti.i32, agents)
        self.fill = ti.ndarray(ti.i32, cells)
        self.start = ti.ndarray(ti.i32, cells + 1)
        # Outputs of `neighbour_summary`: per agent, neighbours, index sums, squared-index sums, pairs checked.
        self.count = ti.ndarray(ti.i32, agents)
        self.sums = ti.ndarray(ti.i64, agents)
        self.squares = ti.ndarray(ti.i64, agents)
        self.checks = ti.ndarray(ti.i64, agents)

    def build_grid(self, grid: Grid) -> None:
        _kernels().build_grid(
            self.x, self.y, self.cell, self.fill, self.start, self.order,
            grid.gx, grid.gy, grid.width / grid.gx, grid.height / grid.gy,
        )  # fmt: skip


def _pool(agents: int, cells: int) -> list[_Workspace]:
    return runtime.resource(("flocking", agents, cells), list)


def _acquire(agents: int, cells: int) -> _Workspace:
    pool = _pool(agents, cells)
    return runtime.call(lambda: pool.pop() if pool else _Workspace(agents, cells))


def _give_back(pool: list[_Workspace], ws: _Workspace) -> None:
    runtime.call(pool.append, ws)


class TaichiFlock:
    """The Taichi engine: the same contract as `NumpyFlock`, `run` one job on the runtime thread."""

    def __init__(
        self, state: np.ndarray, streams: np.ndarray, *, prey: int, grid: Grid, rules: dict[str, float]
    ) -> None:
        n, cells = len(state), grid.gx * grid.gy
        self.prey = prey
        self.grid = grid
        self.rules = rules
        self._ws = _acquire(n, cells)
        self._release = weakref.finalize(self, _give_back, _pool(n, cells), self._ws)
        self._release.atexit = False
        runtime.call(self._load, np.ascontiguousarray(state), streams)

    def _load(self, state: np.ndarray, streams: np.ndarray) -> None:
        ws = self._ws
        for k, array in enumerate((ws.x, ws.y, ws.vx, ws.vy)):
            array.from_numpy(np.ascontiguousarray(state[:, k]))
        ws.rng.from_numpy(streams)
        ws.caught.fill(0)
        ws.build_grid(self.grid)

    def close(self) -> None:
        """Hand the workspace back to its pool."""
        self._release()

    def run(self, steps: int) -> list[int]:
        """Advance `steps` steps in one job; return the prey caught in each."""
        return runtime.call(self._run, steps)

    def _run(self, steps: int) -> list[int]:
        kernels, ws, grid, r = _kernels(), self._ws, self.grid, self.rules
        catches = []
        for _ in range(steps):
            kernels.steer(
                ws.x, ws.y, ws.vx, ws.vy, ws.new_vx, ws.new_vy, ws.caught, ws.cell, ws.start, ws.order,
                self.prey, grid.gx, grid.gy, grid.width, grid.height,
                r["radius"], r["separation_radius"], r["catch_radius"],
                r["separation"], r["alignment"], r["cohesion"], r["flee"], r["pursuit"],
                r["prey_force"], r["prey_min_speed"], r["prey_max_speed"],
                r["predator_force"], r["predator_min_speed"], r["predator_max_speed"],
            )  # fmt: skip
            catches.append(
                kernels.advance(
                    ws.x, ws.y, ws.vx, ws.vy, ws.new_vx, ws.new_vy, ws.caught, ws.rng,
                    grid.width, grid.height, r["respawn_speed"],
                )
            )  # fmt: skip
            ws.build_grid(grid)
        return catches

    def state(self) -> np.ndarray:
        """Return an (agents, 4) f64 array of x, y, vx, vy."""
        ws = self._ws
        return runtime.call(lambda: np.stack([a.to_numpy() for a in (ws.x, ws.y, ws.vx, ws.vy)], axis=1))


def initial_state(params: FlockParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the (agents, 4) start state (uniform positions, uniform headings at a uniform speed in each
    kind's range) and the agents' random streams, from `seed`; the same for both backends."""
    sequence = np.random.SeedSequence(seed)
    rng = np.random.default_rng(sequence)
    n = params.agents
    x = np.minimum(rng.random(n) * params.width, np.nextafter(params.width, 0))
    y = np.minimum(rng.random(n) * params.height, np.nextafter(params.height, 0))
    angle = rng.random(n) * 2 * math.pi
    low = np.where(np.arange(n) < params.prey, params.prey_min_speed, params.predator_min_speed)
    high = np.where(np.arange(n) < params.prey, params.prey_max_speed, params.predator_max_speed)
    speed = low + rng.random(n) * (high - low)
    state = np.stack([x, y, speed * np.cos(angle), speed * np.sin(angle)], axis=1)
    return state, sequence.spawn(1)[0].generate_state(n, dtype=np.uint64)


def _checked_state(params: FlockParams, state: np.ndarray) -> np.ndarray:
    state = np.array(state, dtype=np.float64)
    if state.shape != (params.agents, 4):
        raise ValueError(f"state must have shape ({params.agents}, 4) (x, y, vx, vy per agent), got {state.shape}")
    if not np.isfinite(state).all():
        raise ValueError("state must be finite")
    x, y = state[:, 0], state[:, 1]
    if not ((x >= 0) & (x < params.width) & (y >= 0) & (y < params.height)).all():
        raise ValueError(f"every position must lie in [0, {params.width:g}) x [0, {params.height:g})")
    return state


class Flock:
    """One predator-prey flock on Taichi or NumPy.

    A seed gives the same start on both backends and reproduces a run exactly on a given backend, for any
    Taichi thread count; `state` (agents x 4: x, y, vx, vy, prey first) replaces the seeded start, the seed
    still giving the respawn streams. Use it as a context manager (or call `close`): the Taichi engine borrows arrays from
    its runtime's pool until then. Calls block the calling thread; do not share one flock between threads.
    """

    def __init__(
        self,
        params: FlockParams | None = None,
        *,
        seed: int = 0,
        backend: Backend = "taichi",
        max_agents: int = MAX_AGENTS,
        state: np.ndarray | None = None,
    ) -> None:
        params = params or FlockParams()
        if params.agents > max_agents:
            raise ValueError(f"prey + predators must be at most {max_agents} (max_agents), got {params.agents}")
        if backend not in ("taichi", "numpy"):
            raise ValueError(f"backend must be 'taichi' or 'numpy', got {backend!r}")
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.params = params
        self.backend = backend
        self.steps = 0
        self.catches = 0
        start, streams = initial_state(params, seed)
        if state is not None:
            start = _checked_state(params, state)
        engine_cls = TaichiFlock if backend == "taichi" else NumpyFlock
        self._engine: TaichiFlock | NumpyFlock | None = engine_cls(
            start, streams, prey=params.prey, grid=params.grid(), rules=params.rules()
        )

    def __enter__(self) -> Flock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the engine; the flock cannot step afterwards."""
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    @property
    def engine(self) -> TaichiFlock | NumpyFlock:
        if self._engine is None:
            raise RuntimeError("this flock is closed; create a new one")
        return self._engine

    def step(self, count: int = 1) -> list[int]:
        """Advance `count` steps (a Taichi run does them in one job); return the prey caught in each."""
        if not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be a non-negative integer, got {count!r}")
        caught = self.engine.run(count)
        self.steps += count
        self.catches += sum(caught)
        return caught

    def state(self) -> np.ndarray:
        """Return an (agents, 4) f64 array of x, y, vx, vy: prey first, then predators."""
        return self.engine.state()

    def render(self, *, scale: float = 1.0) -> np.ndarray:
        """Return the flock as an RGB uint8 image (see `render_flock`)."""
        p = self.params
        return render_flock(self.state(), prey=p.prey, width=p.width, height=p.height, scale=scale)


def neighbour_summary(
    x: np.ndarray, y: np.ndarray, *, width: float, height: float, radius: float, backend: Backend = "taichi"
) -> NeighbourSummary:
    """Return, for points (x, y) on a width x height torus, each point's neighbours within `radius` through the
    flock's grid search: counts, index sums, squared-index sums, and the candidate pairs checked.

    Runs the same search as the steering kernel (Taichi) or its NumPy mirror; `brute_force_neighbours` in
    `compute.flocking.reference` gives the exact answer to compare with.
    """
    params = FlockParams(
        width=width,
        height=height,
        prey=len(x),
        predators=0,
        radius=radius,
        separation_radius=0.0,
        catch_radius=0.0,
        prey_min_speed=0.0,
        prey_max_speed=0.0,
        predator_min_speed=0.0,
        predator_max_speed=0.0,
    )
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D arrays of one length, got {x.shape} and {y.shape}")
    if not ((x >= 0) & (x < width) & (y >= 0) & (y < height)).all():
        raise ValueError(f"every point must lie in [0, {width:g}) x [0, {height:g})")
    grid = params.grid()
    if backend == "numpy":
        return grid_neighbours(x, y, grid, radius)
    if backend != "taichi":
        raise ValueError(f"backend must be 'taichi' or 'numpy', got {backend!r}")
    n, cells = len(x), grid.gx * grid.gy
    ws = _acquire(n, cells)
    try:
        return runtime.call(_neighbours, ws, x, y, grid, radius)
    finally:
        _give_back(_pool(n, cells), ws)


def _neighbours(ws: _Workspace, x: np.ndarray, y: np.ndarray, grid: Grid, radius: float) -> NeighbourSummary:
    ws.x.from_numpy(x)
    ws.y.from_numpy(y)
    ws.build_grid(grid)
    _kernels().neighbours(
        ws.x, ws.y, ws.cell, ws.start, ws.order, grid.gx, grid.gy, grid.width, grid.height, radius,
        ws.count, ws.sums, ws.squares, ws.checks,
    )  # fmt: skip
    return NeighbourSummary(
        ws.count.to_numpy(), ws.sums.to_numpy(), ws.squares.to_numpy(), int(ws.checks.to_numpy().sum())
    )
