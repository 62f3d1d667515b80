"""Taichi kernels of predator-prey flocking: the uniform grid, the steering rules and the move.

Run them only on the runtime's owner thread (`compute.runtime.call`). Agents 0 .. prey - 1 are prey, the rest
predators; positions and velocities are f64 on a torus of width x height. The grid has gx x gy cells no smaller
than the neighbour radius, so every neighbour of an agent lies in its own or one of the 8 surrounding cells.

Results do not depend on scheduling: the grid is filled by a serial counting sort (agents in ascending index
within each cell), each agent sums its neighbours alone in that fixed order, writes only its own new velocity
(predators mark a caught prey with an idempotent 1), and each agent draws from its own splitmix64 stream.

No `from __future__ import annotations` here: Taichi reads kernel annotations as live objects and rejects
the strings that postponed evaluation would give it.
"""

import math

from compute.runtime import import_taichi
from compute.splitmix import TO_UNIT_F64
from compute.splitmix import uniform_f64 as _uniform

ti = import_taichi()

_TWO_PI = 2.0 * math.pi
_BELOW_ONE = 1.0 - TO_UNIT_F64  # the largest double below 1

# Taichi types a bare Python float in a kernel as the default float, f32, before promoting it (2 pi would lose 9
# digits, 1 - 2**-53 become 1): every such constant used with f64 is wrapped in ti.f64().

_F64_1 = ti.types.ndarray(dtype=ti.f64, ndim=1)
_I32_1 = ti.types.ndarray(dtype=ti.i32, ndim=1)
_I64_1 = ti.types.ndarray(dtype=ti.i64, ndim=1)
_U64_1 = ti.types.ndarray(dtype=ti.u64, ndim=1)


@ti.func
def _around(i: ti.i32, size: ti.i32) -> ti.i32:
    """Return cell index i, at most one cell outside [0, size), moved into it on the torus."""
    result = i
    if result < 0:
        result += size
    elif result >= size:
        result -= size
    return result


@ti.func
def _delta(d: ti.f64, size: ti.f64) -> ti.f64:
    """Return the shortest signed offset on a torus of `size` for a raw offset d in (-size, size)."""
    result = d
    if result > 0.5 * size:
        result -= size
    elif result < -0.5 * size:
        result += size
    return result


@ti.func
def _cell_of(x: ti.f64, y: ti.f64, gx: ti.i32, gy: ti.i32, cell_w: ti.f64, cell_h: ti.f64) -> ti.i32:
    cx = ti.min(ti.cast(x / cell_w, ti.i32), gx - 1)
    cy = ti.min(ti.cast(y / cell_h, ti.i32), gy - 1)
    return cy * gx + cx


@ti.kernel
def build_grid(
    x: _F64_1,
    y: _F64_1,
    cell: _I32_1,
    fill: _I32_1,
    start: _I32_1,
    order: _I32_1,
    gx: ti.i32,
    gy: ti.i32,
    cell_w: ti.f64,
    cell_h: ti.f64,
):
    """Sort the agents into the grid: agents of cell c are order[start[c] .. start[c + 1] - 1], ascending.

    Counting is parallel (integer atomics); the prefix sum and the scatter are serial, which keeps each cell's
    agents in index order (a parallel scatter would order them by thread timing) and costs well under a
    millisecond per 10^5 agents on a CPU.
    """
    cells = gx * gy
    for c in range(cells):
        fill[c] = 0
    for i in range(x.shape[0]):
        c = _cell_of(x[i], y[i], gx, gy, cell_w, cell_h)
        cell[i] = c
        ti.atomic_add(fill[c], 1)
    ti.loop_config(serialize=True)
    for c in range(cells):
        if c == 0:
            start[0] = 0
        start[c + 1] = start[c] + fill[c]
        fill[c] = 0
    ti.loop_config(serialize=True)
    for i in range(x.shape[0]):
        c = cell[i]
        order[start[c] + fill[c]] = i
        fill[c] += 1


@ti.kernel
def neighbours(
    x: _F64_1,
    y: _F64_1,
    cell: _I32_1,
    start: _I32_1,
    order: _I32_1,
    gx: ti.i32,
    gy: ti.i32,
    width: ti.f64,
    height: ti.f64,
    radius: ti.f64,
    count: _I32_1,
    index_sum: _I64_1,
    index_square_sum: _I64_1,
    checks: _I64_1,
):
    """For each agent, store how many others lie within `radius` (strictly), the sum of their indices and of
    the indices' squares, and how many candidates the grid made it check: the steering kernel's search, bare."""
    r2 = radius * radius
    for i in range(x.shape[0]):
        c = cell[i]
        cx = c % gx
        cy = c // gx
        found = 0
        total = ti.i64(0)
        squares = ti.i64(0)
        checked = ti.i64(0)
        for block in range(9):  # the 3 x 3 cells around: a loop, as unrolled copies tripled the compile time
            other = _around(cy + block // 3 - 1, gy) * gx + _around(cx + block % 3 - 1, gx)
            for k in range(start[other], start[other + 1]):
                j = order[k]
                if j != i:
                    checked += 1
                    dx = _delta(x[j] - x[i], width)
                    dy = _delta(y[j] - y[i], height)
                    if dx * dx + dy * dy < r2:
                        found += 1
                        total += j
                        squares += ti.cast(j, ti.i64) * j
        count[i] = found
        index_sum[i] = total
        index_square_sum[i] = squares
        checks[i] = checked


@ti.func
def _limit(ax: ti.f64, ay: ti.f64, most: ti.f64):
    """Return (ax, ay) scaled down to length `most` if longer."""
    norm = ti.sqrt(ax * ax + ay * ay)
    scale = ti.f64(1.0)
    if norm > most:
        scale = most / norm
    return ax * scale, ay * scale


@ti.func
def _clamp_speed(vx: ti.f64, vy: ti.f64, low: ti.f64, high: ti.f64):
    """Return (vx, vy) rescaled so its speed lies in [low, high]; a standstill heads along +x at `low`."""
    speed = ti.sqrt(vx * vx + vy * vy)
    rx = vx
    ry = vy
    if speed > high:
        rx = vx * (high / speed)
        ry = vy * (high / speed)
    elif speed < low:
        if speed > 0.0:
            rx = vx * (low / speed)
            ry = vy * (low / speed)
        else:
            rx = low
            ry = 0.0
    return rx, ry


@ti.kernel
def steer(
    x: _F64_1,
    y: _F64_1,
    vx: _F64_1,
    vy: _F64_1,
    new_vx: _F64_1,
    new_vy: _F64_1,
    caught: _I32_1,
    cell: _I32_1,
    start: _I32_1,
    order: _I32_1,
    prey: ti.i32,
    gx: ti.i32,
    gy: ti.i32,
    width: ti.f64,
    height: ti.f64,
    radius: ti.f64,
    separation_radius: ti.f64,
    catch_radius: ti.f64,
    separation: ti.f64,
    alignment: ti.f64,
    cohesion: ti.f64,
    flee: ti.f64,
    pursuit: ti.f64,
    prey_force: ti.f64,
    prey_min_speed: ti.f64,
    prey_max_speed: ti.f64,
    predator_force: ti.f64,
    predator_min_speed: ti.f64,
    predator_max_speed: ti.f64,
):
    """Write every agent's next velocity from the neighbours within `radius`; mark caught prey.

    Prey: separation (sum of -d / |d|^2 over prey closer than separation_radius), alignment (mean neighbour
    velocity minus own), cohesion (mean offset to neighbours, over radius), flight (sum of -d / |d|^2 * radius
    over predators in range), weighted, the sum capped at prey_force. Predators: steer towards the nearest prey
    in range at full speed (pursuit-weighted, capped at predator_force), ties to the lower index; a prey closer
    than catch_radius is caught. Speeds are then clamped to each kind's [min, max].
    """
    r2 = radius * radius
    s2 = separation_radius * separation_radius
    for i in range(x.shape[0]):
        c = cell[i]
        cx = c % gx
        cy = c // gx
        px = x[i]
        py = y[i]
        ax = ti.f64(0.0)
        ay = ti.f64(0.0)
        if i < prey:
            mates = 0
            sum_vx = ti.f64(0.0)
            sum_vy = ti.f64(0.0)
            sum_dx = ti.f64(0.0)
            sum_dy = ti.f64(0.0)
            sep_x = ti.f64(0.0)
            sep_y = ti.f64(0.0)
            flee_x = ti.f64(0.0)
            flee_y = ti.f64(0.0)
            for block in range(9):  # the 3 x 3 cells around: a loop, as unrolled copies tripled the compile time
                other = _around(cy + block // 3 - 1, gy) * gx + _around(cx + block % 3 - 1, gx)
                for k in range(start[other], start[other + 1]):
                    j = order[k]
                    if j != i:
                        dx = _delta(x[j] - px, width)
                        dy = _delta(y[j] - py, height)
                        d2 = dx * dx + dy * dy
                        if d2 < r2:
                            inverse = 1.0 / ti.max(d2, ti.f64(1e-12))
                            if j < prey:
                                mates += 1
                                sum_vx += vx[j]
                                sum_vy += vy[j]
                                sum_dx += dx
                                sum_dy += dy
                                if d2 < s2:
                                    sep_x -= dx * inverse
                                    sep_y -= dy * inverse
                            else:
                                flee_x -= dx * inverse * radius
                                flee_y -= dy * inverse * radius
            ax = separation * sep_x + flee * flee_x
            ay = separation * sep_y + flee * flee_y
            if mates > 0:
                ax += alignment * (sum_vx / mates - vx[i]) + cohesion * (sum_dx / mates) / radius
                ay += alignment * (sum_vy / mates - vy[i]) + cohesion * (sum_dy / mates) / radius
            ax, ay = _limit(ax, ay, prey_force)
            nx, ny = _clamp_speed(vx[i] + ax, vy[i] + ay, prey_min_speed, prey_max_speed)
            new_vx[i] = nx
            new_vy[i] = ny
        else:
            nearest = -1
            best = r2
            best_dx = ti.f64(0.0)
            best_dy = ti.f64(0.0)
            for block in range(9):  # the 3 x 3 cells around: a loop, as unrolled copies tripled the compile time
                other = _around(cy + block // 3 - 1, gy) * gx + _around(cx + block % 3 - 1, gx)
                for k in range(start[other], start[other + 1]):
                    j = order[k]
                    if j < prey:
                        dx = _delta(x[j] - px, width)
                        dy = _delta(y[j] - py, height)
                        d2 = dx * dx + dy * dy
                        if d2 < best or (d2 == best and nearest >= 0 and j < nearest):
                            best = d2
                            nearest = j
                            best_dx = dx
                            best_dy = dy
            if nearest >= 0:
                distance = ti.sqrt(best)
                if distance > 0.0:
                    ax = pursuit * (best_dx / distance * predator_max_speed - vx[i])
                    ay = pursuit * (best_dy / distance * predator_max_speed - vy[i])
                if distance < catch_radius:
                    caught[nearest] = 1
            ax, ay = _limit(ax, ay, predator_force)
            nx, ny = _clamp_speed(vx[i] + ax, vy[i] + ay, predator_min_speed, predator_max_speed)
            new_vx[i] = nx
            new_vy[i] = ny


@ti.kernel
def advance(
    x: _F64_1,
    y: _F64_1,
    vx: _F64_1,
    vy: _F64_1,
    new_vx: _F64_1,
    new_vy: _F64_1,
    caught: _I32_1,
    rng: _U64_1,
    width: ti.f64,
    height: ti.f64,
    respawn_speed: ti.f64,
) -> ti.i32:
    """Take the new velocities and move every agent one step on the torus; return the prey caught.

    A caught prey respawns instead: a uniform position and heading from its own stream, at respawn_speed.
    """
    catches = 0
    for i in range(x.shape[0]):
        if caught[i] != 0:
            caught[i] = 0
            catches += 1
            x[i] = ti.min(_uniform(rng, i) * width, width * ti.f64(_BELOW_ONE))  # u * width may round up to width
            y[i] = ti.min(_uniform(rng, i) * height, height * ti.f64(_BELOW_ONE))
            angle = _uniform(rng, i) * ti.f64(_TWO_PI)
            vx[i] = respawn_speed * ti.cos(angle)
            vy[i] = respawn_speed * ti.sin(angle)
        else:
            vx[i] = new_vx[i]
            vy[i] = new_vy[i]
            nx = x[i] + vx[i]
            ny = y[i] + vy[i]
            if nx < 0.0:
                nx += width
            elif nx >= width:
                nx -= width
            if ny < 0.0:
                ny += height
            elif ny >= height:
                ny -= height
            if nx >= width or nx < 0.0:  # -tiny + width rounds to width
                nx = 0.0
            if ny >= height or ny < 0.0:
                ny = 0.0
            x[i] = nx
            y[i] = ny
    return catches
