"""Physarum network (Jones 2010): agents sense, rotate, move and deposit; the trail diffuses and decays.

Food sources are nodes that deposit into the trail every step, so the agents' trail contracts into a network
between them. `cut` / `remove_link` empty a region and block it for a number of steps (sensors read it as
repellent, agents cannot enter, diffusion treats it as a wall); when the block lifts the link regrows.

The simulation runs on Taichi (`backend="taichi"`, the default) or on the NumPy reference; this module holds
what both share: parameters, the initial agents, food, cuts, and the trail's mass ledger, which accounts for
every deposit, every decay and every cut in f64, so `ledger.expected` equals the trail's total to rounding.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

import numpy as np

from compute import runtime
from compute.physarum.reference import NumpyPhysarum
from compute.physarum.render import render_trail

Backend = Literal["taichi", "numpy"]

MAX_AGENTS = 10**7  # default cap; callers (job settings) may pass their own `max_agents`
MAX_SIDE = 4096  # grid width and height, in cells (and image pixels)
MIN_SIDE = 16


@dataclass(frozen=True)
class PhysarumParams:
    """Model parameters; angles in degrees, distances in cells. Jones's sensor and motion defaults, a 3x3 mean
    diffusion, and food and decay tuned so that the network runs through the food nodes (a weaker food signal
    or faster decay leaves the nodes as dots beside a network of its own).

    `decay` is the fraction of trail lost per step; `diffusion` blends the 3x3 mean into each cell (1: the
    mean alone). Each food cell (within `food_radius` of a node) adds `food_amount` per step. Blocked cells
    read as `-repel` to sensors. `wrap` makes the grid a torus; otherwise agents turn back at its edges.
    """

    width: int = 512
    height: int = 512
    agents: int = 100_000
    sensor_angle: float = 22.5
    rotation_angle: float = 45.0
    sensor_offset: float = 9.0
    step_size: float = 1.0
    deposit: float = 5.0
    decay: float = 0.05
    diffusion: float = 1.0
    food_amount: float = 50.0
    food_radius: float = 3.0
    repel: float = 1e6
    wrap: bool = True

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not MIN_SIDE <= value <= MAX_SIDE:
                raise ValueError(f"{name} must be an integer from {MIN_SIDE} to {MAX_SIDE} cells, got {value!r}")
        if not isinstance(self.agents, int) or isinstance(self.agents, bool) or self.agents < 1:
            raise ValueError(f"agents must be a positive integer, got {self.agents!r}")
        for name, low, high in (
            ("sensor_angle", 0.0, 180.0),
            ("rotation_angle", 0.0, 180.0),
            ("sensor_offset", 0.0, min(self.width, self.height) / 2),
            ("step_size", 0.0, min(self.width, self.height) / 2),
        ):
            value = getattr(self, name)
            if not _number(value) or not low < value <= high:
                raise ValueError(f"{name} must lie in ({low:g}, {high:g}], got {value!r}")
        for name in ("deposit", "food_amount", "food_radius", "repel"):
            value = getattr(self, name)
            if not _number(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of at least 0, got {value!r}")
        if not _number(self.decay) or not 0.0 <= self.decay < 1.0:
            raise ValueError(f"decay must lie in [0, 1) (the fraction of trail lost per step), got {self.decay!r}")
        if not _number(self.diffusion) or not 0.0 <= self.diffusion <= 1.0:
            raise ValueError(f"diffusion must lie in [0, 1] (the weight of the 3x3 mean), got {self.diffusion!r}")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class MassLedger:
    """Where the trail's mass came from and went, in f64: its total is `expected`, to rounding."""

    deposited: float = 0.0  # by agents and food
    decayed: float = 0.0
    removed: float = 0.0  # by cuts

    @property
    def expected(self) -> float:
        """Return deposited - decayed - removed: what the trail should hold now."""
        return self.deposited - self.decayed - self.removed


def _kernels() -> ModuleType:
    """Import the kernels on first use, so that importing compute.physarum does not import Taichi."""
    import compute.physarum.kernels as kernels

    return kernels


class _Workspace:
    """Taichi arrays for one (width, height, agents) shape. Made on the owner thread and never freed: a pool
    per shape hands one to each open simulation and takes it back on close, so no array is freed while a
    kernel might use it and memory stays bounded by the most simulations of a shape open at once."""

    def __init__(self, width: int, height: int, agents: int) -> None:
        ti = runtime.import_taichi()
        self.x = ti.ndarray(ti.f32, agents)
        self.y = ti.ndarray(ti.f32, agents)
        self.heading = ti.ndarray(ti.f32, agents)
        self.rng = ti.ndarray(ti.u64, agents)
        self.trail = ti.ndarray(ti.f64, (height, width))
        self.source = ti.ndarray(ti.f64, (height, width))  # diffusion's scratch
        self.count = ti.ndarray(ti.i32, (height, width))
        self.food = ti.ndarray(ti.f64, (height, width))
        self.blocked = ti.ndarray(ti.i32, (height, width))


class TaichiPhysarum:
    """The Taichi engine: the same contract as `NumpyPhysarum`, each call one job on the runtime thread."""

    def __init__(self, x: np.ndarray, y: np.ndarray, heading: np.ndarray, food: np.ndarray, *, seed: int) -> None:
        height, width = food.shape
        self._pool = runtime.resource(("physarum", width, height, len(x)), list)
        streams = np.random.SeedSequence(seed).generate_state(len(x), dtype=np.uint64)
        self._ws = runtime.call(self._acquire, width, height, len(x))
        self._cut_until = 0  # no cell is blocked from this step on
        runtime.call(self._load, x, y, heading, streams, food)
        self._release = weakref.finalize(self, _give_back, self._pool, self._ws)
        self._release.atexit = False

    def _acquire(self, width: int, height: int, agents: int) -> _Workspace:
        return self._pool.pop() if self._pool else _Workspace(width, height, agents)

    def _load(self, x: np.ndarray, y: np.ndarray, heading: np.ndarray, streams: np.ndarray, food: np.ndarray) -> None:
        ws = self._ws
        ws.x.from_numpy(x)
        ws.y.from_numpy(y)
        ws.heading.from_numpy(heading)
        ws.rng.from_numpy(streams)
        ws.food.from_numpy(food)
        for array in (ws.trail, ws.count):
            array.fill(0)
        ws.blocked.fill(0)

    def close(self) -> None:
        """Hand the workspace back to its pool."""
        self._release()

    def run(self, first_step: int, steps: int, move: dict[str, object], diffuse: dict[str, object]) -> list[int]:
        """Run `steps` steps from step index `first_step` in one job; return the deposits counted in each."""
        return runtime.call(self._run, first_step, steps, move, diffuse)

    def _run(self, first_step: int, steps: int, move: dict[str, object], diffuse: dict[str, object]) -> list[int]:
        kernels = _kernels()
        ws = self._ws
        cut_until = self._cut_until
        sensor, rotation = move["sensor_angle"], move["rotation_angle"]
        moves = []
        for step in range(first_step, first_step + steps):
            kernels.move(
                ws.x, ws.y, ws.heading, ws.rng, ws.trail, ws.count,
                math.cos(sensor), math.sin(sensor), rotation, math.cos(rotation), math.sin(rotation),
                move["sensor_offset"], move["step_size"], move["wrap"], move["repel"],
            )  # fmt: skip
            moves.append(
                kernels.diffuse(
                    ws.trail, ws.source, ws.count, ws.food, ws.blocked, int(step + 1 < cut_until), step,
                    diffuse["deposit"], diffuse["weight"], diffuse["keep"], diffuse["wrap"],
                )
            )  # fmt: skip
        return moves

    def trail(self) -> np.ndarray:
        """Return a copy of the trail, (height, width) f64."""
        return np.maximum(runtime.call(self._ws.trail.to_numpy), 0.0)  # blocked cells hold -1 (see the kernels)

    def agents(self) -> np.ndarray:
        """Return an (agents, 3) f32 array of x, y, heading."""
        ws = self._ws
        return runtime.call(lambda: np.stack([ws.x.to_numpy(), ws.y.to_numpy(), ws.heading.to_numpy()], axis=1))

    def cut(self, mask: np.ndarray, until: int, step: int) -> float:
        """Empty the trail under `mask`, block it until step `until` (the next step is `step`); return the mass
        removed."""
        return runtime.call(self._cut, mask, until, step)

    def _cut(self, mask: np.ndarray, until: int, step: int) -> float:
        # Cuts are rare: a round trip through host memory costs less than another kernel to compile.
        ws = self._ws
        trail = ws.trail.to_numpy()
        blocked = ws.blocked.to_numpy()
        blocked[mask] = np.maximum(blocked[mask], until)
        self._cut_until = max(self._cut_until, until)
        removed = float(trail[mask & (trail > 0)].sum())
        trail[mask] = 0.0
        trail[blocked > step] = -1.0  # the wall marker of cells blocked in the coming step
        ws.trail.from_numpy(trail)
        ws.blocked.from_numpy(blocked)
        return removed


def _give_back(pool: list[_Workspace], ws: _Workspace) -> None:
    runtime.call(pool.append, ws)


def food_grid(
    nodes: Sequence[tuple[float, float]], *, width: int, height: int, amount: float, radius: float
) -> np.ndarray:
    """Return the (height, width) f64 food map: `amount` in every cell whose centre lies within `radius` of a
    node (always the node's own cell), 0 elsewhere. Distances wrap on neither edge: nodes are drawn as given."""
    food = np.zeros((height, width), dtype=np.float64)
    rows = np.arange(height)[:, None] + 0.5
    cols = np.arange(width)[None, :] + 0.5
    for nx, ny in nodes:
        near = (cols - nx) ** 2 + (rows - ny) ** 2 <= radius**2
        near[int(ny), int(nx)] = True
        food[near] = amount
    return food


class Physarum:
    """One physarum simulation: agents, trail, food nodes and cuts, on Taichi or NumPy.

    `food` lists node positions (x, y) in cells. A seed gives the same initial agents on both backends and
    reproduces a run exactly on a given backend, for any Taichi thread count. Use it as a context manager (or
    call `close`): the Taichi engine borrows arrays from its runtime's pool until then. Calls block the
    calling thread; do not share one simulation between threads.
    """

    def __init__(
        self,
        params: PhysarumParams | None = None,
        *,
        food: Sequence[tuple[float, float]] = (),
        seed: int = 0,
        backend: Backend = "taichi",
        max_agents: int = MAX_AGENTS,
    ) -> None:
        params = params or PhysarumParams()
        if params.agents > max_agents:
            raise ValueError(f"agents must be at most {max_agents} (max_agents), got {params.agents}")
        if backend not in ("taichi", "numpy"):
            raise ValueError(f"backend must be 'taichi' or 'numpy', got {backend!r}")
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        nodes = tuple((float(x), float(y)) for x, y in food)
        for index, (x, y) in enumerate(nodes):
            if not (0 <= x < params.width and 0 <= y < params.height):
                raise ValueError(
                    f"food[{index}] = ({x:g}, {y:g}) lies outside the {params.width} x {params.height} grid"
                )
        self.params = params
        self.backend = backend
        self.nodes = nodes
        self.steps = 0
        self.ledger = MassLedger()
        self._food = food_grid(
            nodes, width=params.width, height=params.height, amount=params.food_amount, radius=params.food_radius
        )
        self._food_cells = np.flatnonzero(self._food)
        self._food_amounts = self._food.ravel()[self._food_cells]
        self._blocked = np.zeros((params.height, params.width), dtype=np.int64)  # mirror: blocked while > step
        x, y, heading = initial_agents(params, seed)
        engine_cls = TaichiPhysarum if backend == "taichi" else NumpyPhysarum
        self._engine: TaichiPhysarum | NumpyPhysarum | None = engine_cls(x, y, heading, self._food, seed=seed)

    def __enter__(self) -> Physarum:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the engine; the simulation cannot step afterwards."""
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    @property
    def engine(self) -> TaichiPhysarum | NumpyPhysarum:
        if self._engine is None:
            raise RuntimeError("this simulation is closed; create a new one")
        return self._engine

    def step(self, count: int = 1) -> None:
        """Advance `count` steps (a Taichi run does them in one job), keeping the mass ledger."""
        if not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be a non-negative integer, got {count!r}")
        p = self.params
        move = {
            "sensor_angle": math.radians(p.sensor_angle),
            "rotation_angle": math.radians(p.rotation_angle),
            "sensor_offset": p.sensor_offset,
            "step_size": p.step_size,
            "wrap": int(p.wrap),
            "repel": p.repel,
        }
        keep = 1.0 - p.decay
        diffuse = {"deposit": p.deposit, "weight": p.diffusion, "keep": keep, "wrap": int(p.wrap)}
        first = self.steps
        engine = self.engine
        if isinstance(engine, TaichiPhysarum):
            moves = engine.run(first, count, move, diffuse)
        else:
            moves = []
            for step in range(first, first + count):
                deposits = engine.move(
                    step,
                    sensor_angle=move["sensor_angle"],
                    rotation_angle=move["rotation_angle"],
                    sensor_offset=p.sensor_offset,
                    step_size=p.step_size,
                    wrap_edges=p.wrap,
                    repel=p.repel,
                )
                engine.diffuse(step, deposits, deposit=p.deposit, weight=p.diffusion, keep=keep, wrap_edges=p.wrap)
                moves.append(int(deposits.sum()))
        deposited, decayed, mass = self.ledger.deposited, self.ledger.decayed, self.ledger.expected
        food_blocked_until = self._blocked.ravel()[self._food_cells]
        for step, moved in zip(range(first, first + count), moves, strict=True):
            added = p.deposit * moved + float(self._food_amounts[food_blocked_until <= step].sum())
            lost = p.decay * (mass + added)
            deposited += added
            decayed += lost
            mass = mass + added - lost
        self.ledger = MassLedger(deposited=deposited, decayed=decayed, removed=self.ledger.removed)
        self.steps = first + count

    def trail(self) -> np.ndarray:
        """Return a copy of the trail, (height, width) f64; row i is y in [i, i + 1)."""
        return self.engine.trail()

    def agents(self) -> np.ndarray:
        """Return an (agents, 3) f32 array of x, y (cells) and heading (radians)."""
        return self.engine.agents()

    def blocked(self) -> np.ndarray:
        """Return the (height, width) bool mask of cells blocked for the next step."""
        return self._blocked > self.steps

    def cut(self, mask: np.ndarray, *, steps: int) -> float:
        """Empty the trail under the (height, width) bool `mask` and block it for the next `steps` steps.

        Returns the trail mass removed (booked in `ledger.removed`). Agents inside may walk out but deposit
        nothing there; food there pauses.
        """
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != self._blocked.shape:
            raise ValueError(f"mask must have the grid's shape {self._blocked.shape}, got {mask.shape}")
        if not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
        until = self.steps + steps
        removed = self.engine.cut(mask, until, self.steps)
        self._blocked[mask] = np.maximum(self._blocked[mask], until)
        self.ledger = MassLedger(
            deposited=self.ledger.deposited, decayed=self.ledger.decayed, removed=self.ledger.removed + removed
        )
        return removed

    def disk(self, x: float, y: float, radius: float) -> np.ndarray:
        """Return the bool mask of cells whose centre lies within `radius` of (x, y) (no wrap)."""
        rows = np.arange(self.params.height)[:, None] + 0.5
        cols = np.arange(self.params.width)[None, :] + 0.5
        return (cols - x) ** 2 + (rows - y) ** 2 <= radius**2

    def remove_link(self, a: int, b: int, *, radius: float | None = None, steps: int = 100) -> float:
        """Cut the link between food nodes a and b: block a disk at the midpoint of the straight segment.

        `radius` defaults to the sensor offset plus two cells, so agents cannot sense across the cut. Returns
        the trail mass removed.
        """
        for index in (a, b):
            if not 0 <= index < len(self.nodes):
                raise ValueError(f"food node {index} does not exist; nodes are 0 to {len(self.nodes) - 1}")
        (ax, ay), (bx, by) = self.nodes[a], self.nodes[b]
        radius = self.params.sensor_offset + 2.0 if radius is None else radius
        return self.cut(self.disk((ax + bx) / 2, (ay + by) / 2, radius), steps=steps)

    def render(self, *, exposure: float | None = None) -> np.ndarray:
        """Return the trail as an (height, width, 3) uint8 RGB image, blocked cells tinted (see `render_trail`)."""
        return render_trail(self.trail(), blocked=self.blocked(), exposure=exposure)


def initial_agents(params: PhysarumParams, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return f32 x, y, heading for `params.agents` agents spread uniformly over the grid, from `seed`."""
    rng = np.random.default_rng(seed)
    n = params.agents
    # f32 rounding may carry a draw just below the width up to it: keep every agent inside its cell range.
    x = np.minimum((rng.random(n) * params.width).astype(np.float32), np.nextafter(np.float32(params.width), 0))
    y = np.minimum((rng.random(n) * params.height).astype(np.float32), np.nextafter(np.float32(params.height), 0))
    heading = np.minimum((rng.random(n) * 2 * math.pi).astype(np.float32), np.nextafter(np.float32(2 * math.pi), 0))
    return x, y, heading
