"""Predator-prey flocking: the grid finds exactly the brute-force neighbours, speeds hold, seeds reproduce."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from compute import runtime
from compute.flocking import Flock, FlockParams, brute_force_neighbours, neighbour_summary, render_flock
from tests.compute.test_runtime import forks, in_forked_child

BACKENDS = ["taichi", "numpy"]
SMALL = FlockParams(width=160.0, height=120.0, prey=800, predators=6, radius=8.0)


def _speeds(state: np.ndarray) -> np.ndarray:
    return np.hypot(state[:, 2], state[:, 3])


def _awkward_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return uniform points plus clumps, points on cell edges and pairs across the torus' seams."""
    rng = np.random.default_rng(seed)
    x, y = rng.random(n) * 200.0, rng.random(n) * 150.0
    x[:40], y[:40] = 100.0 + rng.random(40) * 0.5, 75.0 + rng.random(40) * 0.5  # a dense clump
    x[40:80], y[40:80] = np.arange(40) * 7.0 % 200.0, 7.0 * (np.arange(40) % 21)  # on cell corners
    x[80:90], x[90:100] = rng.random(10) * 2.0, 200.0 - rng.random(10) * 2.0  # across the x seam
    y[100:110], y[110:120] = rng.random(10) * 2.0, 150.0 - rng.random(10) * 2.0  # across the y seam
    return x, np.minimum(y, np.nextafter(150.0, 0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_grid_finds_exactly_the_brute_force_neighbours(backend: str) -> None:
    x, y = _awkward_points(3000, seed=1)

    grid = neighbour_summary(x, y, width=200.0, height=150.0, radius=7.0, backend=backend)
    truth = brute_force_neighbours(x, y, width=200.0, height=150.0, radius=7.0)

    assert truth.count.sum() > 3000  # the configuration has neighbours to find
    assert np.array_equal(grid.count, truth.count)
    assert np.array_equal(grid.index_sum, truth.index_sum)
    assert np.array_equal(grid.index_square_sum, truth.index_square_sum)
    assert grid.pair_checks < truth.pair_checks / 20  # far below n^2


def test_pair_checks_grow_linearly_at_a_fixed_density() -> None:
    checks = {}
    for n in (2000, 8000, 32000):
        side = 100.0 * math.sqrt(n / 2000)  # the same density at every n
        rng = np.random.default_rng(n)
        x, y = rng.random(n) * side, rng.random(n) * side
        checks[n] = neighbour_summary(x, y, width=side, height=side, radius=5.0).pair_checks

    assert 3.5 < checks[8000] / checks[2000] < 4.5
    assert 3.5 < checks[32000] / checks[8000] < 4.5
    assert checks[32000] < 32000 * 31999 / 500


@pytest.mark.parametrize("backend", BACKENDS)
def test_speeds_stay_within_the_limits(backend: str) -> None:
    params = FlockParams(**{**SMALL.__dict__, "predators": 20, "flee": 5.0, "prey_force": 1.0})
    with Flock(params, seed=3, backend=backend) as flock:
        for _ in range(40):
            flock.step()
            state = flock.state()
            prey, predators = _speeds(state[:800]), _speeds(state[800:])
            assert prey.max() <= params.prey_max_speed * (1 + 1e-12)
            assert prey.min() >= params.prey_min_speed * (1 - 1e-12)
            assert predators.max() <= params.predator_max_speed * (1 + 1e-12)
            assert predators.min() >= params.predator_min_speed * (1 - 1e-12)
            assert ((state[:, 0] >= 0) & (state[:, 0] < 160) & (state[:, 1] >= 0) & (state[:, 1] < 120)).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_seed_reproduces_a_run(backend: str) -> None:
    def run(seed: int) -> tuple[np.ndarray, int]:
        with Flock(SMALL, seed=seed, backend=backend) as flock:
            flock.step(30)
            return flock.state(), flock.catches

    first, again, other = run(4), run(4), run(5)

    assert np.array_equal(first[0], again[0])
    assert first[1] == again[1]
    assert not np.array_equal(first[0], other[0])


def test_both_backends_follow_the_same_trajectories() -> None:
    params = FlockParams(**{**SMALL.__dict__, "predators": 30})
    with Flock(params, seed=6) as on_taichi, Flock(params, seed=6, backend="numpy") as on_numpy:
        assert np.array_equal(on_taichi.state(), on_numpy.state())
        caught = on_taichi.step(8), on_numpy.step(8)
        assert np.abs(on_taichi.state() - on_numpy.state()).max() < 1e-9  # rounding apart, respawns included

    assert caught[0] == caught[1]
    assert sum(caught[0]) > 0


@forks
def test_a_seed_reproduces_on_one_cpu_thread_in_a_fresh_runtime() -> None:
    def run() -> list[float]:
        with Flock(SMALL, seed=7) as flock:
            flock.step(20)
            return flock.state().ravel().tolist()

    here = run()

    def single_threaded() -> tuple[int, list[float]]:
        runtime.configure(threads=1)
        return runtime.info().threads, run()

    threads, there = in_forked_child(single_threaded)

    assert threads == 1
    assert there == here


def _pair(prey_at: tuple[float, float], predator_at: tuple[float, float], backend: str) -> Flock:
    params = FlockParams(width=60.0, height=60.0, prey=1, predators=1, radius=10.0, catch_radius=1.0)
    state = np.array([[*prey_at, 0.0, 1.0], [*predator_at, 0.0, 1.0]])
    return Flock(params, state=state, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_prey_flee_and_predators_pursue(backend: str) -> None:
    with _pair((30.0, 30.0), (25.0, 30.0), backend) as flock:  # the predator is 5 to the prey's left
        flock.step()
        prey, predator = flock.state()

    assert prey[2] > 0  # the prey gained speed to the right, away from the predator
    assert predator[2] > 0  # the predator turned right, towards the prey


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_caught_prey_respawns(backend: str) -> None:
    with _pair((30.0, 30.0), (29.5, 30.0), backend) as flock:
        assert flock.step() == [1]
        prey = flock.state()[0]

    assert flock.catches == 1
    assert math.hypot(prey[0] - 30.0, prey[1] - 30.0) > 1.0  # elsewhere (with odds 1 - 1e-3 for this seed)
    assert math.isclose(math.hypot(prey[2], prey[3]), 0.6)  # at the prey's minimum speed


@pytest.mark.parametrize("backend", BACKENDS)
def test_prey_that_crowd_move_apart(backend: str) -> None:
    params = FlockParams(width=60.0, height=60.0, prey=2, predators=0, radius=10.0, cohesion=0.0, alignment=0.0)
    state = np.array([[30.0, 30.0, 0.0, 1.0], [31.0, 30.0, 0.0, 1.0]])
    with Flock(params, state=state, backend=backend) as flock:
        flock.step()
        after = flock.state()

    assert after[1, 0] - after[0, 0] > 1.0


def test_flocks_open_at_once_do_not_mix() -> None:
    def run(seed: int) -> np.ndarray:
        with Flock(SMALL, seed=seed) as flock:
            flock.step(10)
            return flock.state()

    alone = {seed: run(seed) for seed in (1, 2, 3)}
    together: dict[int, np.ndarray] = {}

    def worker(seed: int) -> None:
        together[seed] = run(seed)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(together) == [1, 2, 3]
    assert all(np.array_equal(together[seed], alone[seed]) for seed in (1, 2, 3))


def test_it_renders_the_flock_to_rgb() -> None:
    with Flock(SMALL, seed=1) as flock:
        flock.step(5)
        image = flock.render(scale=2.0)
        state = flock.state()

    assert image.shape == (240, 320, 3)
    assert image.dtype == np.uint8
    x, y = state[800, :2]
    assert image[int(y * 2), int(x * 2)].tolist() == [255, 60, 40]  # a predator's mark
    assert render_flock(state[:0], prey=0, width=10, height=10).reshape(-1, 3).tolist() == [[8, 12, 24]] * 100
    with pytest.raises(ValueError, match="scale must be positive"):
        render_flock(state, prey=800, width=160.0, height=120.0, scale=0)


def test_it_refuses_bad_parameters() -> None:
    with pytest.raises(ValueError, match=r"width must be at least 3 \* radius = 48"):
        FlockParams(width=40.0)
    with pytest.raises(ValueError, match="radius must be a positive"):
        FlockParams(radius=0.0)
    with pytest.raises(ValueError, match="prey must be a non-negative integer"):
        FlockParams(prey=-1)
    with pytest.raises(ValueError, match=r"separation_radius must lie in \[0, radius = 16\]"):
        FlockParams(separation_radius=20.0)
    with pytest.raises(ValueError, match="prey speeds must satisfy 0 <= prey_min_speed <= prey_max_speed"):
        FlockParams(prey_min_speed=3.0)
    with pytest.raises(ValueError, match="predator speeds must satisfy"):
        FlockParams(predator_max_speed=40.0)
    with pytest.raises(ValueError, match="flee must be a finite number of at least 0"):
        FlockParams(flee=-1.0)
    with pytest.raises(ValueError, match="grid cells"):
        FlockParams(width=1e6, height=1e6, radius=1.0)
    with pytest.raises(ValueError, match=r"prey \+ predators must be at most 500 \(max_agents\), got 806"):
        Flock(SMALL, max_agents=500)
    with pytest.raises(ValueError, match=r"state must have shape \(806, 4\)"):
        Flock(SMALL, state=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="every position must lie in"):
        Flock(SMALL, state=np.full((806, 4), 500.0))
    with pytest.raises(ValueError, match="backend must be 'taichi' or 'numpy'"):
        Flock(SMALL, backend="cuda")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="every point must lie in"):
        neighbour_summary(np.array([-1.0]), np.array([0.0]), width=30.0, height=30.0, radius=5.0)
