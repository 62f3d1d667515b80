"""Taichi kernels of the MAX-MIN Ant System: tour construction, 2-opt local search, pheromone update.

Run them only on the runtime's owner thread (`compute.runtime.call`). Every kernel is parallel over ants
(or matrix cells) and serial within one ant, and each ant draws from its own random stream (`rng[k]`,
splitmix64), so results do not depend on how Taichi schedules threads.

No `from __future__ import annotations` here: Taichi reads kernel annotations as live objects and rejects
the strings that postponed evaluation would give it.
"""

from compute.runtime import import_taichi
from compute.splitmix import uniform_f64 as _uniform

ti = import_taichi()


# Kernels take ndarrays, not template fields: shapes are then run-time values and each kernel compiles once
# per process for every problem size. With fields each new size recompiled all three (1-2 s on 2 CPU cores,
# blocking the runtime thread); fields launch faster, though (about 0.7 against 1.1 ms per kroA100
# iteration, measured), which matters less than compile stalls for a service solving many sizes.
_I32_1 = ti.types.ndarray(dtype=ti.i32, ndim=1)
_I32_2 = ti.types.ndarray(dtype=ti.i32, ndim=2)
_I64_1 = ti.types.ndarray(dtype=ti.i64, ndim=1)
_U64_1 = ti.types.ndarray(dtype=ti.u64, ndim=1)
_F64_2 = ti.types.ndarray(dtype=ti.f64, ndim=2)


@ti.func
def _below(rng: ti.template(), k: ti.i32, n: ti.i32) -> ti.i32:
    """Return a random integer in [0, n) from ant k's stream."""
    return ti.min(ti.cast(_uniform(rng, k) * n, ti.i32), n - 1)


@ti.func
def _construct(
    k: ti.i32, total: ti.template(), nn: ti.template(), tour: ti.template(), visited: ti.template(), rng: ti.template()
):
    """Build ant k's tour with the random-proportional rule restricted to candidate lists.

    From city c the ant picks an unvisited candidate j with probability proportional to total[c, j]
    (= tau^alpha * eta^beta). When every candidate is visited it takes the unvisited city with the largest
    total[c, j], as in Stützle's ACOTSP.
    """
    n = tour.shape[1]
    width = nn.shape[1]
    for j in range(n):
        visited[k, j] = 0
    start = _below(rng, k, n)
    tour[k, 0] = start
    visited[k, start] = 1
    for step in range(1, n):
        c = tour[k, step - 1]
        mass = ti.f64(0.0)
        for h in range(width):
            j = nn[c, h]
            if visited[k, j] == 0:
                mass += total[c, j]
        chosen = -1
        if mass > 0.0:
            target = _uniform(rng, k) * mass
            acc = ti.f64(0.0)
            for h in range(width):
                j = nn[c, h]
                if visited[k, j] == 0:
                    chosen = j  # the last unvisited candidate also absorbs rounding at the end of the sum
                    acc += total[c, j]
                    if acc > target:
                        break
        else:
            best = ti.f64(-1.0)
            for j in range(n):
                if visited[k, j] == 0 and total[c, j] > best:
                    best = total[c, j]
                    chosen = j
        tour[k, step] = chosen
        visited[k, chosen] = 1


@ti.func
def _two_opt(
    k: ti.i32,
    dist: ti.template(),
    nn: ti.template(),
    tour: ti.template(),
    pos: ti.template(),
    dlb: ti.template(),
    rng: ti.template(),
):
    """Improve ant k's tour to a 2-opt local optimum over its candidate lists.

    First improvement with neighbour lists and don't-look bits (ACOTSP's two_opt_first): for city c1 only
    neighbours closer than c1's tour neighbour can start an improving move, so each scan stops early.
    Integer distances make the gain test exact, so a move is taken only if it shortens the tour. Don't-look
    bits can skip a city whose options changed, so the search ends only after a scan with every bit
    cleared finds nothing: the result is a true local optimum.
    """
    n = tour.shape[1]
    width = nn.shape[1]
    for i in range(n):
        pos[k, tour[k, i]] = i
    offset = _below(rng, k, n)
    moved = 1
    while moved != 0:
        moved = 0
        for i in range(n):
            dlb[k, i] = 0
        improved = 1
        while improved != 0:
            improved = 0
            for step in range(n):
                c1 = (offset + step) % n
                if dlb[k, c1] == 0:
                    p1 = pos[k, c1]
                    succ1 = tour[k, (p1 + 1) % n]
                    pred1 = tour[k, (p1 + n - 1) % n]
                    h1 = -1
                    h2 = -1
                    h3 = -1
                    h4 = -1
                    radius = dist[c1, succ1]
                    for h in range(width):  # replace (c1, succ1), (c2, succ2) by (c1, c2), (succ1, succ2)
                        c2 = nn[c1, h]
                        d12 = dist[c1, c2]
                        if d12 >= radius:
                            break
                        succ2 = tour[k, (pos[k, c2] + 1) % n]
                        if d12 + dist[succ1, succ2] < radius + dist[c2, succ2]:
                            h1, h2, h3, h4 = c1, succ1, c2, succ2
                            break
                    if h1 < 0:
                        radius = dist[pred1, c1]
                        for h in range(width):  # replace (pred1, c1), (pred2, c2) by (c1, c2), (pred1, pred2)
                            c2 = nn[c1, h]
                            d12 = dist[c1, c2]
                            if d12 >= radius:
                                break
                            pred2 = tour[k, (pos[k, c2] + n - 1) % n]
                            if d12 + dist[pred1, pred2] < radius + dist[pred2, c2]:
                                h1, h2, h3, h4 = pred1, c1, pred2, c2
                                break
                    if h1 < 0:
                        dlb[k, c1] = 1
                    else:
                        improved = 1
                        moved = 1
                        dlb[k, h1] = 0
                        dlb[k, h2] = 0
                        dlb[k, h3] = 0
                        dlb[k, h4] = 0
                        # The tour reads h1 h2 .. h3 h4: reversing h2..h3, or equally h4..h1, swaps the two edges.
                        # Reverse the shorter side.
                        a = pos[k, h2]
                        b = pos[k, h3]
                        span = (b - a + n) % n + 1
                        if 2 * span > n:
                            a = pos[k, h4]
                            b = pos[k, h1]
                            span = n - span
                        for t in range(span // 2):
                            i = (a + t) % n
                            j = (b - t + n) % n
                            ci = tour[k, i]
                            cj = tour[k, j]
                            tour[k, i] = cj
                            pos[k, cj] = i
                            tour[k, j] = ci
                            pos[k, ci] = j


@ti.func
def _length(k: ti.i32, dist: ti.template(), tour: ti.template()) -> ti.i64:
    n = tour.shape[1]
    total = ti.i64(0)
    for i in range(n):
        total += dist[tour[k, i], tour[k, (i + 1) % n]]
    return total


@ti.kernel
def iterate(
    dist: _I32_2,
    total: _F64_2,
    nn: _I32_2,
    tour: _I32_2,
    visited: _I32_2,
    pos: _I32_2,
    dlb: _I32_2,
    rng: _U64_1,
    length: _I64_1,
    ib_tour: _I32_1,
) -> ti.i64:
    """Build and 2-opt one tour per ant; copy the iteration-best tour to ib_tour and return its length.

    Ties go to the lowest ant index, so the choice does not depend on scheduling.
    """
    m, n = tour.shape
    for k in range(m):
        _construct(k, total, nn, tour, visited, rng)
        _two_opt(k, dist, nn, tour, pos, dlb, rng)
        length[k] = _length(k, dist, tour)
    best_k = 0
    best = length[0]
    ti.loop_config(serialize=True)
    for k in range(1, m):
        if length[k] < best:
            best = length[k]
            best_k = k
    for i in range(n):
        ib_tour[i] = tour[best_k, i]
    return best


@ti.kernel
def improve(
    dist: _I32_2,
    nn: _I32_2,
    tour: _I32_2,
    pos: _I32_2,
    dlb: _I32_2,
    rng: _U64_1,
    length: _I64_1,
):
    """2-opt every row of `tour` in place and store its length in length[k]."""
    for k in range(tour.shape[0]):
        _two_opt(k, dist, nn, tour, pos, dlb, rng)
        length[k] = _length(k, dist, tour)


@ti.func
def _weight(value: ti.f64, alpha: ti.f64) -> ti.f64:
    # pow() costs more than the rest of the update together; alpha is 1 in the usual MMAS settings.
    result = value
    if alpha != 1.0:
        result = ti.pow(value, alpha)
    return result


@ti.kernel
def reset_pheromone(tau: _F64_2, total: _F64_2, heuristic: _F64_2, value: ti.f64, alpha: ti.f64):
    """Set every trail to `value` and refresh total = tau^alpha * heuristic."""
    for i, j in ti.ndrange(tau.shape[0], tau.shape[1]):
        tau[i, j] = value
        total[i, j] = _weight(value, alpha) * heuristic[i, j]


@ti.kernel
def update_pheromone(
    tau: _F64_2,
    total: _F64_2,
    heuristic: _F64_2,
    ib_tour: _I32_1,
    restart_tour: _I32_1,
    best_tour: _I32_1,
    keep_restart: ti.i32,
    keep_best: ti.i32,
    deposit_restart: ti.i32,
    amount: ti.f64,
    rho: ti.f64,
    tau_min: ti.f64,
    tau_max: ti.f64,
    alpha: ti.f64,
):
    """One MMAS pheromone update after an iteration.

    Saves ib_tour as the restart-best and/or best-so-far tour when flagged, deposits `amount` on both
    directions of each edge of the restart-best tour (deposit_restart) or else of ib_tour, evaporates every
    trail by rho, clamps it to [tau_min, tau_max] (the MMAS bounds) and refreshes total = tau^alpha * eta^beta.
    The deposit is pre-scaled by 1 / (1 - rho) so evaporation can share the clamping loop; it is race-free
    because a tour holds each undirected edge once.
    """
    n = tau.shape[0]
    scaled = amount / (1.0 - rho)
    from_ib = deposit_restart == 0 or keep_restart != 0  # a just-saved restart-best is ib_tour
    for i in range(n):
        if keep_restart != 0:
            restart_tour[i] = ib_tour[i]
        if keep_best != 0:
            best_tour[i] = ib_tour[i]
        j = (i + 1) % n
        a = ib_tour[i]
        b = ib_tour[j]
        if not from_ib:  # then restart_tour is not being written in this loop
            a = restart_tour[i]
            b = restart_tour[j]
        tau[a, b] += scaled
        tau[b, a] += scaled
    for i, j in ti.ndrange(tau.shape[0], tau.shape[1]):
        value = ti.min(ti.max(tau[i, j] * (1.0 - rho), tau_min), tau_max)
        tau[i, j] = value
        total[i, j] = _weight(value, alpha) * heuristic[i, j]
