"""Taichi kernel of Fabric: an SDF sphere tracer with path tracing, writing linear HDR radiance.

Run it only on the runtime's owner thread (`compute.runtime.call`). The kernel is parallel over pixels and
serial over one pixel's samples and bounces. Sample s of pixel p draws from its own splitmix64 stream,
seeded from the render's key, p and s alone, so an image depends neither on thread scheduling nor on how
the samples are split into passes.

Geometry arrives as the rows Loom's manifest packs (see `compute.render.loom` for the layout): every bounded
primitive is sphere-traced on its own inside its bounding sphere (so a ray never creeps past one object
while marching near another), planes are intersected exactly, and clusters of consecutive objects share a
bounding sphere that culls them together. Shading: Lambertian diffuse and a GGX metal lobe picked with
probability `metallic`, emission, and next-event estimation towards point and directional lights.

No `from __future__ import annotations` here: Taichi reads kernel annotations as live objects and rejects
the strings that postponed evaluation would give it.
"""

import math

from compute.render.layout import (
    BOX,
    CAPSULE,
    FLAG_NO_SHADOW,
    LIGHT_POINT,
    OBJ_BOUND,
    OBJ_FLAGS,
    OBJ_MATERIAL,
    OBJ_MIN_SCALE,
    OBJ_PARAMS,
    OBJ_ROTATION,
    OBJ_SCALE,
    OBJ_TRANSLATE,
    OBJ_TYPE,
    PLANE,
    SPHERE,
    TORUS,
)
from compute.runtime import import_taichi

ti = import_taichi()

MAX_STEPS = 160  # sphere-tracing steps per object per ray
HIT_EPSILON = 1e-4  # a surface is hit when the distance bound falls below this, times max(1, t)
RAY_OFFSET = 1e-3  # scattered and shadow rays start this far off the surface, along the normal
FAR = 1e6
NORMAL_STEP = 1e-4
ROULETTE_AFTER = 3  # bounces before Russian roulette may end a path
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_TO_UNIT = 1.0 / 16777216.0  # 2**-24: the top 24 bits of a u64 become a float in [0, 1)
_INV_PI = 1.0 / math.pi

_F32_2 = ti.types.ndarray(dtype=ti.f32, ndim=2)
_I32_2 = ti.types.ndarray(dtype=ti.i32, ndim=2)
vec3 = ti.math.vec3


@ti.func
def _mix(z: ti.u64) -> ti.u64:
    """splitmix64's output function: a bijection of u64 that scrambles every bit."""
    z = (z ^ (z >> ti.u64(30))) * ti.u64(_MIX1)
    z = (z ^ (z >> ti.u64(27))) * ti.u64(_MIX2)
    return z ^ (z >> ti.u64(31))


@ti.func
def _uniform(state: ti.template()) -> ti.f32:
    """Advance the splitmix64 stream held in the caller's local `state` and return a float in [0, 1)."""
    state += ti.u64(_GOLDEN)
    return ti.cast(_mix(state) >> ti.u64(40), ti.f32) * _TO_UNIT


@ti.func
def _row3(a: ti.template(), i: ti.i32, j: ti.i32) -> vec3:
    return vec3(a[i, j], a[i, j + 1], a[i, j + 2])


@ti.func
def _rotation(objects: ti.template(), k: ti.i32) -> ti.math.mat3:
    b = OBJ_ROTATION
    return ti.math.mat3(
        [
            [objects[k, b], objects[k, b + 1], objects[k, b + 2]],
            [objects[k, b + 3], objects[k, b + 4], objects[k, b + 5]],
            [objects[k, b + 6], objects[k, b + 7], objects[k, b + 8]],
        ]
    )


@ti.func
def _primitive(kind: ti.i32, p: vec3, a: ti.f32, b: ti.f32, c: ti.f32, r: ti.f32) -> ti.f32:
    """Return the signed distance from local point p to a unit-transform primitive (Quilez's exact SDFs).

    sphere: radius a. box: half extents (a, b, c), edges rounded by r. plane: y = 0. torus in the xz plane:
    major radius a, minor radius b. capsule along y: half segment a, radius b. cylinder along y: radius a,
    half height b.
    """
    d = ti.f32(0.0)
    if kind == SPHERE:
        d = p.norm() - a
    elif kind == BOX:
        q = ti.abs(p) - vec3(a - r, b - r, c - r)
        d = ti.max(q, 0.0).norm() + ti.min(ti.max(q.x, ti.max(q.y, q.z)), 0.0) - r
    elif kind == PLANE:
        d = p.y
    elif kind == TORUS:
        q = ti.math.vec2(ti.math.vec2(p.x, p.z).norm() - a, p.y)
        d = q.norm() - b
    elif kind == CAPSULE:
        q = vec3(p.x, p.y - ti.math.clamp(p.y, -a, a), p.z)
        d = q.norm() - b
    else:  # CYLINDER
        e = ti.abs(ti.math.vec2(ti.math.vec2(p.x, p.z).norm(), p.y)) - ti.math.vec2(a, b)
        d = ti.min(ti.max(e.x, e.y), 0.0) + ti.max(e, 0.0).norm()
    return d


@ti.func
def _distance(objects: ti.template(), kinds: ti.template(), k: ti.i32, p: vec3) -> ti.f32:
    """Return a lower bound of the world distance from p to object k (exact under uniform scale)."""
    rot = _rotation(objects, k)
    local = (rot.transpose() @ (p - _row3(objects, k, OBJ_TRANSLATE))) / _row3(objects, k, OBJ_SCALE)
    d = _primitive(
        kinds[k, OBJ_TYPE],
        local,
        objects[k, OBJ_PARAMS],
        objects[k, OBJ_PARAMS + 1],
        objects[k, OBJ_PARAMS + 2],
        objects[k, OBJ_PARAMS + 3],
    )
    return d * objects[k, OBJ_MIN_SCALE]


@ti.func
def _sphere_span(origin: vec3, direction: vec3, centre: vec3, radius: ti.f32) -> ti.math.vec2:
    """Return the ray's parameter interval inside the sphere; empty (x > y) when it misses."""
    oc = origin - centre
    b = oc.dot(direction)
    disc = b * b - (oc.dot(oc) - radius * radius)
    span = ti.math.vec2(1.0, -1.0)
    if disc >= 0.0:
        s = ti.sqrt(disc)
        span = ti.math.vec2(-b - s, -b + s)
    return span


@ti.func
def _hit_object(objects: ti.template(), kinds: ti.template(), k: ti.i32, origin: vec3, direction: vec3, limit: ti.f32):
    """Return the ray parameter of the first hit on object k before `limit`, or FAR if there is none."""
    hit = ti.f32(FAR)
    centre = _row3(objects, k, OBJ_TRANSLATE)
    if kinds[k, OBJ_TYPE] == PLANE:
        normal = _rotation(objects, k) @ vec3(0.0, 1.0, 0.0)
        denom = normal.dot(direction)
        if ti.abs(denom) > 1e-9:
            t = normal.dot(centre - origin) / denom
            if t > 0.0 and t < limit:
                hit = t
    else:
        span = _sphere_span(origin, direction, centre, objects[k, OBJ_BOUND])
        end = ti.min(span.y, limit)
        t = ti.max(span.x, 0.0)
        if t <= end:
            for _ in range(MAX_STEPS):
                d = _distance(objects, kinds, k, origin + t * direction)
                if d < HIT_EPSILON * ti.max(1.0, t):
                    hit = t
                    break
                t += d
                if t > end:
                    break
    return hit


@ti.func
def _nearest(
    objects: ti.template(),
    kinds: ti.template(),
    clusters: ti.template(),
    ranges: ti.template(),
    cluster_count: ti.i32,
    origin: vec3,
    direction: vec3,
    limit: ti.f32,
    shadow: ti.template(),
):
    """Return (t, k): the nearest object k hit before `limit` and its ray parameter; k = -1 on a miss.

    With `shadow` set it answers "is anything in the way": objects flagged no-shadow are skipped and the
    search stops at the first hit.
    """
    best_t = limit
    best = -1
    done = False
    for c in range(cluster_count):
        if not done:
            visit = True
            radius = clusters[c, 3]
            if radius >= 0.0:  # planes sit in clusters with a negative radius: unbounded
                span = _sphere_span(origin, direction, _row3(clusters, c, 0), radius)
                visit = span.x <= span.y and span.y >= 0.0 and span.x <= best_t
            if visit:
                for k in range(ranges[c, 0], ranges[c, 1]):
                    skip = done
                    if ti.static(shadow):
                        skip = skip or (kinds[k, OBJ_FLAGS] & FLAG_NO_SHADOW) != 0
                    if not skip:
                        t = _hit_object(objects, kinds, k, origin, direction, best_t)
                        if t < best_t:
                            best_t = t
                            best = k
                            if ti.static(shadow):
                                done = True
    return best_t, best


@ti.func
def _normal(objects: ti.template(), kinds: ti.template(), k: ti.i32, p: vec3) -> vec3:
    """Return the unit outward normal of object k at p: the SDF gradient by Quilez's tetrahedron."""
    n = vec3(0.0)
    h = NORMAL_STEP * ti.max(1.0, p.norm())
    for i in range(4):  # not static: one inlined copy of the distance function instead of four
        e = vec3(ti.cast(((i + 3) >> 1) & 1, ti.f32), ti.cast((i >> 1) & 1, ti.f32), ti.cast(i & 1, ti.f32))
        e = 2.0 * e - 1.0
        n += e * _distance(objects, kinds, k, p + h * e)
    return n.normalized()


@ti.func
def _basis(n: vec3):
    """Return two unit tangents completing n to an orthonormal basis (Duff et al. 2017)."""
    sign = ti.math.sign(n.z)
    if n.z == 0.0:
        sign = 1.0
    a = -1.0 / (sign + n.z)
    b = n.x * n.y * a
    return vec3(1.0 + sign * n.x * n.x * a, sign * b, -sign * n.x), vec3(b, sign + n.y * n.y * a, -n.y)


@ti.func
def _finite(x: ti.f32) -> bool:
    """Return whether x is neither NaN nor infinite, from its exponent bits (fast math may fold isnan away)."""
    return (ti.bit_cast(x, ti.u32) >> ti.u32(23)) & ti.u32(0xFF) != ti.u32(0xFF)


@ti.func
def _schlick(f0: vec3, cosine: ti.f32) -> vec3:
    return f0 + (1.0 - f0) * ti.pow(1.0 - ti.math.clamp(cosine, 0.0, 1.0), 5.0)


@ti.func
def _smith_g1(cosine: ti.f32, alpha: ti.f32) -> ti.f32:
    """Smith's masking term for GGX: 2 cos / (cos + sqrt(alpha² + (1 - alpha²) cos²))."""
    a2 = alpha * alpha
    return 2.0 * cosine / (cosine + ti.sqrt(a2 + (1.0 - a2) * cosine * cosine))


@ti.func
def _brdf_cosine(n: vec3, to_eye: vec3, to_light: vec3, albedo: vec3, metallic: ti.f32, alpha: ti.f32) -> vec3:
    """Return BRDF * cos(light) for light arriving along to_light: the same mix of lobes the sampler draws.

    The metal lobe's roughness is floored at alpha 0.01 here, so a point light's highlight on a mirror
    is a small disc rather than an infinitely bright point nobody can sample.
    """
    nl = n.dot(to_light)
    nv = ti.max(n.dot(to_eye), 1e-4)
    value = vec3(0.0)
    if nl > 0.0:
        value = (1.0 - metallic) * albedo * (_INV_PI * nl)
        if metallic > 0.0:
            a = ti.max(alpha, 0.01)
            h = (to_eye + to_light).normalized()
            nh = ti.max(n.dot(h), 0.0)
            denom = nh * nh * (a * a - 1.0) + 1.0
            ggx = a * a / (math.pi * denom * denom)
            g = _smith_g1(nl, a) * _smith_g1(nv, a)
            value += metallic * _schlick(albedo, h.dot(to_light)) * (ggx * g / (4.0 * nv))
    return value


@ti.func
def _sample_ggx(to_eye: vec3, alpha: ti.f32, u1: ti.f32, u2: ti.f32) -> vec3:
    """Return a GGX microfacet normal drawn from the distribution of visible normals (Heitz 2018).

    Vectors are in the shading frame, normal along +z.
    """
    vh = vec3(alpha * to_eye.x, alpha * to_eye.y, to_eye.z).normalized()
    lensq = vh.x * vh.x + vh.y * vh.y
    t1 = vec3(1.0, 0.0, 0.0)
    if lensq > 0.0:
        t1 = vec3(-vh.y, vh.x, 0.0) / ti.sqrt(lensq)
    t2 = vh.cross(t1)
    r = ti.sqrt(u1)
    phi = 2.0 * math.pi * u2
    p1 = r * ti.cos(phi)
    p2 = r * ti.sin(phi)
    s = 0.5 * (1.0 + vh.z)
    p2 = (1.0 - s) * ti.sqrt(ti.max(0.0, 1.0 - p1 * p1)) + s * p2
    nh = p1 * t1 + p2 * t2 + ti.sqrt(ti.max(0.0, 1.0 - p1 * p1 - p2 * p2)) * vh
    return vec3(alpha * nh.x, alpha * nh.y, ti.max(nh.z, 0.0)).normalized()


@ti.kernel
def trace(
    image: _F32_2,
    width: ti.i32,
    height: ti.i32,
    x0: ti.i32,
    y0: ti.i32,
    tile_width: ti.i32,
    tile_height: ti.i32,
    first_sample: ti.i32,
    samples: ti.i32,
    max_bounces: ti.i32,
    key: ti.u64,
    eye: vec3,
    forward: vec3,
    right: vec3,
    up: vec3,
    background: vec3,
    objects: _F32_2,
    kinds: _I32_2,
    clusters: _F32_2,
    ranges: _I32_2,
    cluster_count: ti.i32,
    materials: _F32_2,
    lights: _F32_2,
    light_count: ti.i32,
):
    """Add samples first_sample .. first_sample + samples - 1 of each pixel of a tile to the tile's image.

    The tile's pixel (x0 + tx, y0 + ty) of the width x height picture lands in image[ty * tile_width + tx]:
    columns 0-2 gain the sum of the samples' radiance, column 3 the number of camera rays that hit anything
    (the coverage). `right` and `up` are scaled to the image plane's half extents at distance 1. Each
    pixel's sums run in f64 before they are added to the f32 image.
    """
    for ty, tx in ti.ndrange(tile_height, tile_width):
        x = x0 + tx
        y = y0 + ty
        pixel = y * width + x
        total = ti.math.vec3(0.0, 0.0, 0.0).cast(ti.f64)
        covered = ti.f64(0.0)
        for s in range(first_sample, first_sample + samples):
            state = _mix(key ^ _mix(ti.cast(pixel, ti.u64) * ti.u64(_GOLDEN) + ti.cast(s, ti.u64)))
            sx = (2.0 * (ti.cast(x, ti.f32) + _uniform(state)) / width) - 1.0
            sy = 1.0 - (2.0 * (ti.cast(y, ti.f32) + _uniform(state)) / height)
            origin = eye
            direction = (forward + sx * right + sy * up).normalized()
            weight = vec3(1.0)
            radiance = vec3(0.0)
            for bounce in range(max_bounces + 1):
                t, k = _nearest(objects, kinds, clusters, ranges, cluster_count, origin, direction, FAR, False)
                if k < 0:
                    radiance += weight * background
                    break
                if bounce == 0:
                    covered += 1.0
                p = origin + t * direction
                n = _normal(objects, kinds, k, p)
                if n.dot(direction) > 0.0:  # surfaces are two-sided: shade the side the ray came from
                    n = -n
                m = kinds[k, OBJ_MATERIAL]
                albedo = _row3(materials, m, 0)
                metallic = materials[m, 6]
                alpha = materials[m, 7] * materials[m, 7]
                radiance += weight * _row3(materials, m, 3)
                to_eye = -direction
                lifted = p + RAY_OFFSET * n
                for i in range(light_count):
                    to_light = vec3(0.0)
                    reach = ti.f32(FAR)
                    incoming = _row3(lights, i, 4)
                    if lights[i, 0] == LIGHT_POINT:
                        offset = _row3(lights, i, 1) - lifted
                        reach = offset.norm()
                        to_light = offset / reach
                        incoming /= reach * reach
                    else:
                        to_light = -_row3(lights, i, 1)
                    if n.dot(to_light) > 0.0:
                        f = _brdf_cosine(n, to_eye, to_light, albedo, metallic, alpha)
                        if f.max() > 0.0:
                            _, blocker = _nearest(
                                objects, kinds, clusters, ranges, cluster_count, lifted, to_light, reach, True
                            )
                            if blocker < 0:
                                radiance += weight * f * incoming
                if bounce == max_bounces:
                    break
                t1, t2 = _basis(n)
                u1 = _uniform(state)
                u2 = _uniform(state)
                if _uniform(state) < metallic:
                    local_eye = vec3(to_eye.dot(t1), to_eye.dot(t2), to_eye.dot(n))
                    h = _sample_ggx(local_eye, alpha, u1, u2)
                    local_out = 2.0 * local_eye.dot(h) * h - local_eye
                    if local_out.z <= 0.0:  # reflected below the surface: the path is absorbed
                        break
                    weight *= _schlick(albedo, local_eye.dot(h)) * _smith_g1(local_out.z, alpha)
                    direction = (local_out.x * t1 + local_out.y * t2 + local_out.z * n).normalized()
                else:
                    r = ti.sqrt(u1)
                    phi = 2.0 * math.pi * u2
                    z = ti.sqrt(ti.max(0.0, 1.0 - u1))
                    direction = (r * ti.cos(phi) * t1 + r * ti.sin(phi) * t2 + z * n).normalized()
                    weight *= albedo
                origin = lifted
                if bounce >= ROULETTE_AFTER:
                    survive = ti.min(weight.max(), 1.0)
                    if _uniform(state) >= survive:
                        break
                    weight /= survive
            if _finite(radiance.x + radiance.y + radiance.z):  # one degenerate sample must not poison a pixel
                total += radiance.cast(ti.f64)
        row = ty * tile_width + tx
        image[row, 0] += ti.cast(total.x, ti.f32)
        image[row, 1] += ti.cast(total.y, ti.f32)
        image[row, 2] += ti.cast(total.z, ti.f32)
        image[row, 3] += ti.cast(covered, ti.f32)


@ti.kernel
def clear(image: _F32_2, count: ti.i32):
    """Zero the first `count` rows of image."""
    for i, j in ti.ndrange(count, image.shape[1]):
        image[i, j] = 0.0
