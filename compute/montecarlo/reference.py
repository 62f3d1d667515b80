"""NumPy reference of the Monte Carlo risk model: the validation and benchmark baseline for the kernel.

Same model as `compute.montecarlo.kernels`, vectorised over a block of paths at a time: draw every shock of
the block with NumPy's generator, sum each path's log-return increments in f64, exponentiate. It draws from
NumPy's PCG64 stream rather than the kernel's per-path streams, so the two agree in distribution, not path
by path.
"""

from __future__ import annotations

import math

import numpy as np

BLOCK_DRAWS = 1 << 22  # shocks drawn at once: 32 MiB of f64, whatever the path count


def terminal_prices(
    paths: int, *, steps: int, spot: float, drift_dt: float, vol_dt: float, dof: float, seed: int
) -> np.ndarray:
    """Return the terminal prices of `paths` paths of `steps` steps (f64).

    Each step adds drift_dt + vol_dt * e to the log price, with e standard normal when dof <= 0, else Student-t
    with `dof` (> 2) degrees of freedom scaled to unit variance. A seed reproduces the prices exactly.
    """
    rng = np.random.default_rng(seed)
    out = np.empty(paths, dtype=np.float64)
    rows = max(1, BLOCK_DRAWS // steps)
    scale = math.sqrt((dof - 2.0) / dof) if dof > 0 else 1.0
    for start in range(0, paths, rows):
        count = min(rows, paths - start)
        shocks = rng.standard_t(dof, size=(count, steps)) if dof > 0 else rng.standard_normal((count, steps))
        log_price = steps * drift_dt + (vol_dt * scale) * shocks.sum(axis=1)
        np.exp(log_price, out=log_price)
        out[start : start + count] = spot * log_price
    return out
