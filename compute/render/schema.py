"""The scene format's rules: load a scene, apply overrides, and validate it, collecting every problem.

`validate` walks the whole scene and raises one `SceneError` listing each problem with the JSON path of the
offending value (`$.objects[2].transform.scale`). The defaults of every optional key live here too, next
to the checks, so that Loom's later stages fill in exactly what validation allowed. Plain Python, no
Taichi, no Django. The format is documented in docs/render.md.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 1
BUILTIN_TAGS = {
    "hidden": "left out of the render",
    "no_shadow": "casts no shadow from point and directional lights",
}
TONE_MAPS = ("aces", "none")
LIGHT_TYPES = ("point", "directional")
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class Limits:
    """What a scene may ask for; a scene over any of them is refused with the limit in the message."""

    max_width: int = 4096
    max_height: int = 4096
    max_samples: int = 4096
    max_bounces: int = 64
    max_objects: int = 4096  # after emitters expand into particles, hidden objects not counted
    max_lights: int = 64
    max_materials: int = 1024


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class SceneIssue:
    """One problem in a scene: where (a JSON path such as `$.objects[2].transform.scale`) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SceneError(ValueError):
    """The scene is invalid; `errors` lists every problem found, in document order."""

    def __init__(self, errors: list[SceneIssue]) -> None:
        self.errors = list(errors)
        count = len(self.errors)
        lines = "\n".join(f"  {issue}" for issue in self.errors)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the scene:\n{lines}")


# -- load ---------------------------------------------------------------------------------------------------


def load_scene(source: Mapping[str, Any] | str | Path) -> Mapping[str, Any]:
    """Return the scene as a mapping: given as one, as JSON text (a str starting with `{`) or as a file path.

    Raises SceneError (path `$`) when the text is not JSON or not a JSON object, OSError when the file
    cannot be read. NaN and Infinity literals parse, so that validation can report them where they are.
    """
    if isinstance(source, Mapping):
        return source
    if not isinstance(source, (str, Path)):
        raise SceneError([SceneIssue("$", f"a scene is a JSON object, got {_kind(source)}")])
    if isinstance(source, str) and source.lstrip().startswith("{"):
        text, origin = source, "the scene text"
    else:
        path = Path(source)
        text, origin = path.read_text(encoding="utf-8"), str(path)
    try:
        scene = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SceneError(
            [SceneIssue("$", f"{origin} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
        ) from exc
    if not isinstance(scene, dict):
        raise SceneError([SceneIssue("$", f"a scene is a JSON object, got {_kind(scene)}")])
    return scene


def with_overrides(
    scene: Mapping[str, Any], *, width: int | None = None, height: int | None = None, samples: int | None = None
) -> Mapping[str, Any]:
    """Return the scene with render.width / height / samples replaced where given (the scene is not changed).

    The overridden values are validated like the scene's own, so they meet the same limits.
    """
    overrides = {k: v for k, v in (("width", width), ("height", height), ("samples", samples)) if v is not None}
    if not overrides:
        return scene
    render = scene.get("render")
    render = dict(render) if isinstance(render, Mapping) else {}
    return {**scene, "render": render | overrides}


# -- validate -----------------------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_COMMON_OBJECT_KEYS = {"type", "name", "material", "transform", "tags"}
# Each primitive's own keys: (default, check) where check is "positive", "non_negative" or "size".
PRIMITIVE_KEYS: dict[str, dict[str, tuple[Any, str]]] = {
    "sphere": {"radius": (1.0, "positive")},
    "box": {"size": ([1.0, 1.0, 1.0], "size"), "rounding": (0.0, "non_negative")},
    "plane": {},
    "torus": {"major_radius": (1.0, "positive"), "minor_radius": (0.25, "positive")},
    "capsule": {"radius": (0.25, "positive"), "height": (1.0, "non_negative")},
    "cylinder": {"radius": (0.5, "positive"), "height": (1.0, "positive")},
}
_ANY_PRIMITIVE_KEYS = sorted({key for keys in PRIMITIVE_KEYS.values() for key in keys})
CAMERA_DEFAULTS = {"up": [0.0, 1.0, 0.0], "fov": 45.0}
MATERIAL_DEFAULTS = {"albedo": [0.8, 0.8, 0.8], "emission": [0.0, 0.0, 0.0], "metallic": 0.0, "roughness": 0.5}
TRANSFORM_DEFAULTS = {"translate": [0.0, 0.0, 0.0], "rotate": [0.0, 0.0, 0.0], "scale": 1.0}
LIGHT_DEFAULTS = {"color": [1.0, 1.0, 1.0], "intensity": 1.0}
EMITTER_DEFAULTS = {"radius": 0.05, "spread": 1.0, "seed": 0}
BLOOM_DEFAULTS = {"threshold": 1.0, "strength": 0.0, "radius": 0.02}
RENDER_DEFAULTS = {
    "width": 256,
    "height": 256,
    "samples": 16,
    "max_bounces": 4,
    "exposure": 1.0,
    "tone_map": "aces",
    "background": [0.0, 0.0, 0.0],
    "seed": 0,
}


def _key_path(path: str, key: object) -> str:
    if isinstance(key, str) and _IDENTIFIER.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key if isinstance(key, str) else str(key))}]"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Sequence):
        return "an array"
    return type(value).__name__


def _suggest(word: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _choices(options: Sequence[str]) -> str:
    return ", ".join(sorted(options)) if options else "none"


class _Validator:
    """Walks a scene and collects issues; each check returns the value when it is usable, else None."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.issues: list[SceneIssue] = []

    def add(self, path: str, message: str) -> None:
        self.issues.append(SceneIssue(path, message))

    def mapping(
        self, value: object, path: str, *, allowed: Sequence[str] | None, required: Sequence[str] = ()
    ) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.add(path, f"must be an object, got {_kind(value)}")
            return None
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    name = key if isinstance(key, str) else str(key)
                    self.add(
                        _key_path(path, key),
                        f"unknown key {name!r}{_suggest(name, allowed)}; expected one of: {_choices(allowed)}",
                    )
        for key in required:
            if key not in value:
                self.add(_key_path(path, key), "is required")
        return value

    def array(self, value: object, path: str) -> Sequence[Any] | None:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
            self.add(path, f"must be an array, got {_kind(value)}")
            return None
        return value

    def number(
        self,
        value: object,
        path: str,
        *,
        low: float | None = None,
        high: float | None = None,
        above: float | None = None,
        below: float | None = None,
        integer: bool = False,
        what: str = "",
    ) -> float | None:
        """Check a finite number within [low, high] and (above, below); integers when asked."""
        noun = "an integer" if integer else "a number"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(path, f"must be {noun}, got {_kind(value)}")
            return None
        if not math.isfinite(value):
            self.add(path, f"must be a finite number, got {value}")
            return None
        if integer and value != int(value):
            self.add(path, f"must be an integer, got {value}")
            return None
        what = f" {what}" if what else ""
        if low is not None and value < low:
            self.add(path, f"must be at least {low:g}{what}, got {value:g}")
            return None
        if above is not None and value <= above:
            self.add(path, f"must be greater than {above:g}{what}, got {value:g}")
            return None
        if high is not None and value > high:
            self.add(path, f"must be at most {high:g}{what}, got {value:g}")
            return None
        if below is not None and value >= below:
            self.add(path, f"must be less than {below:g}{what}, got {value:g}")
            return None
        return int(value) if integer else float(value)

    def vector(self, value: object, path: str, *, size: int = 3, **bounds: Any) -> list[float] | None:
        items = self.array(value, path)
        if items is None:
            return None
        if len(items) != size:
            self.add(path, f"must hold {size} numbers, got {len(items)}")
            return None
        checked = [self.number(item, f"{path}[{i}]", **bounds) for i, item in enumerate(items)]
        numbers = [c for c in checked if c is not None]
        return numbers if len(numbers) == size else None

    def color(self, value: object, path: str, *, high: float | None = None) -> list[float] | None:
        return self.vector(value, path, low=0.0, high=high)

    def direction(self, value: object, path: str) -> list[float] | None:
        checked = self.vector(value, path)
        if checked is not None and not any(checked):
            self.add(path, "must not be the zero vector (it gives no direction)")
            return None
        return checked

    def string(self, value: object, path: str) -> str | None:
        if not isinstance(value, str) or not value:
            self.add(path, f"must be a non-empty string, got {_kind(value) if value != '' else 'an empty string'}")
            return None
        return value

    def choice(self, value: object, path: str, options: Sequence[str], what: str) -> str | None:
        if self.string(value, path) is None:
            return None
        if value not in options:
            self.add(
                path, f"unknown {what} {value!r}{_suggest(str(value), options)}; expected one of: {_choices(options)}"
            )
            return None
        return str(value)

    def reference(self, value: object, path: str, materials: Sequence[str] | None) -> None:
        name = self.string(value, path)
        if name is None or materials is None:
            return
        if name not in materials:
            self.add(
                path,
                f"refers to material {name!r}, which $.materials does not define{_suggest(name, materials)}; "
                f"defined: {_choices(materials)}",
            )

    def tags(self, value: object, path: str, known: Sequence[str]) -> None:
        items = self.array(value, path)
        if items is None:
            return
        for i, tag in enumerate(items):
            item_path = f"{path}[{i}]"
            if self.string(tag, item_path) is not None and tag not in known:
                self.add(
                    item_path,
                    f"unknown tag {tag!r}{_suggest(tag, known)}; declare it in $.tags or use a built-in tag "
                    f"({_choices(list(BUILTIN_TAGS))})",
                )

    # -- sections -------------------------------------------------------------------------------------------

    def scene(self, scene: object) -> None:
        top = self.mapping(
            scene,
            "$",
            allowed=(
                "version",
                "name",
                "description",
                "camera",
                "materials",
                "objects",
                "lights",
                "emitters",
                "render",
                "tags",
            ),
            required=("camera", "materials", "objects"),
        )
        if top is None:
            return
        if "version" in top:
            version = top["version"]
            if isinstance(version, bool) or version != FORMAT_VERSION:
                self.add(
                    "$.version", f"unsupported scene format version {version!r}; this renderer reads {FORMAT_VERSION}"
                )
        for key in ("name", "description"):
            if key in top and not isinstance(top[key], str):
                self.add(f"$.{key}", f"must be a string, got {_kind(top[key])}")
        known_tags = list(BUILTIN_TAGS) + self.declared_tags(top.get("tags", []))
        materials = self.materials(top["materials"]) if "materials" in top else None
        if "camera" in top:
            self.camera(top["camera"])
        objects = 0
        if "objects" in top:
            objects = self.objects(top["objects"], materials, known_tags)
        lights = self.array(top.get("lights", []), "$.lights")
        if lights is not None:
            if len(lights) > self.limits.max_lights:
                self.add("$.lights", f"holds {len(lights)} lights; the limit is {self.limits.max_lights}")
            for i, light in enumerate(lights):
                self.light(light, f"$.lights[{i}]")
        emitters = self.array(top.get("emitters", []), "$.emitters")
        particles = 0
        if emitters is not None:
            for i, emitter in enumerate(emitters):
                particles += self.emitter(emitter, f"$.emitters[{i}]", materials, known_tags)
        if objects + particles > self.limits.max_objects:
            where = "$.emitters" if particles else "$.objects"
            self.add(
                where,
                f"the scene has {objects + particles} visible objects ({objects} objects, {particles} particles); "
                f"the limit is {self.limits.max_objects}",
            )
        if "render" in top:
            self.render(top["render"])

    def declared_tags(self, value: object) -> list[str]:
        items = self.array(value, "$.tags")
        if items is None:
            return []
        names = []
        for i, tag in enumerate(items):
            path = f"$.tags[{i}]"
            if self.string(tag, path) is None:
                continue
            if tag in BUILTIN_TAGS:
                self.add(path, f"{tag!r} is a built-in tag; it needs no declaration")
            elif tag in names:
                self.add(path, f"tag {tag!r} is declared twice")
            names.append(tag)
        return names

    def materials(self, value: object) -> list[str] | None:
        table = self.mapping(value, "$.materials", allowed=None)
        if table is None:
            return None
        if len(table) > self.limits.max_materials:
            self.add("$.materials", f"defines {len(table)} materials; the limit is {self.limits.max_materials}")
        for name, material in table.items():
            path = _key_path("$.materials", name)
            if not isinstance(name, str) or not name:
                self.add(path, "a material name must be a non-empty string")
            spec = self.mapping(material, path, allowed=tuple(MATERIAL_DEFAULTS))
            if spec is None:
                continue
            if "albedo" in spec:
                self.color(spec["albedo"], f"{path}.albedo", high=1.0)
            if "emission" in spec:
                self.color(spec["emission"], f"{path}.emission")
            for key in ("metallic", "roughness"):
                if key in spec:
                    self.number(spec[key], f"{path}.{key}", low=0.0, high=1.0)
        return [name for name in table if isinstance(name, str)]

    def camera(self, value: object) -> None:
        camera = self.mapping(
            value, "$.camera", allowed=("position", "look_at", "up", "fov"), required=("position", "look_at")
        )
        if camera is None:
            return
        position = self.vector(camera["position"], "$.camera.position") if "position" in camera else None
        look_at = self.vector(camera["look_at"], "$.camera.look_at") if "look_at" in camera else None
        up = self.direction(camera["up"], "$.camera.up") if "up" in camera else CAMERA_DEFAULTS["up"]
        if "fov" in camera:
            self.number(camera["fov"], "$.camera.fov", above=0.0, below=180.0, what="degrees")
        if position is None or look_at is None:
            return
        forward = np.subtract(look_at, position)
        if not np.any(forward):
            self.add("$.camera.look_at", "equals $.camera.position: the camera has no direction to look in")
        elif up is not None and _parallel(forward, np.asarray(up)):
            self.add("$.camera.up", "is parallel to the viewing direction (look_at - position); pick another up")

    def transform(self, value: object, path: str) -> None:
        transform = self.mapping(value, path, allowed=tuple(TRANSFORM_DEFAULTS))
        if transform is None:
            return
        if "translate" in transform:
            self.vector(transform["translate"], f"{path}.translate")
        if "rotate" in transform:
            self.vector(transform["rotate"], f"{path}.rotate")
        if "scale" in transform:
            scale = transform["scale"]
            what = "(a zero or negative scale collapses or mirrors the object)"
            if isinstance(scale, Sequence) and not isinstance(scale, str):
                self.vector(scale, f"{path}.scale", above=0.0, what=what)
            else:
                self.number(scale, f"{path}.scale", above=0.0, what=what)

    def objects(self, value: object, materials: Sequence[str] | None, known_tags: Sequence[str]) -> int:
        """Check every object; return how many will be rendered (not hidden)."""
        items = self.array(value, "$.objects")
        if items is None:
            return 0
        names: dict[str, int] = {}
        visible = 0
        for i, obj in enumerate(items):
            path = f"$.objects[{i}]"
            if not isinstance(obj, Mapping):
                self.add(path, f"must be an object, got {_kind(obj)}")
                continue
            kind = (
                self.choice(obj.get("type"), f"{path}.type", list(PRIMITIVE_KEYS), "primitive type")
                if "type" in obj
                else None
            )
            if "type" not in obj:
                self.add(f"{path}.type", f"is required; one of: {_choices(list(PRIMITIVE_KEYS))}")
            # Without a known type, any primitive's keys pass here: the type's own error says what is wrong.
            own = PRIMITIVE_KEYS[kind] if kind else _ANY_PRIMITIVE_KEYS
            self.mapping(obj, path, allowed=(*_COMMON_OBJECT_KEYS, *own), required=("material",))
            if "name" in obj and self.string(obj["name"], f"{path}.name") is not None:
                if obj["name"] in names:
                    self.add(f"{path}.name", f"name {obj['name']!r} is already used by $.objects[{names[obj['name']]}]")
                names.setdefault(obj["name"], i)
            if "material" in obj:
                self.reference(obj["material"], f"{path}.material", materials)
            if "transform" in obj:
                self.transform(obj["transform"], f"{path}.transform")
            tags = obj.get("tags", [])
            self.tags(tags, f"{path}.tags", known_tags)
            if kind:
                self.primitive(obj, path, kind)
            if not (isinstance(tags, Sequence) and "hidden" in tags):
                visible += 1
        return visible

    def primitive(self, obj: Mapping[str, Any], path: str, kind: str) -> None:
        checks = {"positive": {"above": 0.0}, "non_negative": {"low": 0.0}}
        for key, (_, check) in PRIMITIVE_KEYS[kind].items():
            if key not in obj:
                continue
            if check == "size":
                self.vector(obj[key], f"{path}.{key}", above=0.0)
            else:
                self.number(obj[key], f"{path}.{key}", **checks[check])
        if kind == "box" and "rounding" in obj:
            size = obj.get("size", PRIMITIVE_KEYS["box"]["size"][0])
            rounding = obj["rounding"]
            if _all_numbers(size) and _all_numbers([rounding]) and rounding * 2 > min(size):
                self.add(
                    f"{path}.rounding",
                    f"must be at most half the box's smallest size ({min(size) / 2:g}), got {rounding:g}",
                )

    def light(self, value: object, path: str) -> None:
        light = self.mapping(value, path, allowed=None, required=("type",))
        if light is None:
            return
        kind = self.choice(light["type"], f"{path}.type", LIGHT_TYPES, "light type") if "type" in light else None
        place = {"point": "position", "directional": "direction"}.get(kind or "")
        allowed = ("type", "color", "intensity", *([place] if place else ["position", "direction"]))
        self.mapping(light, path, allowed=allowed, required=(place,) if place else ())
        if "position" in light and "position" in allowed:
            self.vector(light["position"], f"{path}.position")
        if "direction" in light and "direction" in allowed:
            self.direction(light["direction"], f"{path}.direction")
        if "color" in light:
            self.color(light["color"], f"{path}.color")
        if "intensity" in light:
            self.number(light["intensity"], f"{path}.intensity", low=0.0)

    def emitter(self, value: object, path: str, materials: Sequence[str] | None, known_tags: Sequence[str]) -> int:
        """Check a particle emitter; return how many visible particles it will add."""
        emitter = self.mapping(
            value,
            path,
            allowed=("name", "position", "count", "radius", "spread", "material", "seed", "tags"),
            required=("position", "count", "material"),
        )
        if emitter is None:
            return 0
        if "name" in emitter:
            self.string(emitter["name"], f"{path}.name")
        if "position" in emitter:
            self.vector(emitter["position"], f"{path}.position")
        count = None
        if "count" in emitter:
            count = self.number(emitter["count"], f"{path}.count", low=1, high=self.limits.max_objects, integer=True)
        if "radius" in emitter:
            self.number(emitter["radius"], f"{path}.radius", above=0.0)
        if "spread" in emitter:
            self.number(emitter["spread"], f"{path}.spread", low=0.0)
        if "seed" in emitter:
            self.number(emitter["seed"], f"{path}.seed", low=0, high=MAX_SEED, integer=True)
        if "material" in emitter:
            self.reference(emitter["material"], f"{path}.material", materials)
        tags = emitter.get("tags", [])
        self.tags(tags, f"{path}.tags", known_tags)
        hidden = isinstance(tags, Sequence) and "hidden" in tags
        return 0 if hidden or count is None else int(count)

    def render(self, value: object) -> None:
        render = self.mapping(value, "$.render", allowed=(*RENDER_DEFAULTS, "bloom"))
        if render is None:
            return
        limits = self.limits
        integers = {
            "width": (1, limits.max_width, "pixels"),
            "height": (1, limits.max_height, "pixels"),
            "samples": (1, limits.max_samples, "samples per pixel"),
            "max_bounces": (0, limits.max_bounces, "bounces"),
            "seed": (0, MAX_SEED, ""),
        }
        for key, (low, high, what) in integers.items():
            if key in render:
                self.number(render[key], f"$.render.{key}", low=low, high=high, integer=True, what=what)
        if "exposure" in render:
            self.number(render["exposure"], "$.render.exposure", above=0.0)
        if "tone_map" in render:
            self.choice(render["tone_map"], "$.render.tone_map", TONE_MAPS, "tone map")
        if "background" in render:
            self.color(render["background"], "$.render.background")
        if "bloom" in render:
            bloom = self.mapping(render["bloom"], "$.render.bloom", allowed=tuple(BLOOM_DEFAULTS))
            if bloom is not None:
                if "threshold" in bloom:
                    self.number(bloom["threshold"], "$.render.bloom.threshold", low=0.0)
                if "strength" in bloom:
                    self.number(bloom["strength"], "$.render.bloom.strength", low=0.0, high=10.0)
                if "radius" in bloom:
                    self.number(
                        bloom["radius"], "$.render.bloom.radius", above=0.0, high=0.5, what="of the image height"
                    )


def _parallel(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.linalg.norm(np.cross(a, b)) <= 1e-9 * np.linalg.norm(a) * np.linalg.norm(b))


def _all_numbers(values: object) -> bool:
    return (
        isinstance(values, Sequence)
        and not isinstance(values, str)
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)
    )


def validate(scene: object, limits: Limits = DEFAULT_LIMITS) -> None:
    """Check the whole scene against the format and `limits`; raise SceneError listing every problem.

    Reports, each at its JSON path: wrong types, NaN or infinite numbers, zero or negative scales and sizes,
    unknown keys, primitive types, light types, tone maps and tags, dangling material references, values out
    of range, duplicate object names, a degenerate camera, and image size, samples, bounces, lights or
    objects (after emitters expand) over the limits.
    """
    validator = _Validator(limits)
    validator.scene(scene)
    if validator.issues:
        raise SceneError(validator.issues)
