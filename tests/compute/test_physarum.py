"""Physarum: the trail's mass balances exactly, agents stay on the grid, seeds reproduce, food nodes get linked."""

from __future__ import annotations

import math

import numpy as np
import pytest

from compute import runtime
from compute.physarum import MassLedger, Physarum, PhysarumParams, render_trail
from tests.compute.test_runtime import forks, in_forked_child

BACKENDS = ["taichi", "numpy"]
SMALL = PhysarumParams(width=64, height=48, agents=3000, food_amount=20.0)
# Two food nodes on a bounded grid: the trail contracts into the straight link between them (seed 1, 300 steps).
LINKED = PhysarumParams(width=96, height=64, agents=1500, wrap=False)
NODES = [(24.0, 32.0), (72.0, 32.0)]


def _link_strength(trail: np.ndarray) -> float:
    """Return the weakest column of the band around the nodes' link (x 36..60), relative to the median cell."""
    return min(float(trail[30:35, x].max()) for x in range(36, 61)) / float(np.median(trail))


def _balance_error(sim: Physarum) -> float:
    return abs(float(sim.trail().sum()) - sim.ledger.expected) / max(sim.ledger.deposited, 1.0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "changes",
    [{}, {"wrap": False}, {"diffusion": 0.4, "decay": 0.3, "food_radius": 0.0}, {"decay": 0.0}],
    ids=["torus", "bounded", "partial-diffusion", "no-decay"],
)
def test_the_trail_mass_balances_every_step(backend: str, changes: dict[str, object]) -> None:
    params = PhysarumParams(**{**SMALL.__dict__, **changes})
    with Physarum(params, food=[(10, 10), (50, 40)], seed=2, backend=backend) as sim:
        for _ in range(6):
            sim.step(4)
            assert _balance_error(sim) < 1e-12
        removed = sim.cut(sim.disk(32, 24, 10), steps=5)
        assert removed > 0
        assert _balance_error(sim) < 1e-12
        for _ in range(4):
            sim.step(3)
            assert _balance_error(sim) < 1e-12

    ledger = sim.ledger
    assert ledger.removed == removed
    # Every step, every agent either moved (and deposited `deposit`) or not; food adds 20 per food cell.
    assert ledger.deposited > 0
    if params.decay == 0.0:
        assert ledger.decayed == 0.0
        assert ledger.expected == ledger.deposited - removed
    else:
        assert 0 < ledger.decayed < ledger.deposited


def test_a_ledger_adds_up() -> None:
    assert MassLedger(deposited=10.0, decayed=3.0, removed=2.5).expected == 4.5


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("wrap", [True, False])
def test_agents_stay_on_the_grid(backend: str, wrap: bool) -> None:
    params = PhysarumParams(**{**SMALL.__dict__, "wrap": wrap, "sensor_offset": 12.0, "step_size": 2.5})
    with Physarum(params, food=[(5, 5)], seed=3, backend=backend) as sim:
        for _ in range(5):
            sim.step(8)
            x, y, heading = sim.agents().T
            assert ((x >= 0) & (x < 64)).all()
            assert ((y >= 0) & (y < 48)).all()
            assert ((heading >= 0) & (heading < 2 * math.pi + 1e-6)).all()
            assert np.isfinite(sim.trail()).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_seed_reproduces_a_run(backend: str) -> None:
    def run(seed: int) -> tuple[np.ndarray, np.ndarray]:
        with Physarum(SMALL, food=[(20, 20)], seed=seed, backend=backend) as sim:
            sim.step(15)
            sim.cut(sim.disk(40, 30, 6), steps=4)
            sim.step(10)
            return sim.trail(), sim.agents()

    first, again, other = run(5), run(5), run(6)

    assert np.array_equal(first[0], again[0])
    assert np.array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def test_both_backends_start_from_the_same_agents() -> None:
    with Physarum(SMALL, seed=8) as on_taichi, Physarum(SMALL, seed=8, backend="numpy") as on_numpy:
        assert np.array_equal(on_taichi.agents(), on_numpy.agents())


@forks
def test_a_seed_reproduces_on_one_cpu_thread_in_a_fresh_runtime() -> None:
    def run() -> list[float]:
        with Physarum(SMALL, food=[(20, 20)], seed=4) as sim:
            sim.step(20)
            return sim.trail().ravel().tolist()

    here = run()

    def single_threaded() -> tuple[int, list[float]]:
        runtime.configure(threads=1)
        return runtime.info().threads, run()

    threads, there = in_forked_child(single_threaded)

    assert threads == 1
    assert there == here


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_network_forms_between_two_food_sources_and_regrows_when_cut(backend: str) -> None:
    with Physarum(LINKED, food=NODES, seed=1, backend=backend) as sim:
        sim.step(300)
        assert _link_strength(sim.trail()) > 20  # every column of the link stands far above the background

        removed = sim.remove_link(0, 1, steps=50)
        sim.step(20)
        cut = sim.blocked()
        assert removed > 0
        assert cut[32, 48]
        assert not cut[32, 24]
        assert sim.trail()[cut].max() == 0.0

        sim.step(230)
        assert not sim.blocked().any()
        assert _link_strength(sim.trail()) > 20  # the link grew back through the cut
        assert _balance_error(sim) < 1e-12


@pytest.mark.parametrize("backend", BACKENDS)
def test_agents_do_not_enter_a_cut(backend: str) -> None:
    with Physarum(SMALL, food=[(32, 24)], seed=9, backend=backend) as sim:
        sim.step(30)
        region = sim.disk(32, 24, 8)
        x, y, _ = sim.agents().T
        outside = ~region[y.astype(int), x.astype(int)]
        sim.cut(region, steps=12)
        for _ in range(12):
            sim.step()
            x, y, _ = sim.agents().T
            assert not region[y.astype(int), x.astype(int)][outside].any()
            assert sim.trail()[region].max() == 0.0  # no deposit, food or diffusion reaches a blocked cell
        sim.step(20)
        assert sim.trail()[region].max() > 0.0  # the block lifted: food and agents are back


def test_simulations_open_at_once_do_not_mix() -> None:
    def run(seed: int) -> np.ndarray:
        with Physarum(SMALL, seed=seed) as sim:
            sim.step(10)
            return sim.trail()

    alone = run(1), run(2)

    with Physarum(SMALL, seed=1) as first, Physarum(SMALL, seed=2) as second:
        for _ in range(10):
            first.step()
            second.step()
        together = first.trail(), second.trail()

    assert np.array_equal(together[0], alone[0])
    assert np.array_equal(together[1], alone[1])
    with pytest.raises(RuntimeError, match="closed"):
        first.step()


@pytest.mark.parametrize("backend", BACKENDS)
def test_it_renders_the_trail_to_rgb(backend: str) -> None:
    with Physarum(SMALL, food=[(20, 20)], seed=1, backend=backend) as sim:
        sim.step(20)
        sim.cut(sim.disk(50, 10, 4), steps=5)
        image = sim.render()
        trail = sim.trail()

    assert image.shape == (48, 64, 3)
    assert image.dtype == np.uint8
    assert (
        image[20, 20].sum() > image[np.unravel_index(np.argmin(np.where(trail > 0, trail, np.inf)), trail.shape)].sum()
    )
    assert image[10, 50].tolist() == [70, 0, 40]  # blocked cells are tinted
    assert render_trail(np.zeros((4, 5))).reshape(-1, 3).tolist() == [[4, 4, 10]] * 20  # an empty trail is dark
    with pytest.raises(ValueError, match="2-D"):
        render_trail(np.zeros(3))


def test_it_refuses_bad_parameters() -> None:
    with pytest.raises(ValueError, match="width must be an integer from 16 to 4096 cells, got 5000"):
        PhysarumParams(width=5000)
    with pytest.raises(ValueError, match="agents must be a positive integer"):
        PhysarumParams(agents=0)
    with pytest.raises(ValueError, match=r"decay must lie in \[0, 1\)"):
        PhysarumParams(decay=1.0)
    with pytest.raises(ValueError, match=r"diffusion must lie in \[0, 1\]"):
        PhysarumParams(diffusion=1.5)
    with pytest.raises(ValueError, match="sensor_offset must lie in"):
        PhysarumParams(width=64, height=64, sensor_offset=40.0)
    with pytest.raises(ValueError, match="deposit must be a finite number of at least 0"):
        PhysarumParams(deposit=math.nan)
    with pytest.raises(ValueError, match=r"agents must be at most 1000 \(max_agents\), got 3000"):
        Physarum(SMALL, max_agents=1000)
    with pytest.raises(ValueError, match=r"food\[1\] = \(70, 5\) lies outside the 64 x 48 grid"):
        Physarum(SMALL, food=[(1, 1), (70, 5)])
    with pytest.raises(ValueError, match="backend must be 'taichi' or 'numpy'"):
        Physarum(SMALL, backend="opengl")  # type: ignore[arg-type]
    with Physarum(SMALL, food=[(1, 1)], backend="numpy") as sim:
        with pytest.raises(ValueError, match="food node 1 does not exist"):
            sim.remove_link(0, 1)
        with pytest.raises(ValueError, match=r"mask must have the grid's shape \(48, 64\)"):
            sim.cut(np.zeros((4, 4), dtype=bool), steps=3)
