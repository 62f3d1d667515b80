"""splitmix64 random streams for the Taichi kernels: one u64 state per agent (ant, boid, path), advanced in place.

Each agent draws only from its own stream, so results do not depend on how Taichi schedules threads. The
functions are ``ti.func`` and inline into the kernels that call them. Run kernels that use them only on the
runtime's owner thread (`compute.runtime.call`).

No `from __future__ import annotations` here: Taichi reads function annotations as live objects and rejects
the strings that postponed evaluation would give it.
"""

from compute.runtime import import_taichi

ti = import_taichi()

GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
TO_UNIT_F64 = 1.0 / 9007199254740992.0  # 2**-53: the top 53 bits of a u64 become a double in [0, 1)
TO_UNIT_F32 = 1.0 / 16777216.0  # 2**-24: the top 24 bits of a u64 become a float in [0, 1)


@ti.func
def next_u64(rng: ti.template(), k: ti.i32) -> ti.u64:
    """Advance stream k of ``rng`` and return its next 64-bit output."""
    x = rng[k] + ti.u64(GOLDEN)
    rng[k] = x
    x = (x ^ (x >> ti.u64(30))) * ti.u64(MIX1)
    x = (x ^ (x >> ti.u64(27))) * ti.u64(MIX2)
    return x ^ (x >> ti.u64(31))


@ti.func
def uniform_f64(rng: ti.template(), k: ti.i32) -> ti.f64:
    """Advance stream k and return a double in [0, 1)."""
    return ti.cast(next_u64(rng, k) >> ti.u64(11), ti.f64) * TO_UNIT_F64


@ti.func
def uniform_f32(rng: ti.template(), k: ti.i32) -> ti.f32:
    """Advance stream k and return a float in [0, 1)."""
    return ti.cast(next_u64(rng, k) >> ti.u64(40), ti.f32) * ti.f32(TO_UNIT_F32)
