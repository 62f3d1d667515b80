"""Compute benchmark: the Taichi ACO against its NumPy reference, and ACO quality against time, in one run.

    .venv/bin/python bench/compute.py [--quick]

Prints:
- time per MMAS iteration (25 ants, construction + 2-opt + pheromone update) on kroA100, Taichi against the
  NumPy reference, each measured here over the same number of iterations: the speed-up as a ratio;
- 2-opt of 25 random tours on kroA100, Taichi against NumPy: the local search alone;
- per TSPLIB instance in ../shared/data/tsplib, % above the published optimum after 0.1 s, 1 s and 5 s for
  both backends (runs stop early at the optimum), and the time each needed to reach it.

Kernels are compiled before anything is timed. Set DREAMNET_COMPUTE_ARCH / DREAMNET_COMPUTE_THREADS to pick
the device and CPU threads; bounded to about a minute with --quick and a few minutes without.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compute import runtime  # noqa: E402
from compute.aco import AcoResult, improve_tours, solve  # noqa: E402
from compute.tsplib import Instance, load_instance  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "tsplib"
OPTIMA = {"eil51": 426, "berlin52": 7542, "st70": 675, "eil76": 538, "kroA100": 21282, "ch150": 6528, "a280": 2579}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations, seeds and a 1 s budget")
    quick = parser.parse_args().quick
    if not DATA.is_dir():
        sys.exit(f"TSPLIB data not found at {DATA}")
    info = runtime.info()
    print(
        f"taichi {info.taichi_version} on {info.arch} ({info.taichi_arch}, {info.threads} CPU threads), "
        f"numpy {np.__version__}"
    )

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
    ls = local_search(kroa, 1 if quick else 3)
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


if __name__ == "__main__":
    main()
