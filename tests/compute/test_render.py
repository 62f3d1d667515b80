"""The renderer: energy conservation (white furnace), exact silhouettes, every validation error with its path,
PNG round trips and reproducible seeds."""

from __future__ import annotations

import copy
import json
import math
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from compute import runtime
from compute.render import (
    SCENES,
    Limits,
    SceneError,
    decode_png,
    encode_png,
    extract,
    fabric,
    load_scene,
    post,
    prepare,
    read_png,
    render_scene,
    sort,
    write_png,
)
from compute.render.__main__ import main as cli
from compute.render.loom import rotation_matrix
from tests.compute.test_runtime import forks, in_forked_child


def _furnace(**render: Any) -> dict[str, Any]:
    scene = load_scene(SCENES / "white_furnace.json")
    return {**scene, "render": scene["render"] | render}


def _lone(obj: dict[str, Any], *, position: list[float], fov: float = 40.0, **render: Any) -> dict[str, Any]:
    """Return a scene with one object seen from `position` looking at the origin, on a black background."""
    return {
        "camera": {"position": position, "look_at": [0, 0, 0], "fov": fov},
        "materials": {"grey": {"albedo": [0.5, 0.5, 0.5]}},
        "objects": [{"material": "grey", **obj}],
        "render": {"width": 64, "height": 64, "samples": 4, "max_bounces": 1} | render,
    }


def _issues(scene: Any, **kwargs: Any) -> list[tuple[str, str]]:
    with pytest.raises(SceneError) as caught:
        prepare(scene, **kwargs)
    return [(issue.path, issue.message) for issue in caught.value.errors]


# -- white furnace ------------------------------------------------------------------------------------------


def test_a_white_sphere_in_a_white_furnace_vanishes() -> None:
    result = render_scene(SCENES / "white_furnace.json")

    assert result.hdr.shape == (32, 32, 3) and result.hdr.dtype == np.float32
    assert 0.25 < result.coverage.mean() < 0.6  # the sphere is really there
    assert abs(result.hdr.mean() - 1.0) < 1e-3
    assert np.abs(result.hdr - 1.0).max() < 0.02
    assert (result.image == 255).all()  # tone map "none", exposure 1: white


@pytest.mark.parametrize(
    ("shape", "material"),
    [
        ({"type": "sphere", "radius": 1}, {"albedo": [1, 1, 1], "metallic": 1, "roughness": 0}),  # a perfect mirror
        ({"type": "torus", "major_radius": 1, "minor_radius": 0.45}, {"albedo": [1, 1, 1]}),  # concave: many bounces
        ({"type": "box", "size": [1.5, 1.5, 1.5], "transform": {"rotate": [30, 40, 0]}}, {"albedo": [1, 1, 1]}),
    ],
    ids=["mirror-sphere", "diffuse-torus", "diffuse-box"],
)
def test_the_furnace_holds_for_mirrors_and_concave_shapes(shape: dict[str, Any], material: dict[str, Any]) -> None:
    scene = _furnace(samples=16, max_bounces=24)
    scene["camera"] = {"position": [0, 3, 3], "look_at": [0, 0, 0], "fov": 50}
    scene["materials"] = {"white": material}
    scene["objects"] = [{**shape, "material": "white"}]

    result = render_scene(scene)

    assert result.coverage.mean() > 0.2
    assert abs(result.hdr.mean() - 1.0) < 0.01
    assert np.abs(result.hdr - 1.0).max() < 0.1


def test_a_grey_sphere_reflects_its_albedo_of_the_furnace() -> None:
    scene = _furnace(samples=16)
    scene["materials"] = {"white": {"albedo": [0.5, 0.25, 0.75]}}

    result = render_scene(scene)

    # Each camera ray that hits scatters once and escapes: radiance = 1 - (1 - albedo) * coverage.
    expected = 1.0 - (1.0 - np.array([0.5, 0.25, 0.75]))[None, None, :] * result.coverage[..., None]
    assert np.abs(result.hdr - expected).max() < 1e-3


# -- silhouettes --------------------------------------------------------------------------------------------


def _sphere_area_pixels(centre: list[float], radius: float, fov: float, size: int) -> float:
    """Return the area in pixels of a sphere's perspective silhouette (an ellipse on the image plane).

    The silhouette is a cone of half-angle a = asin(r / d) around the ray to the centre, at angle t from the
    optical axis; its section by the image plane at distance 1 has area pi sin²a cos a / (cos²t - sin²a)^1.5.
    """
    d = float(np.linalg.norm(centre))
    a = math.asin(radius / d)
    t = math.acos(-centre[2] / d)  # the camera looks down -z
    area = math.pi * math.sin(a) ** 2 * math.cos(a) / (math.cos(t) ** 2 - math.sin(a) ** 2) ** 1.5
    pixel = 2 * math.tan(math.radians(fov) / 2) / size
    return area / pixel**2


@pytest.mark.parametrize(
    ("obj", "centre", "radius"),
    [
        ({"type": "sphere", "radius": 1}, [0, 0, 0], 1.0),
        ({"type": "sphere", "radius": 0.7, "transform": {"translate": [1.1, -0.6, 0.5]}}, [1.1, -0.6, 0.5], 0.7),
        ({"type": "sphere", "radius": 0.25, "transform": {"scale": 4, "rotate": [10, 20, 30]}}, [0, 0, 0], 1.0),
    ],
    ids=["on-axis", "off-axis", "scaled"],
)
def test_a_sphere_covers_its_analytic_projected_area(obj: dict[str, Any], centre: list[float], radius: float) -> None:
    result = render_scene(_lone(obj, position=[0, 0, 6]))

    expected = _sphere_area_pixels([c - e for c, e in zip(centre, [0, 0, 6], strict=True)], radius, 40.0, 64)
    assert result.coverage.sum() == pytest.approx(expected, rel=0.02)


def test_a_box_face_on_covers_its_front_face() -> None:
    result = render_scene(_lone({"type": "box", "size": [1.2, 1.2, 1.2]}, position=[0, 0, 5]))

    half = 0.6 / (5 - 0.6) / math.tan(math.radians(20)) * 32  # the front face's half side, in pixels
    assert result.coverage.sum() == pytest.approx((2 * half) ** 2, rel=0.02)


@pytest.mark.parametrize(
    "obj",
    [
        {"type": "box", "size": [1, 2, 1], "rounding": 0.2},
        {"type": "plane", "transform": {"translate": [0, -1, 0]}},
        {"type": "torus", "major_radius": 1, "minor_radius": 0.3, "transform": {"rotate": [90, 0, 0]}},
        {"type": "capsule", "radius": 0.4, "height": 1.5},
        {"type": "cylinder", "radius": 0.6, "height": 1.2, "transform": {"scale": [1, 0.5, 2]}},
    ],
    ids=lambda obj: obj["type"],
)
def test_every_primitive_renders_lit_by_a_light(obj: dict[str, Any]) -> None:
    scene = _lone(obj, position=[0, 1, 5], width=32, height=32)
    scene["lights"] = [{"type": "point", "position": [2, 3, 4], "intensity": 20}]

    result = render_scene(scene)

    assert 0.05 < result.coverage.mean() <= 1.0
    assert np.isfinite(result.hdr).all()
    assert result.hdr[result.coverage > 0.99].max() > 0.05  # lit where it is hit
    assert result.hdr[result.coverage == 0].max(initial=0.0) == 0.0  # black background elsewhere


def test_a_shadow_falls_unless_the_caster_is_tagged_no_shadow() -> None:
    scene = _lone({"type": "plane"}, position=[0, 4, 0], width=16, height=16, samples=2)
    scene["camera"]["up"] = [0, 0, -1]
    scene["objects"].append(
        {"type": "sphere", "radius": 0.3, "material": "grey", "transform": {"translate": [0, 0.8, 0]}}
    )
    scene["lights"] = [{"type": "directional", "direction": [0.5, -1, 0], "intensity": 3}]
    plain = render_scene(scene)
    scene["objects"][1]["tags"] = ["no_shadow"]

    tagged = render_scene(scene)

    shadow = plain.hdr[..., 0] < 0.01
    floor = tagged.hdr[0, 0, 0]  # lit floor: albedo / pi * cos * irradiance
    assert floor == pytest.approx(0.5 / math.pi * 3 / math.sqrt(1.25), rel=1e-3)
    assert shadow.sum() >= 4
    assert np.allclose(tagged.hdr[shadow], floor, rtol=1e-3)


# -- validation ---------------------------------------------------------------------------------------------


def _edit(path: str, value: Any) -> dict[str, Any]:
    """Return the showcase scene with the value at a simple path ("objects.1.transform.scale") set."""
    scene = copy.deepcopy(dict(load_scene(SCENES / "showcase.json")))
    *parents, last = path.split(".")
    node: Any = scene
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    if value is _DELETE:
        del node[int(last) if last.isdigit() else last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return scene


_DELETE = object()


@pytest.mark.parametrize(
    ("edit", "value", "path", "fragment"),
    [
        ("objects.1.transform.translate", [0, math.nan, 0], "$.objects[1].transform.translate[1]", "finite"),
        ("lights.0.intensity", math.inf, "$.lights[0].intensity", "finite"),
        ("camera.fov", -math.inf, "$.camera.fov", "finite"),
        ("objects.1.transform.scale", 0, "$.objects[1].transform.scale", "greater than 0"),
        ("objects.1.transform.scale", [1, -2, 1], "$.objects[1].transform.scale[1]", "greater than 0"),
        ("objects.1.radius", 0, "$.objects[1].radius", "greater than 0"),
        ("objects.4.size", [1, 0, 1], "$.objects[4].size[1]", "greater than 0"),
        ("objects.1.colour", [1, 0, 0], "$.objects[1].colour", "unknown key 'colour'"),
        ("objects.1.major_radius", 1, "$.objects[1].major_radius", "unknown key"),  # a torus key on a sphere
        ("camera.target", [0, 0, 0], "$.camera.target", "unknown key"),
        ("render.bloom.glow", 1, "$.render.bloom.glow", "unknown key"),
        ("extra", {}, "$.extra", "unknown key"),
        ("objects.3.tags", ["heroic"], "$.objects[3].tags[0]", "unknown tag 'heroic' (did you mean 'hero'?)"),
        ("emitters.0.tags", ["sparkles"], "$.emitters[0].tags[0]", "unknown tag"),
        ("objects.1.type", "spere", "$.objects[1].type", "unknown primitive type 'spere' (did you mean 'sphere'?)"),
        ("objects.1.type", _DELETE, "$.objects[1].type", "is required"),
        ("lights.0.type", "spot", "$.lights[0].type", "unknown light type"),
        ("render.tone_map", "reinhard", "$.render.tone_map", "unknown tone map"),
        ("objects.1.material", "silver", "$.objects[1].material", "refers to material 'silver'"),
        ("emitters.0.material", "spark", "$.emitters[0].material", "refers to material 'spark'"),
        ("objects.1.material", _DELETE, "$.objects[1].material", "is required"),
        ("materials.gold.albedo", [1.2, 0.5, 0.5], "$.materials.gold.albedo[0]", "at most 1"),
        ("materials.gold.emission", [0, -1, 0], "$.materials.gold.emission[1]", "at least 0"),
        ("materials.gold.metallic", 1.5, "$.materials.gold.metallic", "at most 1"),
        ("materials.gold.roughness", "smooth", "$.materials.gold.roughness", "must be a number, got a string"),
        ("camera.fov", 180, "$.camera.fov", "less than 180"),
        ("camera.look_at", [0, 2.2, 7.5], "$.camera.look_at", "no direction"),
        ("camera.up", [0, -1.4, -7.5], "$.camera.up", "parallel"),
        ("lights.1.direction", [0, 0, 0], "$.lights[1].direction", "zero vector"),
        ("render.width", 5000, "$.render.width", "at most 4096"),
        ("render.height", 0, "$.render.height", "at least 1"),
        ("render.samples", 5000, "$.render.samples", "at most 4096"),
        ("render.samples", 2.5, "$.render.samples", "integer"),
        ("render.max_bounces", 100, "$.render.max_bounces", "at most 64"),
        ("render.exposure", 0, "$.render.exposure", "greater than 0"),
        ("render.bloom.strength", -1, "$.render.bloom.strength", "at least 0"),
        ("emitters.0.count", 5000, "$.emitters[0].count", "at most 4096"),
        ("emitters.0.count", 4090, "$.emitters", "the limit is 4096"),
        ("objects.2.name", "chrome ball", "$.objects[2].name", "already used by $.objects[1]"),
        ("tags", ["hero", "hero"], "$.tags[1]", "declared twice"),
        ("version", 2, "$.version", "unsupported scene format version"),
        ("objects", {"type": "sphere"}, "$.objects", "must be an array"),
        ("materials.odd name", [], '$.materials["odd name"]', "must be an object"),
    ],
)
def test_each_validation_error_comes_with_its_path(edit: str, value: Any, path: str, fragment: str) -> None:
    issues = _issues(_edit(edit, value))

    assert any(p == path and fragment in m for p, m in issues), issues


def test_every_problem_is_reported_at_once() -> None:
    scene = _edit("objects.1.transform.scale", [1, 0, 1])
    scene["objects"][3]["material"] = "brass"
    scene["objects"][4]["tags"] = ["hidden", "shiny"]
    scene["lights"][0]["color"] = [1, math.nan, 1]
    scene["render"]["width"] = 10_000

    paths = [path for path, _ in _issues(scene)]

    assert paths == [
        "$.objects[1].transform.scale[1]",
        "$.objects[3].material",
        "$.objects[4].tags[1]",
        "$.lights[0].color[1]",
        "$.render.width",
    ]


def test_limits_and_overrides_are_checked_before_anything_is_traced() -> None:
    scene = SCENES / "white_furnace.json"

    assert [p for p, _ in _issues(scene, samples=5000)] == ["$.render.samples"]
    assert [p for p, _ in _issues(scene, width=64, limits=Limits(max_width=32))] == ["$.render.width"]
    with pytest.raises(SceneError, match=r"\$\.render\.height: must be at most 16 pixels"):
        render_scene(scene, height=17, limits=Limits(max_height=16))
    assert (
        prepare(scene, width=16, height=8, samples=2).summary.items()
        >= {"width": 16, "height": 8, "samples": 2}.items()
    )


def test_bad_json_and_non_objects_are_scene_errors() -> None:
    assert _issues('{"camera": ')[0][0] == "$"
    assert "not valid JSON" in _issues('{"camera": ')[0][1]
    assert _issues([1, 2]) == [("$", "a scene is a JSON object, got an array")]
    assert ("$.camera", "is required") in _issues("{}")


def test_a_scene_error_lists_every_issue_in_its_message() -> None:
    with pytest.raises(SceneError) as caught:
        prepare({"camera": {"position": [0, 0, 1], "look_at": [0, 0, 0]}, "materials": {}, "objects": [1, "x"]})

    text = str(caught.value)
    assert text.startswith("2 problems in the scene:")
    assert "$.objects[0]: must be an object, got a number" in text
    assert "$.objects[1]: must be an object, got a string" in text


# -- loom stages --------------------------------------------------------------------------------------------


def test_the_documented_example_scene_is_valid_and_renders() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "render.md").read_text(encoding="utf-8")
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]

    result = render_scene(example, width=24, height=16, samples=2)

    assert result.stats["objects"] == 23 and result.stats["tagged"] == {
        "hero": ["ball"],
        "no_shadow": ["sparks: 20 particles"],
    }
    assert result.image.shape == (16, 24, 3)


def test_extract_expands_emitters_and_drops_hidden_objects() -> None:
    scene = load_scene(SCENES / "showcase.json")

    first, again = extract(scene), extract(scene)

    particles = [o for o in first.objects if o.source == "$.emitters[0]"]
    assert len(particles) == first.particles == 48
    assert all(np.linalg.norm(p.translate - [0.2, 1.9, -0.6]) <= 0.6 + 1e-9 for p in particles)
    assert [p.translate.tolist() for p in particles] == [
        o.translate.tolist() for o in again.objects if o.source == "$.emitters[0]"
    ]
    assert first.hidden == 1 and "stand-in" not in {o.name for o in first.objects}
    assert first.tagged["hero"] == ["gold ring"]
    assert len(first.tagged["sparks"]) == 48
    assert [light.kind for light in first.lights] == ["point", "directional"]
    assert first.lights[0].radiance == pytest.approx((30, 27, 24))


def test_sort_puts_planes_first_and_depends_only_on_the_scene() -> None:
    objects = extract(load_scene(SCENES / "showcase.json")).objects

    ordered = sort(objects)

    assert ordered[0].kind == "plane"
    assert sorted(o.name for o in ordered) == sorted(o.name for o in objects)
    assert [o.name for o in sort(list(reversed(objects)))] == [o.name for o in ordered]


def test_the_manifest_packs_clusters_that_hold_their_objects() -> None:
    m = prepare(SCENES / "showcase.json")

    assert m.summary["objects"] == len(m.objects) == 56
    assert m.summary["by_type"] == {"box": 1, "capsule": 1, "cylinder": 1, "plane": 1, "sphere": 51, "torus": 1}
    assert m.summary["tagged"]["sparks"] == ["embers: 48 particles"]
    assert m.ranges[0].tolist() == [0, 1] and m.clusters[0, 3] < 0  # the plane: unbounded
    for (start, end), (x, y, z, radius) in zip(m.ranges[1:], m.clusters[1:], strict=True):
        for row in m.objects[start:end]:
            assert np.linalg.norm(row[0:3] - [x, y, z]) + row[16] <= radius


def test_rotations_turn_about_x_then_y_then_z() -> None:
    assert rotation_matrix([0, 0, 90]) @ [1, 0, 0] == pytest.approx([0, 1, 0])
    assert rotation_matrix([90, 0, 0]) @ [0, 1, 0] == pytest.approx([0, 0, 1])
    assert rotation_matrix([90, 90, 0]) @ [0, 1, 0] == pytest.approx([1, 0, 0])  # x first (y -> z), then y (z -> x)


# -- post-processing ----------------------------------------------------------------------------------------


def test_tone_mapping_and_srgb_encoding() -> None:
    x = np.array([0.0, 0.18, 1.0, 4.0, 100.0], dtype=np.float32)

    mapped = post.aces(x)

    assert mapped[0] == 0.0 and np.all(np.diff(mapped) > 0) and mapped[-1] == pytest.approx(1.0, abs=0.02)
    assert post.aces(np.float32(0.18)) == pytest.approx(
        0.18 * (2.51 * 0.18 + 0.03) / (0.18 * (2.43 * 0.18 + 0.59) + 0.14)
    )
    assert post.srgb8(np.array([0.0, 0.0031308, 0.5, 1.0, 2.0])).tolist() == [0, 10, 188, 255, 255]


def test_bloom_spreads_only_light_above_the_threshold_and_keeps_its_energy() -> None:
    hdr = np.full((64, 64, 3), 0.5, dtype=np.float32)
    hdr[32, 32] = 101.0

    bloomed = post.bloom(hdr, threshold=1.0, strength=1.0, radius=0.05)

    assert post.bloom(hdr, threshold=1.0, strength=0.0, radius=0.05) is hdr
    assert (bloomed >= hdr).all()
    assert bloomed[32, 36, 0] > 0.6  # light spilled into the neighbours
    assert (bloomed - hdr).sum() == pytest.approx(3 * 100.0, rel=1e-3)  # the excess above the threshold, spread
    assert np.allclose(bloomed[:8, :8], 0.5, atol=1e-4)  # far from the spot: unchanged


# -- PNG ----------------------------------------------------------------------------------------------------


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks.append((kind, body))
        offset += 12 + length
    return chunks


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_round_trips(channels: int) -> None:
    rng = np.random.default_rng(channels)
    ramp = np.add.outer(np.arange(23), np.arange(37)).astype(np.uint8)[..., None] * np.uint8(5)
    image = np.concatenate([ramp, rng.integers(0, 256, (23, 37, 1), dtype=np.uint8)], axis=1)
    image = np.repeat(image, channels, axis=2)
    image[..., 0] ^= rng.integers(0, 4, image.shape[:2], dtype=np.uint8)

    data = encode_png(image)

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks = _chunks(data)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, color_type, *_ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (width, height, depth, color_type) == (74, 23, 8, {1: 0, 2: 4, 3: 2, 4: 6}[channels])
    raw = zlib.decompress(chunks[1][1])
    assert len(raw) == 23 * (1 + 74 * channels)
    assert {raw[y * (1 + 74 * channels)] for y in range(23)} <= {0, 1, 2, 3, 4}
    assert np.array_equal(decode_png(data), image)


def test_png_files_round_trip_and_corruption_is_caught(tmp_path: Path) -> None:
    image = render_scene(SCENES / "showcase.json", width=24, height=16, samples=1).image

    path = write_png(tmp_path / "frame.png", image)

    assert np.array_equal(read_png(path), image)
    corrupt = bytearray(path.read_bytes())
    corrupt[40] ^= 0xFF
    with pytest.raises(ValueError, match="not a readable PNG"):
        decode_png(bytes(corrupt))
    corrupt = bytearray(path.read_bytes())
    corrupt[-20] ^= 0xFF  # inside the image data: caught by the chunk's CRC before any pixel is decoded
    with pytest.raises(ValueError, match="checksum"):
        decode_png(bytes(corrupt))
    with pytest.raises(ValueError, match="not a readable PNG"):
        decode_png(path.read_bytes()[:-30])
    with pytest.raises(ValueError, match="uint8"):
        encode_png(image.astype(np.float32))


# -- determinism, tiling and the command line ---------------------------------------------------------------


def _small_showcase(**kwargs: Any) -> np.ndarray:
    return render_scene(SCENES / "showcase.json", width=40, height=24, samples=3, **kwargs).hdr


def test_a_seed_reproduces_the_image_and_another_seed_changes_it() -> None:
    scene = load_scene(SCENES / "showcase.json")
    reseeded = {**scene, "render": scene["render"] | {"seed": 2}}

    first, again = _small_showcase(), _small_showcase()
    other = render_scene(reseeded, width=40, height=24, samples=3).hdr

    assert first.tobytes() == again.tobytes()
    assert not np.array_equal(first, other)


@forks
def test_a_seed_reproduces_on_one_cpu_thread_in_a_fresh_runtime() -> None:
    here = _small_showcase()

    def single_threaded() -> tuple[int, bytes]:
        runtime.configure(threads=1)
        return runtime.info().threads, _small_showcase().tobytes()

    threads, there = in_forked_child(single_threaded)

    assert threads == 1
    assert there == here.tobytes()


def test_tiles_and_sample_passes_do_not_change_the_image(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _small_showcase()
    monkeypatch.setattr(fabric, "TILE_PIXELS", 7 * 40)
    monkeypatch.setattr(fabric, "PASS_SAMPLES", 2)
    fractions: list[float] = []

    pieced = render_scene(SCENES / "showcase.json", width=40, height=24, samples=3, progress=fractions.append).hdr

    assert len(fractions) == 4 * 2 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert np.allclose(pieced, whole, rtol=1e-5, atol=1e-6)


def test_the_command_line_renders_a_png_and_prints_stats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "furnace.png"

    status = cli([str(SCENES / "white_furnace.json"), str(out), "--width", "8", "--height", "6", "--json"])

    assert status == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["width"] == 8 and stats["height"] == 6 and stats["seconds"] > 0 and stats["out"] == str(out)
    assert read_png(out).shape == (6, 8, 3)


def test_the_command_line_lists_every_scene_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "camera": {"position": [0, 0, 1], "look_at": [0, 0, 0]},
                "materials": {},
                "objects": [{"type": "cone", "material": "x"}],
            }
        )
    )

    status = cli([str(bad), str(tmp_path / "out.png")])

    assert status == 2
    err = capsys.readouterr().err
    assert "$.objects[0].type: unknown primitive type 'cone'" in err
    assert "$.objects[0].material: refers to material 'x'" in err
    assert not (tmp_path / "out.png").exists()
