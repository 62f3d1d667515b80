"""Taichi kernels of the physarum model: the agents' sense-rotate-move step and the trail's deposit-diffuse-decay.

Run them only on the runtime's owner thread (`compute.runtime.call`). Results do not depend on scheduling:
each agent draws from its own splitmix64 stream (`rng[k]`), deposits are counted per cell with integer atomics
and added to the trail by the diffusion kernel, which gathers each cell's 3x3 mean from a copy of the trail.

The trail is (height, width), f64 so that its mass balance holds to rounding; agents are f32 (x, y in cells,
heading in radians). A cell is blocked while blocked[i, j] > step: it reads as `-repel` to sensors, agents may
leave it but not enter it, nothing is deposited there, and diffusion treats it as a wall. The trail holds -1 in
the cells blocked for the coming step (it is otherwise never negative), so the agents' kernel, which is bound
by random memory reads, learns it from the one read of the trail it makes anyway.

Grid loops run in parallel over rows and serially along each row, with the neighbouring rows and columns
computed once: over a flat (i, j) range with run-time shapes Taichi divides to split every index, which made the
diffusion three times slower (measured, 512 x 512, Taichi 1.7.4 on x64).

No `from __future__ import annotations` here: Taichi reads kernel annotations as live objects and rejects
the strings that postponed evaluation would give it.
"""

import math

from compute.runtime import import_taichi
from compute.splitmix import uniform_f32 as _uniform

ti = import_taichi()

_TWO_PI = 2.0 * math.pi

_F32_1 = ti.types.ndarray(dtype=ti.f32, ndim=1)
_U64_1 = ti.types.ndarray(dtype=ti.u64, ndim=1)
_I32_2 = ti.types.ndarray(dtype=ti.i32, ndim=2)
_F64_2 = ti.types.ndarray(dtype=ti.f64, ndim=2)


@ti.func
def _wrap(x: ti.f32, size: ti.f32) -> ti.f32:
    """Return x moved into [0, size) on the torus (x is less than one width outside)."""
    result = x
    if result < 0.0:
        result += size
    if result >= size:
        result -= size
    if result >= size or result < 0.0:  # -tiny + size rounds to size in f32
        result = 0.0
    return result


@ti.func
def _around(i: ti.i32, size: ti.i32) -> ti.i32:
    """Return index i, at most one turn outside [0, size), moved into it (no integer division: it is hot)."""
    result = i
    if result < 0:
        result += size
    elif result >= size:
        result -= size
    return result


@ti.func
def _sense(trail: ti.template(), x: ti.f32, y: ti.f32, wrap: ti.i32, repel: ti.f64) -> ti.f64:
    """Return the trail under the point (x, y); -repel for a blocked cell or, on a bounded grid, off the grid."""
    height, width = trail.shape
    # floor() is a library call on x64; shifted by one grid a sensor is positive, where a cast is a floor.
    i = ti.cast(y + ti.cast(height, ti.f32), ti.i32) - height
    j = ti.cast(x + ti.cast(width, ti.f32), ti.i32) - width
    value = -repel
    if wrap != 0:  # the sensor offset is at most half the grid, so one turn around the torus suffices
        i = _around(i, height)
        j = _around(j, width)
    if 0 <= i < height and 0 <= j < width:
        value = trail[i, j]
        if value < 0.0:
            value = -repel
    return value


@ti.kernel
def move(
    x: _F32_1,
    y: _F32_1,
    heading: _F32_1,
    rng: _U64_1,
    trail: _F64_2,
    count: _I32_2,
    sensor_cos: ti.f32,
    sensor_sin: ti.f32,
    rotation_angle: ti.f32,
    rotation_cos: ti.f32,
    rotation_sin: ti.f32,
    sensor_offset: ti.f32,
    step_size: ti.f32,
    wrap: ti.i32,
    repel: ti.f64,
):
    """Sense, rotate, move every agent; count each successful move's deposit in `count`.

    Jones (2010): sensors sit `sensor_offset` ahead at -sensor_angle, 0, +sensor_angle. Keep the heading if the
    front reads most, turn randomly by +-rotation_angle if it reads least, else turn towards the stronger side.
    A move that would leave a bounded grid or enter a blocked cell is not made; the agent takes a random new
    heading instead and deposits nothing. The side sensors and the turned heading come from the heading's one
    cosine and sine by rotation (the angles' cosines and sines are arguments), as sin and cos are costly. The
    moves are totalled by `diffuse`, per row: a total here would be one atomic add per agent on one shared
    number, which cost as much as the trigonometry (measured).
    """
    height, width = trail.shape
    w = ti.cast(width, ti.f32)
    h = ti.cast(height, ti.f32)
    for k in range(x.shape[0]):
        px = x[k]
        py = y[k]
        a = heading[k]
        c = ti.cos(a)
        s = ti.sin(a)
        front = _sense(trail, px + sensor_offset * c, py + sensor_offset * s, wrap, repel)
        lx = sensor_offset * (c * sensor_cos - s * sensor_sin)
        ly = sensor_offset * (s * sensor_cos + c * sensor_sin)
        rx = sensor_offset * (c * sensor_cos + s * sensor_sin)
        ry = sensor_offset * (s * sensor_cos - c * sensor_sin)
        left = _sense(trail, px + lx, py + ly, wrap, repel)
        right = _sense(trail, px + rx, py + ry, wrap, repel)
        turn = 0  # +1: left (counter-clockwise), -1: right
        if not (front > left and front > right):  # when the front reads most, keep the heading
            if front < left and front < right:
                turn = 1 if _uniform(rng, k) < 0.5 else -1
            elif left < right:
                turn = -1
            elif right < left:
                turn = 1
        if turn != 0:
            a += turn * rotation_angle
            if a < 0.0:
                a += ti.f32(_TWO_PI)
            elif a >= ti.f32(_TWO_PI):
                a -= ti.f32(_TWO_PI)
            turned_c = c * rotation_cos - turn * s * rotation_sin
            s = s * rotation_cos + turn * c * rotation_sin
            c = turned_c
        nx = px + step_size * c
        ny = py + step_size * s
        ok = 1
        if wrap != 0:
            nx = _wrap(nx, w)
            ny = _wrap(ny, h)
        elif nx < 0.0 or nx >= w or ny < 0.0 or ny >= h:
            ok = 0
        if ok != 0:
            i = ti.cast(ny, ti.i32)  # positions are never negative: the cast is a floor
            j = ti.cast(nx, ti.i32)
            if trail[i, j] < 0.0:
                ok = 0
                if trail[ti.cast(py, ti.i32), ti.cast(px, ti.i32)] < 0.0:
                    ok = -1  # an agent caught in a cut may walk out of it, but deposits nothing
            if ok == 1:
                ti.atomic_add(count[i, j], 1)
        if ok == 0:
            a = _uniform(rng, k) * ti.f32(_TWO_PI)
        else:
            px = nx
            py = ny
        x[k] = px
        y[k] = py
        heading[k] = a


@ti.func
def _gather(source: ti.template(), i: ti.i32, j: ti.i32, inside: ti.i32, centre: ti.f64) -> ti.f64:
    """Return source[i, j], or `centre` where (i, j) is off the grid (inside == 0) or a wall (negative)."""
    value = centre
    if inside != 0:
        value = source[i, j]
        if value < 0.0:
            value = centre
    return value


@ti.kernel
def diffuse(
    trail: _F64_2,
    source: _F64_2,
    count: _I32_2,
    food: _F64_2,
    blocked: _I32_2,
    cutting: ti.i32,
    step: ti.i32,
    deposit: ti.f64,
    weight: ti.f64,
    keep: ti.f64,
    wrap: ti.i32,
) -> ti.i64:
    """Add deposits and food to the trail, blend in the 3x3 mean by `weight`, scale by `keep`, in place; return
    the number of deposits (agents' moves) added.

    First every open cell's trail plus deposits goes to `source` (a blocked cell keeps the trail's -1, a wall
    marker) and `count` is zeroed for the next step; then each open cell gathers its 3x3 mean from `source`, a
    wall's (blocked or off-grid) share taken from the centre cell. That conserves mass exactly: every open
    cell's mass still goes out in nine equal shares. Cells blocked in the next step get -1, others blocked now
    0; `blocked` is read only while `cutting` (some cell is blocked in the next step).
    """
    height, width = trail.shape
    deposits = ti.i64(0)
    for i in range(height):
        row = 0
        for j in range(width):
            value = trail[i, j]
            if value >= 0.0:
                value += deposit * ti.cast(count[i, j], ti.f64) + food[i, j]
            source[i, j] = value
            row += count[i, j]
            count[i, j] = 0
        deposits += row
    for i in range(height):
        up = i - 1
        down = i + 1
        up_inside = 1
        down_inside = 1
        if wrap != 0:
            up = _around(up, height)
            down = _around(down, height)
        else:
            up_inside = ti.cast(up >= 0, ti.i32)
            down_inside = ti.cast(down < height, ti.i32)
        for j in range(width):
            left = j - 1
            right = j + 1
            left_inside = 1
            right_inside = 1
            if wrap != 0:
                left = _around(left, width)
                right = _around(right, width)
            else:
                left_inside = ti.cast(left >= 0, ti.i32)
                right_inside = ti.cast(right < width, ti.i32)
            centre = source[i, j]
            value = ti.f64(0.0)
            if centre >= 0.0:
                total = (
                    _gather(source, up, left, up_inside & left_inside, centre)
                    + _gather(source, up, j, up_inside, centre)
                    + _gather(source, up, right, up_inside & right_inside, centre)
                    + _gather(source, i, left, left_inside, centre)
                    + centre
                    + _gather(source, i, right, right_inside, centre)
                    + _gather(source, down, left, down_inside & left_inside, centre)
                    + _gather(source, down, j, down_inside, centre)
                    + _gather(source, down, right, down_inside & right_inside, centre)
                )
                value = keep * ((1.0 - weight) * centre + weight * (total / 9.0))
            if cutting != 0 and blocked[i, j] > step + 1:
                value = -1.0
            trail[i, j] = value
    return deposits
