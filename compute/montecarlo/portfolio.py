"""Monte Carlo risk of a portfolio of correlated assets: VaR, expected shortfall and each asset's contribution.

Each asset follows geometric Brownian motion with its own volatility and zero drift; the shocks are correlated
through the lower Cholesky factor L of the correlation matrix (e = L z), normal or multivariate Student-t (one
chi-square per step shared by all assets, scaled to unit variance). Paths run on Taichi
(`compute.montecarlo.portfolio_kernels`, the default) or on the NumPy reference below.

Loss is the fall in portfolio value over the horizon. VaR at confidence a is the a-quantile of the loss, ES the
mean loss over the paths at or beyond it, and an asset's contribution is its mean loss over those same tail paths
(the Euler allocation of ES: the contributions sum to ES exactly). With one asset and normal shocks the figures
converge to `compute.montecarlo.closed_form` of the same `GbmModel`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from compute import runtime
from compute.montecarlo.risk import _order_index

MAX_ASSETS = 64
CHUNK_ELEMENTS = 1 << 21  # paths × assets per kernel launch: two 16 MiB buffers per runtime, reused


@dataclass(frozen=True)
class PortfolioModel:
    """Positions (current values, > 0), annual volatilities, a correlation matrix and the shocks' law.

    Raises ValueError naming any bad parameter. `days_per_year` converts the horizons (calendar days by default:
    crypto trades every day, and the volatilities are measured on calendar time).
    """

    values: Sequence[float]
    volatilities: Sequence[float]
    correlation: Sequence[Sequence[float]]
    shocks: str = "normal"
    dof: float | None = None
    days_per_year: float = 365.25
    names: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        n = len(self.values)
        if not 1 <= n <= MAX_ASSETS:
            raise ValueError(f"a portfolio has 1 to {MAX_ASSETS} assets, got {n}")
        if any(not math.isfinite(v) or v <= 0 for v in self.values):
            raise ValueError("every position value must be positive and finite")
        if len(self.volatilities) != n or any(not math.isfinite(s) or s < 0 for s in self.volatilities):
            raise ValueError(f"volatilities must be {n} non-negative finite numbers")
        corr = np.asarray(self.correlation, dtype=np.float64)
        if corr.shape != (n, n) or not np.all(np.isfinite(corr)):
            raise ValueError(f"correlation must be a finite {n}×{n} matrix")
        if not np.allclose(corr, corr.T) or not np.allclose(np.diag(corr), 1.0) or np.any(np.abs(corr) > 1 + 1e-12):
            raise ValueError("correlation must be symmetric with a unit diagonal and entries in [-1, 1]")
        if self.shocks == "student_t":
            if self.dof is None or not math.isfinite(self.dof) or self.dof <= 2:
                raise ValueError(f"dof must be a finite number above 2 for Student-t shocks, got {self.dof!r}")
        elif self.shocks != "normal" or self.dof is not None:
            raise ValueError("shocks must be 'normal' (without dof) or 'student_t' (with dof > 2)")

    @property
    def cholesky(self) -> np.ndarray:
        """The lower Cholesky factor of the correlation, after clipping negative eigenvalues (a correlation
        estimated from unequal histories can be slightly indefinite) and renormalising the diagonal."""
        corr = np.asarray(self.correlation, dtype=np.float64)
        values, vectors = np.linalg.eigh(corr)
        if values.min() < 1e-10:
            fixed = vectors @ np.diag(np.maximum(values, 1e-10)) @ vectors.T
            d = np.sqrt(np.diag(fixed))
            corr = fixed / np.outer(d, d)
        return np.linalg.cholesky(corr)


@dataclass(frozen=True)
class PortfolioRisk:
    value: float
    horizon_days: float
    var: dict[float, float]
    es: dict[float, float]
    contributions: dict[float, list[float]]  # per confidence: each asset's share of ES (sums to ES)
    paths: int
    backend: str
    seconds: float


def _numpy_ratios(model: PortfolioModel, *, paths: int, steps: int, dt: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vols = np.asarray(model.volatilities)
    chol = model.cholesky
    n = len(vols)
    log = np.zeros((paths, n))
    scale_t = model.shocks == "student_t"
    for _ in range(steps):
        e = rng.standard_normal((paths, n)) @ chol.T
        if scale_t:
            chi2 = rng.chisquare(model.dof, size=(paths, 1))
            e *= np.sqrt((model.dof - 2.0) / chi2)
        log += -0.5 * vols**2 * dt + vols * math.sqrt(dt) * e
    return np.exp(log)


class _Workspace:
    def __init__(self) -> None:
        import compute.montecarlo.kernels as kernels

        ti = runtime.import_taichi()
        edges, ratios = kernels.ziggurat()
        self.zx = ti.ndarray(ti.f64, len(edges))
        self.zr = ti.ndarray(ti.f64, len(ratios))
        self.zx.from_numpy(edges)
        self.zr.from_numpy(ratios)
        self.rows = CHUNK_ELEMENTS // MAX_ASSETS
        self.out = ti.ndarray(ti.f64, (self.rows, MAX_ASSETS))
        self.scratch = ti.ndarray(ti.f64, (self.rows, MAX_ASSETS))
        self.chol = ti.ndarray(ti.f64, (MAX_ASSETS, MAX_ASSETS))
        self.drift = ti.ndarray(ti.f64, MAX_ASSETS)
        self.vol = ti.ndarray(ti.f64, MAX_ASSETS)


def _taichi_ratios(model: PortfolioModel, *, paths: int, steps: int, dt: float, seed: int) -> np.ndarray:
    import compute.montecarlo.portfolio_kernels as kernels

    ws = runtime.resource(("montecarlo-portfolio", CHUNK_ELEMENTS), _Workspace)
    n = len(model.values)
    vols = np.asarray(model.volatilities, dtype=np.float64)
    chol = np.zeros((MAX_ASSETS, MAX_ASSETS))
    chol[:n, :n] = model.cholesky
    drift = np.zeros(MAX_ASSETS)
    drift[:n] = -0.5 * vols**2 * dt
    vol = np.zeros(MAX_ASSETS)
    vol[:n] = vols * math.sqrt(dt)
    key = int(np.random.SeedSequence(seed).generate_state(1, dtype=np.uint64)[0])
    dof = float(model.dof) if model.shocks == "student_t" else 0.0
    ratios = np.empty((paths, n))

    def chunk(first: int, count: int) -> None:
        ws.chol.from_numpy(chol)
        ws.drift.from_numpy(drift)
        ws.vol.from_numpy(vol)
        kernels.terminal_ratios(ws.out, ws.scratch, count, first, key, steps, n, ws.chol, ws.drift, ws.vol, dof,
                                ws.zx, ws.zr)  # fmt: skip
        ratios[first : first + count] = ws.out.to_numpy()[:count, :n]

    for first in range(0, paths, ws.rows):  # one job per chunk, so other callers' jobs interleave
        runtime.call(chunk, first, min(ws.rows, paths - first))
    return ratios


def simulate_portfolio(
    model: PortfolioModel,
    *,
    horizon_days: float,
    paths: int,
    steps: int | None = None,
    seed: int = 0,
    confidence: Sequence[float] = (0.95, 0.99),
    backend: str = "taichi",
) -> PortfolioRisk:
    """Simulate `paths` joint paths over `horizon_days` (one step a day unless `steps`) and return the risk.

    Reproducible for a seed and backend. Blocks the calling thread (Taichi work runs on the runtime thread).
    """
    if not math.isfinite(horizon_days) or horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive, got {horizon_days!r}")
    if not isinstance(paths, int) or paths < 100:
        raise ValueError(f"paths must be an integer of at least 100, got {paths!r}")
    if backend not in ("taichi", "numpy"):
        raise ValueError(f"backend must be 'taichi' or 'numpy', got {backend!r}")
    steps = steps or max(1, math.ceil(horizon_days))
    dt = horizon_days / model.days_per_year / steps
    started = time.perf_counter()
    simulate = _taichi_ratios if backend == "taichi" else _numpy_ratios
    ratios = simulate(model, paths=paths, steps=steps, dt=dt, seed=seed)
    values = np.asarray(model.values, dtype=np.float64)
    asset_losses = values * (1.0 - ratios)  # paths × assets
    losses = asset_losses.sum(axis=1)
    order = np.argsort(losses, kind="stable")
    var, es, contributions = {}, {}, {}
    for level in confidence:
        k = _order_index(level, paths)
        tail = order[k:]
        var[level] = float(losses[order[k]])
        es[level] = float(losses[tail].mean())
        contributions[level] = [float(x) for x in asset_losses[tail].mean(axis=0)]
    return PortfolioRisk(
        value=float(values.sum()), horizon_days=horizon_days, var=var, es=es, contributions=contributions,
        paths=paths, backend=backend, seconds=time.perf_counter() - started,
    )  # fmt: skip
