"""Fabric's post-processing in NumPy: bloom, exposure, tone map and sRGB encoding of a linear HDR image.

hdr --bloom--> + strength * blur(light above threshold) --exposure--> * exposure
    --tone map--> ACES (Narkowicz 2015) or clamp --sRGB--> uint8
"""

from __future__ import annotations

import math

import numpy as np

from compute.render.loom import PostSettings

_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)  # Rec. 709 luminance weights


def _box_sizes(sigma: float, passes: int = 3) -> list[int]:
    """Return odd box widths whose `passes` successive box blurs approximate a Gaussian of `sigma` (Kovesi 2010)."""
    ideal = math.sqrt(12 * sigma * sigma / passes + 1)
    low = int(ideal) - (int(ideal) % 2 == 0)
    high = low + 2
    m = round((12 * sigma * sigma - passes * low * low - 4 * passes * low - 3 * passes) / (-4 * low - 4))
    return [low if i < m else high for i in range(passes)]


def _box_blur(image: np.ndarray, width: int, axis: int) -> np.ndarray:
    """Return the mean over a centred window of `width` (odd) along axis, edges extended, via a prefix sum."""
    if width <= 1:
        return image
    radius = width // 2
    pad = [(0, 0)] * image.ndim
    pad[axis] = (radius + 1, radius)
    padded = np.pad(image, pad, mode="edge")
    sums = np.cumsum(padded, axis=axis, dtype=np.float64)
    n = image.shape[axis]
    upper = np.take(sums, np.arange(width, width + n), axis=axis)
    lower = np.take(sums, np.arange(0, n), axis=axis)
    return ((upper - lower) / width).astype(image.dtype)


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Return the image (H, W, C) blurred by an approximate Gaussian of `sigma` pixels: separable box passes."""
    out = image
    for width in _box_sizes(sigma):
        out = _box_blur(_box_blur(out, width, 0), width, 1)
    return out


def bloom(hdr: np.ndarray, *, threshold: float, strength: float, radius: float) -> np.ndarray:
    """Return hdr plus `strength` times a blur of the light above `threshold` luminance.

    The part of each pixel above the threshold keeps the pixel's colour; the blur's standard deviation is
    `radius` times the image height. Strength 0 returns hdr unchanged. Blurring conserves the extracted
    energy away from the borders.
    """
    if strength <= 0.0:
        return hdr
    luminance = hdr @ _LUMA
    excess = np.where(luminance > threshold, (luminance - threshold) / np.maximum(luminance, 1e-12), 0.0)
    bright = (hdr * excess[..., None]).astype(np.float32)
    sigma = max(radius * hdr.shape[0], 0.5)
    return hdr + np.float32(strength) * blur(bright, sigma)


def aces(x: np.ndarray) -> np.ndarray:
    """Return Narkowicz's fit of the ACES filmic curve, clamped to [0, 1]."""
    return np.clip((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), 0.0, 1.0)


def srgb8(linear: np.ndarray) -> np.ndarray:
    """Return linear values in [0, 1] encoded with the sRGB transfer function as uint8 (rounded)."""
    x = np.clip(linear, 0.0, 1.0)
    encoded = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.round(encoded * 255.0).astype(np.uint8)


def finish(hdr: np.ndarray, post: PostSettings) -> np.ndarray:
    """Return the displayable uint8 RGB image for a linear HDR image (H, W, 3): bloom, exposure, tone map, sRGB."""
    x = bloom(hdr, threshold=post.bloom_threshold, strength=post.bloom_strength, radius=post.bloom_radius)
    x = x * np.float32(post.exposure)
    x = aces(x) if post.tone_map == "aces" else np.clip(x, 0.0, 1.0)
    return srgb8(x)
