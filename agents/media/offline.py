"""The offline media backend: what runs when no media provider is configured, labelled as offline output.

Pure module (no Django): images are traced by the Taichi renderer (compute.render) from a scene drawn from the
prompt's digest (where Taichi is not installed, as in the Python 3.13 container image, a procedural NumPy picture
stands in, and the output says which); videos are rendered frame by frame by the same renderer around an orbiting camera and encoded
to H.264 MP4 with PyAV; speech is spoken by espeak-ng into a WAV file. Nothing here calls the network.
"""

from __future__ import annotations

import hashlib
import io
import math
import shutil
import subprocess
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
import numpy as np

from agents.media.base import MediaFault, MediaResult, media_duration_s

LABEL = "offline"
ESPEAK = "espeak-ng"
ESPEAK_TIMEOUT_S = 60
VOICES = {  # OpenAI voice names -> espeak-ng voices, so a request means the same thing offline
    "alloy": "en-us",
    "ash": "en-us+m3",
    "ballad": "en-gb+m2",
    "coral": "en-us+f3",
    "echo": "en-gb",
    "fable": "en-gb+m4",
    "nova": "en-us+f2",
    "onyx": "en-us+m1",
    "sage": "en-gb+f2",
    "shimmer": "en-us+f4",
    "verse": "en-us+m2",
}


def _palette(prompt: str) -> list[float]:
    """Return 12 numbers in [0, 1) drawn from the prompt's digest: the same prompt paints the same scene."""
    digest = hashlib.blake2b(prompt.encode(), digest_size=24).digest()
    return [b / 256 for b in digest[:12]]


def scene_for(prompt: str, *, width: int, height: int, angle: float = 0.0, samples: int = 8) -> dict[str, Any]:
    """Return the renderer scene of ``prompt``: a floor, a metal sphere and a torus in prompt-drawn colours,
    seen from a camera at ``angle`` radians around the scene."""
    p = _palette(prompt)
    radius = 5.0
    return {
        "version": 1,
        "name": "offline media",
        "camera": {
            "position": [radius * math.sin(angle), 1.5, radius * math.cos(angle)],
            "look_at": [0, 0.5, 0],
            "fov": 40,
        },
        "materials": {
            "floor": {"albedo": [0.3 + 0.4 * p[0], 0.3 + 0.4 * p[1], 0.3 + 0.4 * p[2]], "roughness": 0.9},
            "metal": {
                "albedo": [0.5 + 0.5 * p[3], 0.5 + 0.5 * p[4], 0.5 + 0.5 * p[5]],
                "metallic": 1,
                "roughness": 0.2,
            },
            "paint": {"albedo": [p[6], p[7], p[8]], "roughness": 0.5},
        },
        "objects": [
            {"type": "plane", "material": "floor"},
            {"type": "sphere", "radius": 0.5, "material": "metal", "transform": {"translate": [-0.7, 0.5, 0]}},
            {
                "type": "torus",
                "major_radius": 0.4,
                "minor_radius": 0.12,
                "material": "paint",
                "transform": {"translate": [0.7, 0.4, 0], "rotate": [90 * p[9], 0, 0]},
            },
        ],
        "lights": [{"type": "point", "position": [2 * p[10] - 1, 3, 2], "intensity": 15}],
        "render": {"width": width, "height": height, "samples": samples, "background": [0.05, 0.06, 0.1], "seed": 7},
    }


RENDERER = "Taichi path tracer (compute.render)"
PROCEDURAL = "procedural picture (Taichi is not installed for this Python)"


def procedural(prompt: str, *, width: int, height: int, angle: float = 0.0) -> np.ndarray:
    """Return a picture drawn with NumPy alone: a prompt-coloured gradient and a disc that moves with ``angle``."""
    p = _palette(prompt)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    top, bottom = np.array(p[0:3]) * 255, np.array(p[3:6]) * 255
    t = (y / max(1, height - 1))[..., None]
    pixels = top * (1 - t) + bottom * t
    cx, cy = width * (0.5 + 0.25 * math.sin(angle)), height * (0.55 + 0.1 * math.cos(angle))
    disc = (x - cx) ** 2 + (y - cy) ** 2 <= (min(width, height) * (0.15 + 0.1 * p[9])) ** 2
    pixels[disc] = np.array(p[6:9]) * 200 + 55
    return pixels.clip(0, 255).astype(np.uint8)


def _render(prompt: str, *, width: int, height: int, angle: float = 0.0) -> tuple[np.ndarray, str]:
    """Return (pixels, generator): the renderer's picture, or the procedural one where Taichi is missing (the
    container image's Python has no Taichi build)."""
    from compute.render import render_scene

    try:
        return render_scene(scene_for(prompt, width=width, height=height, angle=angle)).image, RENDERER
    except ImportError:
        return procedural(prompt, width=width, height=height, angle=angle), PROCEDURAL


def image(*, prompt: str, width: int, height: int, n: int = 1) -> MediaResult:
    """Render ``n`` PNG images of ``prompt`` (each from its own camera angle) with the Taichi renderer."""
    from compute.render import encode_png

    rendered = [_render(prompt, width=width, height=height, angle=0.4 * i) for i in range(n)]
    return MediaResult(
        files=[(f"image-{i + 1}.png", "image/png", encode_png(pixels)) for i, (pixels, _g) in enumerate(rendered)],
        units=n,
        source=LABEL,
        detail={"generator": f"{rendered[0][1]}, offline"},
    )


def encode_mp4(frames: list[np.ndarray], *, fps: int) -> bytes:
    """Encode uint8 RGB frames (H, W, 3; even H and W) as an H.264 MP4 (yuv420p) with PyAV."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        for index, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def video(
    *, prompt: str, width: int, height: int, seconds: int, fps: int, on_frame: Callable[[int, int], None] | None = None
) -> MediaResult:
    """Render ``seconds * fps`` frames of ``prompt`` around an orbiting camera and encode them to MP4.

    ``on_frame(done, total)`` is called after each frame (progress; it may raise to stop the render).
    """
    total = seconds * fps
    frames, generator = [], RENDERER
    for index in range(total):
        pixels, generator = _render(prompt, width=width, height=height, angle=2 * math.pi * index / total)
        frames.append(pixels)
        if on_frame is not None:
            on_frame(index + 1, total)
    content = encode_mp4(frames, fps=fps)
    return MediaResult(
        files=[("video.mp4", "video/mp4", content)],
        units=media_duration_s(content),
        source=LABEL,
        detail={"generator": f"{generator}, {total} frames at {fps} fps, H.264 by PyAV, offline"},
    )


def speech(*, text: str, voice: str) -> MediaResult:
    """Speak ``text`` with espeak-ng into a WAV file (``voice`` is an OpenAI voice name, mapped to espeak's)."""
    binary = shutil.which(ESPEAK)
    if binary is None:
        raise MediaFault(
            "espeak-ng is not installed; offline speech needs it (`apt-get install espeak-ng`, or `make install`).",
            code="offline_unavailable",
        )
    try:
        done = subprocess.run(
            [binary, "--stdout", "-v", VOICES.get(voice, "en-us"), "--", text],
            capture_output=True,
            timeout=ESPEAK_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise MediaFault(f"espeak-ng took longer than {ESPEAK_TIMEOUT_S} s.", code="timeout") from None
    if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
        raise MediaFault(f"espeak-ng failed: {done.stderr.decode(errors='replace')[:300]}", code="provider_error")
    content = done.stdout
    # espeak-ng writes to a pipe, so it cannot seek back to fill in the RIFF sizes: fix them here.
    content = _wav_sizes_fixed(content)
    return MediaResult(
        files=[("speech.wav", "audio/wav", content)],
        units=media_duration_s(content),
        source=LABEL,
        detail={"generator": f"espeak-ng voice {VOICES.get(voice, 'en-us')}, offline"},
    )


def _wav_sizes_fixed(content: bytes) -> bytes:
    """Return the WAV with its RIFF size and its data chunk size set from the bytes actually there."""
    data = bytearray(content)
    data[4:8] = (len(data) - 8).to_bytes(4, "little")
    position = 12
    while position + 8 <= len(data):
        chunk, size = bytes(data[position : position + 4]), int.from_bytes(data[position + 4 : position + 8], "little")
        if chunk == b"data":
            data[position + 4 : position + 8] = (len(data) - position - 8).to_bytes(4, "little")
            break
        position += 8 + size
    return bytes(data)
