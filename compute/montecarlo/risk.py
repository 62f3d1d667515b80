"""Monte Carlo risk of a metal position: value-at-risk, expected shortfall and the terminal-value distribution.

The price follows geometric Brownian motion, log S(t + dt) = log S(t) + (mu - sigma^2 / 2) dt + sigma sqrt(dt) e,
with e standard normal (so E[S(T)] = S(0) exp(mu T), the lognormal closed form) or, as an option, Student-t
scaled to unit variance for fat tails. Paths run on Taichi (`backend="taichi"`, the default) or on the NumPy
reference; the summary statistics are computed here, the same way for both.

Loss is the fall in position value over the horizon, `quantity * (S(0) - S(T))` (a short position, negative
quantity, loses when the price rises). VaR at confidence a is the a-quantile of the loss (the smallest loss
exceeded by at most (1 - a) of the paths); ES is the mean loss over the paths at or beyond it, so ES >= VaR.
Under Student-t shocks E[S(T)] is, strictly, infinite (the t law has no exponential moment); the reported mean is
the sample mean, finite and stable at daily steps, but only the quantile-based figures are robust there.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from types import ModuleType
from typing import Literal

import numpy as np

import compute.montecarlo.reference as reference
from compute import runtime

Backend = Literal["taichi", "numpy"]
Shocks = Literal["normal", "student_t"]

MAX_PATHS = 10**7  # default cap on paths per run; callers (job settings) may pass their own `max_paths`
MAX_STEPS = 10_000
CHUNK_PATHS = 1 << 20  # paths per kernel launch: one 8 MiB buffer per runtime, reused by every run
DEFAULT_CONFIDENCE = (0.95, 0.99)
DEFAULT_QUANTILES = (0.01, 0.05, 0.5, 0.95, 0.99)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _count(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


@dataclass(frozen=True)
class GbmModel:
    """A metal position and the price model over the horizon; raises ValueError naming any bad parameter.

    `spot` is the price per unit now, `quantity` the units held (negative: short), `drift` and `volatility` are
    annualised (0.2 is 20 %), the horizon is `horizon_days` trading days of which there are `days_per_year`,
    split into `steps` steps. `shocks="student_t"` needs `dof` > 2 (the variance exists only then).
    """

    spot: float
    quantity: float = 1.0
    drift: float = 0.0
    volatility: float = 0.2
    horizon_days: float = 10.0
    steps: int = 10
    shocks: Shocks = "normal"
    dof: float | None = None
    days_per_year: float = 252.0

    def __post_init__(self) -> None:
        if not _finite(self.spot) or self.spot <= 0:
            raise ValueError(f"spot must be a positive, finite price per unit, got {self.spot!r}")
        if not _finite(self.quantity) or self.quantity == 0:
            raise ValueError(
                f"quantity must be a finite, non-zero number of units (negative: short), got {self.quantity!r}"
            )
        if not _finite(self.drift):
            raise ValueError(f"drift must be a finite annualised rate (0.05 is 5 %), got {self.drift!r}")
        if not _finite(self.volatility) or self.volatility <= 0:
            raise ValueError(
                f"volatility must be a positive, finite annualised volatility (0.2 is 20 %), got {self.volatility!r}"
            )
        if not _finite(self.horizon_days) or self.horizon_days <= 0:
            raise ValueError(f"horizon_days must be a positive, finite number of days, got {self.horizon_days!r}")
        if not _finite(self.days_per_year) or self.days_per_year <= 0:
            raise ValueError(f"days_per_year must be a positive, finite number, got {self.days_per_year!r}")
        if not _count(self.steps) or not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be an integer from 1 to {MAX_STEPS}, got {self.steps!r}")
        if self.shocks == "student_t":
            if not _finite(self.dof) or self.dof <= 2:  # type: ignore[operator]
                raise ValueError(
                    f"dof must be a finite number above 2 for Student-t shocks (unit variance), got {self.dof!r}"
                )
        elif self.shocks == "normal":
            if self.dof is not None:
                raise ValueError("dof applies only to shocks='student_t'; leave it unset for normal shocks")
        else:
            raise ValueError(f"shocks must be 'normal' or 'student_t', got {self.shocks!r}")

    @property
    def years(self) -> float:
        """The horizon in years."""
        return self.horizon_days / self.days_per_year

    @property
    def initial_value(self) -> float:
        """The position's value now."""
        return self.quantity * self.spot


@dataclass(frozen=True)
class RiskReport:
    """Risk figures in the position's currency; `var`, `es` are keyed by confidence, `quantiles` by level.

    `quantiles` are of the terminal position value. `stderr` is the standard error of `mean_terminal_value`
    (0 for the closed form). `seconds` is the simulation's wall time, statistics included.
    """

    initial_value: float
    mean_terminal_value: float
    stderr: float
    var: dict[float, float]
    es: dict[float, float]
    quantiles: dict[float, float]
    paths: int
    steps: int
    seconds: float
    backend: str  # "taichi", "numpy" or "closed_form"

    def as_dict(self) -> dict[str, object]:
        """Return the report as JSON-ready data (levels become strings such as "0.99")."""
        return {
            "initial_value": self.initial_value,
            "mean_terminal_value": self.mean_terminal_value,
            "stderr": self.stderr,
            "var": {f"{level:g}": value for level, value in self.var.items()},
            "es": {f"{level:g}": value for level, value in self.es.items()},
            "quantiles": {f"{level:g}": value for level, value in self.quantiles.items()},
            "paths": self.paths,
            "steps": self.steps,
            "seconds": self.seconds,
            "backend": self.backend,
        }


def _levels(values: Sequence[float], name: str, *, closed: bool) -> tuple[float, ...]:
    levels = tuple(values)
    low_ok = (lambda v: v >= 0) if closed else (lambda v: v > 0)
    high_ok = (lambda v: v <= 1) if closed else (lambda v: v < 1)
    bounds = "within [0, 1]" if closed else "strictly between 0 and 1"
    for level in levels:
        if not _finite(level) or not (low_ok(level) and high_ok(level)):
            raise ValueError(f"{name} levels must lie {bounds} (e.g. 0.95, 0.99), got {level!r}")
    return levels


def _check_run(paths: object, seed: object, backend: object, max_paths: object) -> None:
    if not _count(max_paths) or max_paths < 2:  # type: ignore[operator]
        raise ValueError(f"max_paths must be an integer of at least 2, got {max_paths!r}")
    if not _count(paths) or not 2 <= paths <= max_paths:  # type: ignore[operator]
        raise ValueError(f"paths must be an integer from 2 to {max_paths} (max_paths), got {paths!r}")
    if not _count(seed) or seed < 0:  # type: ignore[operator]
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if backend not in ("taichi", "numpy"):
        raise ValueError(f"backend must be 'taichi' or 'numpy', got {backend!r}")


def _kernels() -> ModuleType:
    """Import the kernels on first use, so that importing compute.montecarlo does not import Taichi."""
    import compute.montecarlo.kernels as kernels

    return kernels


class _Workspace:
    """The kernel's arrays, allocated once per runtime on its owner thread: the ziggurat tables and one chunk's
    output buffer. Touched only inside single owner-thread jobs, so concurrent runs never see each other's data."""

    def __init__(self) -> None:
        ti = runtime.import_taichi()
        edges, ratios = _kernels().ziggurat()
        self.zx = ti.ndarray(ti.f64, len(edges))
        self.zr = ti.ndarray(ti.f64, len(ratios))
        self.zx.from_numpy(edges)
        self.zr.from_numpy(ratios)
        self.out = ti.ndarray(ti.f64, CHUNK_PATHS)


def _taichi_prices(model: GbmModel, paths: int, seed: int, drift_dt: float, vol_dt: float, dof: float) -> np.ndarray:
    ws = runtime.resource(("montecarlo", CHUNK_PATHS), _Workspace)
    key = int(np.random.SeedSequence(seed).generate_state(1, dtype=np.uint64)[0])
    prices = np.empty(paths, dtype=np.float64)

    def chunk(first: int, count: int) -> None:
        _kernels().terminal_prices(
            ws.out, count, first, key, model.steps, model.spot, drift_dt, vol_dt, dof, ws.zx, ws.zr
        )
        prices[first : first + count] = ws.out.to_numpy()[:count]

    for first in range(0, paths, CHUNK_PATHS):  # one job per chunk, so other callers' jobs interleave
        runtime.call(chunk, first, min(CHUNK_PATHS, paths - first))
    return prices


def terminal_prices(
    model: GbmModel, *, paths: int, seed: int = 0, backend: Backend = "taichi", max_paths: int = MAX_PATHS
) -> np.ndarray:
    """Return the simulated terminal price per unit of each of `paths` paths (f64).

    A seed reproduces the prices exactly on a given backend, for any Taichi thread count; on Taichi path p's
    price does not depend on `paths` either (each path has its own random stream). Blocks the calling
    thread; Taichi work runs on the runtime thread, one chunk of paths per job so other callers interleave.
    """
    _check_run(paths, seed, backend, max_paths)
    dt = model.years / model.steps
    drift_dt = (model.drift - 0.5 * model.volatility**2) * dt
    vol_dt = model.volatility * math.sqrt(dt)
    dof = float(model.dof) if model.shocks == "student_t" else 0.0  # type: ignore[arg-type]
    if backend == "numpy":
        return reference.terminal_prices(
            paths, steps=model.steps, spot=model.spot, drift_dt=drift_dt, vol_dt=vol_dt, dof=dof, seed=seed
        )
    return _taichi_prices(model, paths, seed, drift_dt, vol_dt, dof)


def _order_index(level: float, n: int) -> int:
    """Return the 0-based index of the level-quantile in n sorted values: the smallest x with F(x) >= level."""
    return min(n - 1, max(0, math.ceil(round(level * n, 9)) - 1))


def summarize(
    model: GbmModel,
    prices: np.ndarray,
    *,
    confidence: Sequence[float] = DEFAULT_CONFIDENCE,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    seconds: float = 0.0,
    backend: str = "numpy",
) -> RiskReport:
    """Return VaR, ES, the mean and quantiles of terminal value for simulated terminal `prices` of `model`."""
    confidence = _levels(confidence, "confidence", closed=False)
    quantiles = _levels(quantiles, "quantile", closed=True)
    n = len(prices)
    if n < 2:
        raise ValueError(f"need at least 2 simulated prices, got {n}")
    values = model.quantity * np.asarray(prices, dtype=np.float64)
    losses = model.initial_value - values
    var_at = {a: _order_index(a, n) for a in confidence}
    ranked = np.partition(losses, sorted(set(var_at.values())))
    by_value = {q: _order_index(q, n) for q in quantiles}
    ranked_values = np.partition(values, sorted(set(by_value.values()))) if quantiles else values
    return RiskReport(
        initial_value=model.initial_value,
        mean_terminal_value=float(values.mean()),
        stderr=float(values.std(ddof=1) / math.sqrt(n)),
        var={a: float(ranked[k]) for a, k in var_at.items()},
        es={a: float(ranked[k:].mean()) for a, k in var_at.items()},
        quantiles={q: float(ranked_values[k]) for q, k in by_value.items()},
        paths=n,
        steps=model.steps,
        seconds=seconds,
        backend=backend,
    )


def simulate(
    model: GbmModel,
    *,
    paths: int,
    seed: int = 0,
    confidence: Sequence[float] = DEFAULT_CONFIDENCE,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    backend: Backend = "taichi",
    max_paths: int = MAX_PATHS,
) -> RiskReport:
    """Simulate `paths` price paths of `model` and return the position's risk figures.

    Raises ValueError naming the parameter for a bad path count (2 .. max_paths), seed, backend or level.
    Reproducible for a given seed and backend. Blocks the calling thread.
    """
    confidence = _levels(confidence, "confidence", closed=False)
    quantiles = _levels(quantiles, "quantile", closed=True)
    started = time.perf_counter()
    prices = terminal_prices(model, paths=paths, seed=seed, backend=backend, max_paths=max_paths)
    report = summarize(model, prices, confidence=confidence, quantiles=quantiles, backend=backend)
    return dataclasses.replace(report, seconds=time.perf_counter() - started)


def closed_form(
    model: GbmModel,
    *,
    confidence: Sequence[float] = DEFAULT_CONFIDENCE,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
) -> RiskReport:
    """Return the exact risk figures of `model` under normal shocks (S(T) is lognormal).

    With m = (mu - sigma^2 / 2) T and s = sigma sqrt(T), log S(T) / S(0) ~ N(m, s^2): E[S(T)] = S(0) exp(mu T),
    the q-quantile of S(T) is S(0) exp(m + s z_q), and E[S(T); S(T) <= S(0) exp(m + s z_q)] = E[S(T)] Phi(z_q - s).
    Raises ValueError for Student-t shocks, which have no closed form here.
    """
    if model.shocks != "normal":
        raise ValueError("closed_form needs shocks='normal'; Student-t shocks have no closed form here")
    confidence = _levels(confidence, "confidence", closed=False)
    quantiles = _levels(quantiles, "quantile", closed=True)
    normal = NormalDist()
    m = (model.drift - 0.5 * model.volatility**2) * model.years
    s = model.volatility * math.sqrt(model.years)
    mean_price = model.spot * math.exp(model.drift * model.years)
    q = model.quantity

    def price_at(level: float) -> float:
        if level <= 0.0 or level >= 1.0:
            return 0.0 if level <= 0.0 else math.inf
        return model.spot * math.exp(m + s * normal.inv_cdf(level))

    var: dict[float, float] = {}
    es: dict[float, float] = {}
    for a in confidence:
        tail = 1.0 - a
        if q > 0:  # losses come from low prices: the (1 - a)-quantile and the mean below it
            var[a] = q * (model.spot - price_at(tail))
            es[a] = q * (model.spot - mean_price * normal.cdf(normal.inv_cdf(tail) - s) / tail)
        else:  # a short position loses from high prices: the a-quantile and the mean above it
            var[a] = -q * (price_at(a) - model.spot)
            es[a] = -q * (mean_price * normal.cdf(s - normal.inv_cdf(a)) / tail - model.spot)
    return RiskReport(
        initial_value=model.initial_value,
        mean_terminal_value=q * mean_price,
        stderr=0.0,
        var=var,
        es=es,
        quantiles={level: q * price_at(level if q > 0 else 1.0 - level) for level in quantiles},
        paths=0,
        steps=model.steps,
        seconds=0.0,
        backend="closed_form",
    )
