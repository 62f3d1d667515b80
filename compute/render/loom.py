"""Loom: turn a scene (JSON) into a manifest Fabric can render, in explicit stages.

    load -> validate -> extract -> configure -> sort -> manifest

`validate` (in `compute.render.schema`) collects every problem, each with its JSON path, before raising one
`SceneError`. The later stages assume a valid scene: `extract` expands particle emitters, drops hidden
objects and gathers lights and tagged objects; `configure` fills in the camera and render settings (image,
samples, bloom, exposure, tone map); `sort` orders objects so that nearby ones share a culling cluster;
`manifest` packs everything into the float32/int32 rows the kernel reads (layouts in
`compute.render.layout`) plus a plain summary. `prepare` runs them all. No Taichi and no Django here.

The scene format is documented in docs/render.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from compute.render.layout import (
    CLUSTER_SIZE,
    FLAG_NO_SHADOW,
    LIGHT_DIRECTIONAL,
    LIGHT_FLOATS,
    LIGHT_POINT,
    MAT_FLOATS,
    OBJ_BOUND,
    OBJ_FLAGS,
    OBJ_FLOATS,
    OBJ_INTS,
    OBJ_MATERIAL,
    OBJ_MIN_SCALE,
    OBJ_PARAMS,
    OBJ_ROTATION,
    OBJ_SCALE,
    OBJ_TRANSLATE,
    OBJ_TYPE,
    PRIMITIVE_CODES,
)
from compute.render.schema import (
    BLOOM_DEFAULTS,
    CAMERA_DEFAULTS,
    DEFAULT_LIMITS,
    EMITTER_DEFAULTS,
    LIGHT_DEFAULTS,
    LIGHT_TYPES,
    MATERIAL_DEFAULTS,
    PRIMITIVE_KEYS,
    RENDER_DEFAULTS,
    TRANSFORM_DEFAULTS,
    Limits,
    SceneError,
    SceneIssue,
    load_scene,
    validate,
    with_overrides,
)

__all__ = [
    "DEFAULT_LIMITS",
    "Camera",
    "Extraction",
    "Light",
    "Limits",
    "Manifest",
    "PostSettings",
    "Primitive",
    "SceneError",
    "SceneIssue",
    "Settings",
    "configure",
    "extract",
    "load_scene",
    "manifest",
    "prepare",
    "rotation_matrix",
    "sort",
    "validate",
    "with_overrides",
]


# -- extract ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Primitive:
    """One renderable object in world terms: its shape, its transform, its material and where it came from."""

    name: str
    kind: str
    params: tuple[float, float, float, float]  # the kernel's four shape parameters (see kernels._primitive)
    translate: np.ndarray  # (3,)
    rotation: np.ndarray  # (3, 3), local to world
    scale: np.ndarray  # (3,)
    material: str
    tags: tuple[str, ...]
    source: str  # JSON path of the object or emitter it came from

    @property
    def bound(self) -> float:
        """Return the radius of a sphere around `translate` that holds the object; -1 for an unbounded plane."""
        a, b, c, _ = self.params
        local = {
            "sphere": a,
            "box": math.sqrt(a * a + b * b + c * c),
            "plane": -1.0,
            "torus": a + b,
            "capsule": a + b,
            "cylinder": math.hypot(a, b),
        }[self.kind]
        return local if local < 0 else local * float(self.scale.max())


@dataclass(frozen=True)
class Light:
    """A point light (vector = position) or a directional one (vector = unit direction the light travels)."""

    kind: str
    vector: tuple[float, float, float]
    radiance: tuple[float, float, float]  # colour * intensity


@dataclass(frozen=True, eq=False)
class Extraction:
    """What a valid scene holds, ready to configure and sort: hidden objects dropped, emitters expanded."""

    objects: list[Primitive]
    lights: list[Light]
    materials: dict[str, dict[str, Any]]  # defaults filled in, in the scene's order
    tagged: dict[str, list[str]]  # tag -> names of the visible objects and particles carrying it
    hidden: int
    particles: int


def _triple(values: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in values)
    return (x, y, z)


def rotation_matrix(degrees: Sequence[float]) -> np.ndarray:
    """Return the local-to-world rotation for Euler angles in degrees: about x, then y, then z (Rz @ Ry @ Rx)."""
    x, y, z = (math.radians(float(d)) for d in degrees)
    cx, sx, cy, sy, cz, sz = math.cos(x), math.sin(x), math.cos(y), math.sin(y), math.cos(z), math.sin(z)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _shape_params(kind: str, obj: Mapping[str, Any]) -> tuple[float, float, float, float]:
    spec = {key: obj.get(key, default) for key, (default, _) in PRIMITIVE_KEYS[kind].items()}
    if kind == "sphere":
        return (float(spec["radius"]), 0.0, 0.0, 0.0)
    if kind == "box":
        hx, hy, hz = (float(v) / 2 for v in spec["size"])
        return (hx, hy, hz, float(spec["rounding"]))
    if kind == "torus":
        return (float(spec["major_radius"]), float(spec["minor_radius"]), 0.0, 0.0)
    if kind == "capsule":
        return (float(spec["height"]) / 2, float(spec["radius"]), 0.0, 0.0)
    if kind == "cylinder":
        return (float(spec["radius"]), float(spec["height"]) / 2, 0.0, 0.0)
    return (0.0, 0.0, 0.0, 0.0)


def _particles(emitter: Mapping[str, Any], path: str) -> list[Primitive]:
    """Expand an emitter into `count` small spheres, uniform in a ball of radius `spread`, from its seed."""
    spec = EMITTER_DEFAULTS | dict(emitter)
    count = int(spec["count"])
    rng = np.random.default_rng(int(spec["seed"]))
    directions = rng.normal(size=(count, 3))
    directions /= np.maximum(np.linalg.norm(directions, axis=1, keepdims=True), 1e-12)
    distances = float(spec["spread"]) * rng.random(count) ** (1.0 / 3.0)
    centres = np.asarray(spec["position"], dtype=np.float64) + directions * distances[:, None]
    name = spec.get("name") or path.removeprefix("$.")
    radius = float(spec["radius"])
    return [
        Primitive(
            name=f"{name}#{j}",
            kind="sphere",
            params=(radius, 0.0, 0.0, 0.0),
            translate=centre,
            rotation=np.eye(3),
            scale=np.ones(3),
            material=spec["material"],
            tags=tuple(spec.get("tags", ())),
            source=path,
        )
        for j, centre in enumerate(centres)
    ]


def extract(scene: Mapping[str, Any]) -> Extraction:
    """Return the scene's visible objects (emitters expanded into particles), lights, materials and tag index.

    Expects a scene that passed `validate`.
    """
    objects: list[Primitive] = []
    hidden = 0
    for i, obj in enumerate(scene["objects"]):
        tags = tuple(obj.get("tags", ()))
        if "hidden" in tags:
            hidden += 1
            continue
        transform = TRANSFORM_DEFAULTS | dict(obj.get("transform", {}))
        scale = transform["scale"]
        scale = np.full(3, float(scale)) if isinstance(scale, (int, float)) else np.asarray(scale, dtype=np.float64)
        objects.append(
            Primitive(
                name=obj.get("name") or f"objects[{i}]",
                kind=obj["type"],
                params=_shape_params(obj["type"], obj),
                translate=np.asarray(transform["translate"], dtype=np.float64),
                rotation=rotation_matrix(transform["rotate"]),
                scale=scale,
                material=obj["material"],
                tags=tags,
                source=f"$.objects[{i}]",
            )
        )
    particles = 0
    for i, emitter in enumerate(scene.get("emitters", [])):
        if "hidden" in emitter.get("tags", ()):
            continue
        expanded = _particles(emitter, f"$.emitters[{i}]")
        particles += len(expanded)
        objects.extend(expanded)
    lights = []
    for light in scene.get("lights", []):
        spec = LIGHT_DEFAULTS | dict(light)
        radiance = _triple(np.asarray(spec["color"], dtype=np.float64) * float(spec["intensity"]))
        if spec["type"] == "point":
            vector = _triple(spec["position"])
        else:
            d = np.asarray(spec["direction"], dtype=np.float64)
            vector = _triple(d / np.linalg.norm(d))
        lights.append(Light(kind=spec["type"], vector=vector, radiance=radiance))
    tagged: dict[str, list[str]] = {}
    for primitive in objects:
        for tag in primitive.tags:
            tagged.setdefault(tag, []).append(primitive.name)
    materials = {name: MATERIAL_DEFAULTS | dict(spec) for name, spec in scene["materials"].items()}
    return Extraction(objects, lights, materials, tagged, hidden, particles)


# -- configure ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Camera:
    """A pinhole camera: eye, unit forward, and right/up scaled to the image plane's half extents at distance 1."""

    eye: tuple[float, float, float]
    forward: tuple[float, float, float]
    right: tuple[float, float, float]
    up: tuple[float, float, float]
    fov: float  # vertical, degrees


@dataclass(frozen=True)
class PostSettings:
    """What happens to the HDR image after tracing: bloom, exposure, tone map, sRGB."""

    exposure: float  # linear multiplier applied after bloom
    bloom_threshold: float  # luminance above which light blooms
    bloom_strength: float  # 0 turns bloom off
    bloom_radius: float  # blur standard deviation, as a fraction of the image height
    tone_map: str  # "aces" (Narkowicz's fit) or "none" (clamp)


@dataclass(frozen=True)
class Settings:
    """A scene's render settings with defaults filled in."""

    width: int
    height: int
    samples: int
    max_bounces: int
    seed: int
    background: tuple[float, float, float]
    camera: Camera
    post: PostSettings


def configure(scene: Mapping[str, Any]) -> Settings:
    """Return the camera, image, sampling and post-processing settings of a valid scene, defaults filled in."""
    render = RENDER_DEFAULTS | dict(scene.get("render", {}))
    bloom = BLOOM_DEFAULTS | dict(render.get("bloom", {}))
    width, height = int(render["width"]), int(render["height"])
    camera = CAMERA_DEFAULTS | dict(scene["camera"])
    eye = np.asarray(camera["position"], dtype=np.float64)
    forward = np.asarray(camera["look_at"], dtype=np.float64) - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, np.asarray(camera["up"], dtype=np.float64))
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    half_height = math.tan(math.radians(float(camera["fov"])) / 2)
    half_width = half_height * width / height
    return Settings(
        width=width,
        height=height,
        samples=int(render["samples"]),
        max_bounces=int(render["max_bounces"]),
        seed=int(render["seed"]),
        background=_triple(render["background"]),
        camera=Camera(
            eye=_triple(eye),
            forward=_triple(forward),
            right=_triple(right * half_width),
            up=_triple(up * half_height),
            fov=float(camera["fov"]),
        ),
        post=PostSettings(
            exposure=float(render["exposure"]),
            bloom_threshold=float(bloom["threshold"]),
            bloom_strength=float(bloom["strength"]),
            bloom_radius=float(bloom["radius"]),
            tone_map=str(render["tone_map"]),
        ),
    )


# -- sort ---------------------------------------------------------------------------------------------------


def _spread_bits(values: np.ndarray) -> np.ndarray:
    """Spread the low 10 bits of each value so that two zero bits follow each (for 30-bit Morton codes)."""
    v = values.astype(np.uint32) & 0x3FF
    v = (v | (v << 16)) & 0x030000FF
    v = (v | (v << 8)) & 0x0300F00F
    v = (v | (v << 4)) & 0x030C30C3
    return (v | (v << 2)) & 0x09249249


def sort(objects: Sequence[Primitive]) -> list[Primitive]:
    """Return the objects in kernel order: planes first, then bounded objects along a Morton curve.

    Consecutive objects become culling clusters (`CLUSTER_SIZE` at a time), so the curve keeps each cluster
    small in space and its bounding sphere tight. Ties break by primitive type, then material, then name,
    so the order, and hence the image, depends only on the scene.
    """
    planes = sorted((o for o in objects if o.kind == "plane"), key=lambda o: (o.material, o.name))
    bounded = [o for o in objects if o.kind != "plane"]
    if not bounded:
        return planes
    centres = np.array([o.translate for o in bounded])
    low, high = centres.min(axis=0), centres.max(axis=0)
    cells = np.floor((centres - low) / np.maximum(high - low, 1e-12) * 1023).astype(np.int64)
    codes = (_spread_bits(cells[:, 0]) << 2) | (_spread_bits(cells[:, 1]) << 1) | _spread_bits(cells[:, 2])
    order = sorted(
        range(len(bounded)), key=lambda i: (int(codes[i]), bounded[i].kind, bounded[i].material, bounded[i].name)
    )
    return planes + [bounded[i] for i in order]


# -- manifest -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Manifest:
    """Everything Fabric needs, as plain values and arrays (layouts in `compute.render.layout`)."""

    settings: Settings
    objects: np.ndarray  # (N, OBJ_FLOATS) float32
    kinds: np.ndarray  # (N, OBJ_INTS) int32
    clusters: np.ndarray  # (C, 4) float32: centre, radius (negative: unbounded)
    ranges: np.ndarray  # (C, 2) int32: first object, end
    materials: np.ndarray  # (M, MAT_FLOATS) float32
    lights: np.ndarray  # (L, LIGHT_FLOATS) float32
    summary: dict[str, Any] = field(default_factory=dict)


def _clusters(objects: Sequence[Primitive]) -> tuple[np.ndarray, np.ndarray]:
    """Return cluster spheres and object ranges: all planes in one unbounded cluster, then runs of CLUSTER_SIZE."""
    spheres: list[list[float]] = []
    ranges: list[list[int]] = []
    planes = sum(1 for o in objects if o.kind == "plane")
    if planes:
        spheres.append([0.0, 0.0, 0.0, -1.0])
        ranges.append([0, planes])
    for start in range(planes, len(objects), CLUSTER_SIZE):
        members = objects[start : start + CLUSTER_SIZE]
        centres = np.array([o.translate for o in members])
        bounds = np.array([o.bound for o in members])
        centre = (centres.min(axis=0) + centres.max(axis=0)) / 2
        radius = float(np.max(np.linalg.norm(centres - centre, axis=1) + bounds))
        spheres.append([*centre.tolist(), radius * (1 + 1e-5) + 1e-6])  # float32 rounding must not cull a member
        ranges.append([start, start + len(members)])
    return np.array(spheres, dtype=np.float32).reshape(-1, 4), np.array(ranges, dtype=np.int32).reshape(-1, 2)


def _tag_summary(objects: Sequence[Primitive], tag: str) -> list[str]:
    """Return who carries `tag`: objects by name, particles as one entry per emitter ("embers: 48 particles")."""
    entries: list[str] = []  # object names, and emitter sources standing in for their particles
    particles: dict[str, tuple[str, int]] = {}  # emitter source -> (emitter name, particles)
    for o in objects:
        if tag not in o.tags:
            continue
        if o.source.startswith("$.emitters"):
            name, count = particles.get(o.source, (o.name.rpartition("#")[0], 0))
            if count == 0:
                entries.append(o.source)
            particles[o.source] = (name, count + 1)
        else:
            entries.append(o.name)
    return [f"{particles[e][0]}: {particles[e][1]} particles" if e in particles else e for e in entries]


def manifest(extraction: Extraction, settings: Settings, objects: Sequence[Primitive]) -> Manifest:
    """Pack the sorted objects, their materials, the lights and the clusters into kernel rows; add a summary."""
    names = list(extraction.materials)
    index = {name: i for i, name in enumerate(names)}
    rows = np.zeros((len(objects), OBJ_FLOATS), dtype=np.float32)
    kinds = np.zeros((len(objects), OBJ_INTS), dtype=np.int32)
    for i, o in enumerate(objects):
        rows[i, OBJ_TRANSLATE : OBJ_TRANSLATE + 3] = o.translate
        rows[i, OBJ_ROTATION : OBJ_ROTATION + 9] = o.rotation.ravel()
        rows[i, OBJ_SCALE : OBJ_SCALE + 3] = o.scale
        rows[i, OBJ_MIN_SCALE] = o.scale.min()
        rows[i, OBJ_BOUND] = o.bound
        rows[i, OBJ_PARAMS : OBJ_PARAMS + 4] = o.params
        kinds[i, OBJ_TYPE] = PRIMITIVE_CODES[o.kind]
        kinds[i, OBJ_MATERIAL] = index[o.material]
        kinds[i, OBJ_FLAGS] = FLAG_NO_SHADOW if "no_shadow" in o.tags else 0
    materials = np.zeros((len(names), MAT_FLOATS), dtype=np.float32)
    for i, name in enumerate(names):
        spec = extraction.materials[name]
        materials[i] = [*spec["albedo"], *spec["emission"], spec["metallic"], spec["roughness"]]
    lights = np.zeros((len(extraction.lights), LIGHT_FLOATS), dtype=np.float32)
    for i, light in enumerate(extraction.lights):
        lights[i] = [LIGHT_POINT if light.kind == "point" else LIGHT_DIRECTIONAL, *light.vector, *light.radiance]
    clusters, ranges = _clusters(objects)
    by_type: dict[str, int] = {}
    for o in objects:
        by_type[o.kind] = by_type.get(o.kind, 0) + 1
    summary = {
        "width": settings.width,
        "height": settings.height,
        "samples": settings.samples,
        "max_bounces": settings.max_bounces,
        "seed": settings.seed,
        "objects": len(objects),
        "by_type": dict(sorted(by_type.items())),
        "particles": extraction.particles,
        "hidden": extraction.hidden,
        "clusters": len(clusters),
        "materials": len(names),
        "lights": {kind: sum(1 for light in extraction.lights if light.kind == kind) for kind in LIGHT_TYPES},
        "emissive_materials": [n for n in names if any(extraction.materials[n]["emission"])],
        "tagged": {tag: _tag_summary(objects, tag) for tag in sorted(extraction.tagged)},
        "tone_map": settings.post.tone_map,
        "exposure": settings.post.exposure,
        "bloom": settings.post.bloom_strength > 0,
    }
    return Manifest(settings, rows, kinds, clusters, ranges, materials, lights, summary)


def prepare(
    source: Mapping[str, Any] | str | Path,
    *,
    width: int | None = None,
    height: int | None = None,
    samples: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Manifest:
    """Run every Loom stage on a scene (mapping, JSON text or file path) and return its manifest.

    width / height / samples override the scene's render settings and meet the same limits. Raises
    SceneError with every problem found.
    """
    scene = with_overrides(load_scene(source), width=width, height=height, samples=samples)
    validate(scene, limits)
    extraction = extract(scene)
    settings = configure(scene)
    return manifest(extraction, settings, sort(extraction.objects))
