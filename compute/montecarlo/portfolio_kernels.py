"""Taichi kernel of the multi-asset Monte Carlo model: correlated GBM terminal price ratios of many assets.

Run it only on the runtime's owner thread (`compute.runtime.call`). It reuses the single-asset kernel's random
streams (xoroshiro128++ per path, seeded from the run's key and the path alone), its ziggurat normal and its
gamma draw. Each step draws one standard normal per asset, correlates them with the lower Cholesky factor of the
correlation matrix and, for Student-t shocks, scales the whole vector by one chi-square draw (a multivariate t,
unit variance), so the assets keep their correlation in the tails.

No `from __future__ import annotations` here: Taichi reads kernel annotations as live objects.
"""

from compute.montecarlo.kernels import _gamma, _mix, _normal
from compute.runtime import import_taichi
from compute.splitmix import GOLDEN as _GOLDEN

ti = import_taichi()

_F64_1 = ti.types.ndarray(dtype=ti.f64, ndim=1)
_F64_2 = ti.types.ndarray(dtype=ti.f64, ndim=2)


@ti.kernel
def terminal_ratios(
    out: _F64_2,
    scratch: _F64_2,
    count: ti.i32,
    first_path: ti.i64,
    key: ti.u64,
    steps: ti.i32,
    assets: ti.i32,
    chol: _F64_2,
    drift_dt: _F64_1,
    vol_dt: _F64_1,
    dof: ti.f64,
    zx: _F64_1,
    zr: _F64_1,
):
    """Write S_a(T) / S_a(0) of paths first_path .. first_path + count - 1 into out[0 .. count - 1, 0 .. assets - 1].

    Per step and asset a the log price gains drift_dt[a] + vol_dt[a] * e_a with e = L z (z independent standard
    normals, L = chol lower-triangular), times sqrt((dof - 2) / chi2) when dof > 0. scratch holds each path's z.
    """
    for i in range(count):
        p = ti.cast(first_path + i, ti.u64)
        s0 = _mix(key + (ti.u64(2) * p + ti.u64(1)) * ti.u64(_GOLDEN))
        s1 = _mix(key + (ti.u64(2) * p + ti.u64(2)) * ti.u64(_GOLDEN))
        for a in range(assets):
            out[i, a] = 0.0
        for _ in range(steps):
            for a in range(assets):
                scratch[i, a] = _normal(s0, s1, zx, zr)
            scale = ti.f64(1.0)
            if dof > 0.0:
                scale = ti.sqrt((dof - 2.0) / (2.0 * _gamma(0.5 * dof, s0, s1, zx, zr)))
            for a in range(assets):
                e = ti.f64(0.0)
                for b in range(a + 1):
                    e += chol[a, b] * scratch[i, b]
                out[i, a] += drift_dt[a] + vol_dt[a] * scale * e
        for a in range(assets):
            out[i, a] = ti.exp(out[i, a])
