"""Taichi kernel of the Monte Carlo risk model: terminal prices of geometric Brownian motion paths.

Run it only on the runtime's owner thread (`compute.runtime.call`). The kernel is parallel over paths and
serial over the steps of one path. Path p draws from its own xoroshiro128++ stream, seeded from the run's
key and p alone, so a path's price depends neither on scheduling nor on how the paths are split into chunks.

No `from __future__ import annotations` here: Taichi reads kernel annotations as live objects and rejects
the strings that postponed evaluation would give it.
"""

import math

import numpy as np

from compute.runtime import import_taichi
from compute.splitmix import GOLDEN as _GOLDEN
from compute.splitmix import MIX1 as _MIX1
from compute.splitmix import MIX2 as _MIX2
from compute.splitmix import TO_UNIT_F64 as _TO_UNIT

ti = import_taichi()


# Taichi types a bare Python float in a kernel as the default float, f32, before promoting it, so 1 / 3 would
# lose 9 digits: every constant used with f64 that is not a small dyadic fraction is wrapped in ti.f64().
ZIGGURAT_LAYERS = 128
ZIGGURAT_R = 3.442619855899  # start of the base layer's tail, and each layer's area (Doornik 2005, ZIGNOR)
ZIGGURAT_V = 9.91256303526217e-3

_F64_1 = ti.types.ndarray(dtype=ti.f64, ndim=1)


def ziggurat() -> tuple[np.ndarray, np.ndarray]:
    """Return ZIGNOR's tables: layer edges x[0..128] (x[0] = V / f(R) for the base, x[1] = R, x[128] = 0) and
    the ratios r[i] = x[i + 1] / x[i] under which a draw in layer i is accepted at once."""
    x = np.zeros(ZIGGURAT_LAYERS + 1)
    f = math.exp(-0.5 * ZIGGURAT_R**2)
    x[0] = ZIGGURAT_V / f
    x[1] = ZIGGURAT_R
    for i in range(2, ZIGGURAT_LAYERS):
        x[i] = math.sqrt(-2.0 * math.log(ZIGGURAT_V / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] ** 2)
    return x, x[1:] / x[:-1]


@ti.func
def _mix(z: ti.u64) -> ti.u64:
    """splitmix64's output function: a bijection of u64 that scrambles every bit."""
    z = (z ^ (z >> ti.u64(30))) * ti.u64(_MIX1)
    z = (z ^ (z >> ti.u64(27))) * ti.u64(_MIX2)
    return z ^ (z >> ti.u64(31))


@ti.func
def _rotl(x: ti.u64, k: ti.template()) -> ti.u64:
    return (x << ti.u64(k)) | (x >> ti.u64(64 - k))


@ti.func
def _next(s0: ti.template(), s1: ti.template()) -> ti.u64:
    """Advance the xoroshiro128++ state (s0, s1), held in the caller's locals, and return 64 random bits."""
    result = _rotl(s0 + s1, 17) + s0
    t = s1 ^ s0
    s0 = _rotl(s0, 49) ^ t ^ (t << ti.u64(21))
    s1 = _rotl(t, 28)
    return result


@ti.func
def _uniform(s0: ti.template(), s1: ti.template()) -> ti.f64:
    """Return a double in [0, 1)."""
    return ti.cast(_next(s0, s1) >> ti.u64(11), ti.f64) * _TO_UNIT


@ti.func
def _tail(s0: ti.template(), s1: ti.template(), negative: ti.i32) -> ti.f64:
    """Return a normal draw from beyond the ziggurat's base, |z| > R (Marsaglia 1964)."""
    x = ti.f64(0.0)
    while True:
        x = -ti.log(1.0 - _uniform(s0, s1)) / ti.f64(ZIGGURAT_R)
        y = -ti.log(1.0 - _uniform(s0, s1))
        if 2.0 * y >= x * x:
            break
    result = ti.f64(ZIGGURAT_R) + x
    if negative != 0:
        result = -result
    return result


@ti.func
def _normal(s0: ti.template(), s1: ti.template(), zx: ti.template(), zr: ti.template()) -> ti.f64:
    """Return a standard normal draw: Doornik's ZIGNOR ziggurat, 128 layers (tables zx, zr from `ziggurat`).

    About 99 % of draws cost one 64-bit random number, a table look-up and a multiply.
    """
    z = ti.f64(0.0)
    while True:
        bits = _next(s0, s1)
        layer = ti.cast(bits & ti.u64(ZIGGURAT_LAYERS - 1), ti.i32)
        u = 2.0 * ti.cast(bits >> ti.u64(11), ti.f64) * _TO_UNIT - 1.0  # bits 11..63: disjoint from the layer's
        if ti.abs(u) < zr[layer]:
            z = u * zx[layer]
            break
        if layer == 0:
            z = _tail(s0, s1, ti.cast(u < 0.0, ti.i32))
            break
        x = u * zx[layer]
        f0 = ti.exp(-0.5 * (zx[layer] * zx[layer] - x * x))
        f1 = ti.exp(-0.5 * (zx[layer + 1] * zx[layer + 1] - x * x))
        if f1 + _uniform(s0, s1) * (f0 - f1) < 1.0:
            z = x
            break
    return z


@ti.func
def _gamma(shape: ti.f64, s0: ti.template(), s1: ti.template(), zx: ti.template(), zr: ti.template()) -> ti.f64:
    """Return a Gamma(shape, 1) draw for shape >= 1 (Marsaglia & Tsang 2000, squeeze then log test)."""
    d = shape - ti.f64(1.0 / 3.0)
    c = 1.0 / ti.sqrt(9.0 * d)
    result = ti.f64(0.0)
    while True:
        x = _normal(s0, s1, zx, zr)
        v = 1.0 + c * x
        if v > 0.0:
            v = v * v * v
            u = _uniform(s0, s1)
            x2 = x * x
            if u < 1.0 - ti.f64(0.0331) * x2 * x2 or ti.log(u) < 0.5 * x2 + d * (1.0 - v + ti.log(v)):
                result = d * v
                break
    return result


@ti.kernel
def terminal_prices(
    out: _F64_1,
    count: ti.i32,
    first_path: ti.i64,
    key: ti.u64,
    steps: ti.i32,
    spot: ti.f64,
    drift_dt: ti.f64,
    vol_dt: ti.f64,
    dof: ti.f64,
    zx: _F64_1,
    zr: _F64_1,
):
    """Write the terminal prices of paths first_path .. first_path + count - 1 into out[0 .. count - 1].

    Each step adds drift_dt + vol_dt * e to the log price, with e standard normal when dof <= 0, else Student-t
    with `dof` (> 2) degrees of freedom scaled to unit variance: e = z * sqrt((dof - 2) / chi2), chi2 drawn as
    2 * Gamma(dof / 2). The log price accumulates in f64.
    """
    for i in range(count):
        p = ti.cast(first_path + i, ti.u64)
        # Two consecutive splitmix64 outputs of the key's sequence seed path p: distinct for every path.
        s0 = _mix(key + (ti.u64(2) * p + ti.u64(1)) * ti.u64(_GOLDEN))
        s1 = _mix(key + (ti.u64(2) * p + ti.u64(2)) * ti.u64(_GOLDEN))
        log_price = ti.f64(0.0)
        for _ in range(steps):
            e = _normal(s0, s1, zx, zr)
            if dof > 0.0:
                e *= ti.sqrt((dof - 2.0) / (2.0 * _gamma(0.5 * dof, s0, s1, zx, zr)))
            log_price += drift_dt + vol_dt * e
        out[i] = spot * ti.exp(log_price)
