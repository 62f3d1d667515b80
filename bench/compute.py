"""Compute benchmark: the Taichi ACO against its NumPy reference, and ACO quality against time, in one run.

    .venv/bin/python bench/compute.py [--quick]

Prints:
- time per MMAS iteration (25 ants, construction + 2-opt + pheromone update) on kroA100, Taichi against the
  NumPy reference, each measured here over the same number of iterations: the speed-up as a ratio;
- 2-opt of 25 random tours on kroA100, Taichi against NumPy: the local search alone;
- per TSPLIB instance bundled in compute/data, % above the published optimum after 0.1 s, 1 s and 5 s for
  both backends (runs stop early at the optimum), and the time each needed to reach it;
- Monte Carlo GBM path-steps per second, normal and Student-t shocks, Taichi against NumPy;
- physarum steps per second with 10^5 agents on a 512 x 512 trail, Taichi against NumPy;
- flocking steps per second (prey + 1 predator per 500 prey, radius-16 grid at a fixed density) at 2 * 10^4
  and 10^5 agents, Taichi against NumPy, and the neighbour pairs checked per agent.

Kernels are compiled before anything is timed. Set DREAMNET_COMPUTE_ARCH / DREAMNET_COMPUTE_THREADS to pick
the device and CPU threads; bounded to about a minute with --quick and a few minutes without.
"""

from __future__ import annotations

import argparse
import functools
import math
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import add_arguments, emit_json  # noqa: E402
from compute import runtime  # noqa: E402
from compute.aco import AcoResult, improve_tours, solve  # noqa: E402
from compute.flocking import Flock, FlockParams, neighbour_summary  # noqa: E402
from compute.instances import BUNDLED_DIR, KNOWN_OPTIMA  # noqa: E402
from compute.montecarlo import GbmModel, terminal_prices  # noqa: E402
from compute.physarum import Physarum, PhysarumParams  # noqa: E402
from compute.tsplib import Instance, load_instance  # noqa: E402

DATA = BUNDLED_DIR
OPTIMA = KNOWN_OPTIMA
CHECKPOINTS = (0.1, 1.0, 5.0)


def per_iteration(instance: Instance, iterations: int, repeats: int) -> dict[str, float]:
    """Return seconds per iteration for each backend, best of `repeats` seeds.

    A run of `iterations` less a run of one with the same seed: the set-up and the first iteration cancel.
    """
    timings = {}
    for backend in ("numpy", "taichi"):
        runs = []
        for seed in range(repeats):
            full = solve(instance, iterations=iterations, seed=seed, backend=backend).seconds
            runs.append((full - solve(instance, iterations=1, seed=seed, backend=backend).seconds) / (iterations - 1))
        timings[backend] = min(runs)
    return timings


def local_search(instance: Instance, repeats: int) -> dict[str, float]:
    """Return the best seconds to 2-opt 25 random tours, for each backend."""
    rng = np.random.default_rng(0)
    tours = np.stack([rng.permutation(instance.dimension) for _ in range(25)])
    timings = {}
    for backend in ("numpy", "taichi"):
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            improve_tours(instance, tours, backend=backend)
            best = min(best, time.perf_counter() - started)
        timings[backend] = best
    return timings


def gap_at(result: AcoResult, seconds: float, optimum: int) -> float | None:
    """Return the % above optimum of the best tour found within `seconds`, or None if none was."""
    found = [p.length for p in result.trace if p.seconds <= seconds]
    if not found and result.seconds <= seconds:
        found = [result.length]
    return 100.0 * (min(found) / optimum - 1.0) if found else None


def quality(instance: Instance, optimum: int, budget: float, seeds: int) -> dict[str, list[AcoResult]]:
    solve(instance, iterations=1)  # first use of this size: transfers' kernels compile outside the timing
    return {
        backend: [solve(instance, seconds=budget, seed=seed, backend=backend, target=optimum) for seed in range(seeds)]
        for backend in ("taichi", "numpy")
    }


def _cell(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{statistics.mean(known):8.2f}" if len(known) == len(values) else f"{'-':>8}"


def _time_to_optimum(results: list[AcoResult], optimum: int) -> str:
    hits = [r.trace[-1].seconds for r in results if r.length == optimum]
    median = f"{statistics.median(hits):6.2f}s" if hits else "      -"
    return f"{median} ({len(hits)}/{len(results)})"


def aco(quick: bool) -> None:
    """Print the ACO sections: per-iteration and 2-opt timings on kroA100, then quality against time."""
    kroa = load_instance(DATA / "kroA100.tsp")
    solve(kroa, iterations=2)  # compile
    improve_tours(kroa, np.arange(100)[None])
    iterations = 20 if quick else 60
    timing = per_iteration(kroa, iterations, 1 if quick else 2)
    print(f"\nMMAS iteration on kroA100 (25 ants, 2-opt), {iterations} iterations per run, best run:")
    print(f"  numpy reference {timing['numpy'] * 1e3:8.2f} ms/iteration")
    print(
        f"  taichi          {timing['taichi'] * 1e3:8.2f} ms/iteration   "
        f"ratio numpy/taichi {timing['numpy'] / timing['taichi']:.1f}x"
    )
    RATIOS["aco_iteration_taichi_vs_numpy"] = timing["numpy"] / timing["taichi"]
    ls = local_search(kroa, 1 if quick else 3)
    RATIOS["two_opt_taichi_vs_numpy"] = ls["numpy"] / ls["taichi"]
    print("2-opt of 25 random tours on kroA100:")
    print(
        f"  numpy {ls['numpy'] * 1e3:.1f} ms, taichi {ls['taichi'] * 1e3:.1f} ms   "
        f"ratio numpy/taichi {ls['numpy'] / ls['taichi']:.1f}x"
    )

    budget, seeds = (1.0, 1) if quick else (5.0, 3)
    checkpoints = [c for c in CHECKPOINTS if c <= budget]
    head = "".join(f"{f'@{c:g}s':>8}" for c in checkpoints)
    print(f"\n% above optimum (mean of {seeds} seed(s)), {budget:g} s budget, runs stop at the optimum;")
    print("time to optimum: median over the runs that reached it (runs that did / runs)")
    print(f"{'instance':10} {'n':>4} {'backend':7}{head}   time to optimum")
    for name, optimum in OPTIMA.items():
        instance = load_instance(DATA / f"{name}.tsp")
        for backend, results in quality(instance, optimum, budget, seeds).items():
            cells = "".join(_cell([gap_at(r, c, optimum) for r in results]) for c in checkpoints)
            print(f"{name:10} {instance.dimension:4} {backend:7}{cells}   {_time_to_optimum(results, optimum)}")


def best_seconds(run: Callable[[], object], repeats: int) -> float:
    """Return the best wall time of `repeats` calls of `run` (already compiled: call it once before)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


RATIOS: dict[str, float] = {}  # for --json: Taichi's throughput against NumPy's, per measure


def _ratio_line(label: str, unit: str, rates: dict[str, float]) -> None:
    RATIOS[re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") + "_taichi_vs_numpy"] = rates["taichi"] / rates["numpy"]
    print(
        f"  {label:28} numpy {rates['numpy']:9.2f} {unit}   taichi {rates['taichi']:9.2f} {unit}   "
        f"ratio taichi/numpy {rates['taichi'] / rates['numpy']:.1f}x"
    )


def montecarlo(quick: bool) -> None:
    """Print GBM path-steps per second for both backends, normal and Student-t shocks."""
    paths, steps = (200_000, 64) if quick else (1_000_000, 64)
    print(f"\nMonte Carlo GBM, {paths:,} paths x {steps} steps, best of {2 if quick else 3}:")
    for label, shocks in (("normal shocks", {}), ("Student-t shocks (dof 5)", {"shocks": "student_t", "dof": 5.0})):
        model = GbmModel(spot=2400.0, volatility=0.2, horizon_days=21, steps=steps, **shocks)  # type: ignore[arg-type]
        rates = {}
        for backend in ("numpy", "taichi"):
            terminal_prices(model, paths=1000, backend=backend)  # compile
            run = functools.partial(terminal_prices, model, paths=paths, backend=backend)
            seconds = best_seconds(run, 2 if quick else 3)
            rates[backend] = paths * steps / seconds / 1e6
        _ratio_line(label, "M path-steps/s", rates)


def physarum(quick: bool) -> None:
    """Print physarum steps per second with 10^5 agents on a 512 x 512 trail, for both backends."""
    params = PhysarumParams(width=512, height=512, agents=100_000)
    food = [(128, 128), (384, 160), (256, 400), (100, 380), (420, 420)]
    counts = {"numpy": 5 if quick else 20, "taichi": 50 if quick else 300}
    rates = {}
    for backend, steps in counts.items():
        with Physarum(params, food=food, seed=0, backend=backend) as sim:
            sim.step(2)  # compile, and leave the uniform start
            started = time.perf_counter()
            sim.step(steps)
            rates[backend] = steps / (time.perf_counter() - started)
    print(
        f"\nPhysarum, 10^5 agents on 512 x 512, wrap-around, 5 food nodes "
        f"(numpy {counts['numpy']} steps, taichi {counts['taichi']} steps):"
    )
    _ratio_line("sense-move-deposit-diffuse", "steps/s", rates)


def flocking(quick: bool) -> None:
    """Print flocking steps per second at two sizes of one density, and the grid's pair checks per agent."""
    print("\nFlocking, prey + 1 predator per 500 prey, 1024 x 1024 world per 2 * 10^4 agents, radius 16:")
    for prey in (20_000, 100_000):
        side = 1024.0 * math.sqrt(prey / 20_000)
        params = FlockParams(width=side, height=side, prey=prey, predators=prey // 500)
        counts = {"numpy": 2 if quick else 5, "taichi": (20 if quick else 100) * 20_000 // prey}
        rates = {}
        for backend, steps in counts.items():
            with Flock(params, seed=0, backend=backend) as flock:
                flock.step(1)  # compile
                started = time.perf_counter()
                flock.step(steps)
                rates[backend] = steps / (time.perf_counter() - started)
                state = flock.state()
        checks = neighbour_summary(state[:, 0], state[:, 1], width=side, height=side, radius=16.0).pair_checks
        _ratio_line(f"{prey + prey // 500:,} agents", "steps/s", rates)
        print(f"  {'':28} {checks / len(state):.0f} pair checks per agent per step (brute force: {len(state) - 1:,})")


SECTIONS = ("aco", "montecarlo", "physarum", "flocking")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations, seeds, steps and a 1 s budget")
    parser.add_argument(
        "--only", nargs="+", choices=SECTIONS, default=SECTIONS, metavar="SECTION",
        help=f"run only these sections ({', '.join(SECTIONS)}; default: all)",
    )  # fmt: skip
    add_arguments(parser)
    args = parser.parse_args()
    quick = args.quick
    info = runtime.info()
    print(
        f"taichi {info.taichi_version} on {info.arch} ({info.taichi_arch}, {info.threads} CPU threads), "
        f"numpy {np.__version__}"
    )
    if "aco" in args.only:
        aco(quick)
    if "montecarlo" in args.only:
        montecarlo(quick)
    if "physarum" in args.only:
        physarum(quick)
    if "flocking" in args.only:
        flocking(quick)
    emit_json(args, "none", RATIOS)  # pure compute: no database, so no PostgreSQL variant


if __name__ == "__main__":
    main()
