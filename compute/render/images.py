"""PNG in and out for the renderer and the simulations, through Pillow.

Images are NumPy uint8 arrays shaped (H, W) grey or (H, W, C) with C = 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; decoding
always returns (H, W, C).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}  # channels -> Pillow mode
_CHANNELS = {mode: channels for channels, mode in _MODES.items()}


def encode_png(image: np.ndarray, *, level: int = 6) -> bytes:
    """Return PNG bytes (zlib level ``level``) for a uint8 image shaped (H, W) or (H, W, 1-4)."""
    pixels = np.asarray(image)
    if pixels.dtype != np.uint8:
        raise ValueError(f"a PNG image must be uint8, got {pixels.dtype}")
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in _MODES) or 0 in pixels.shape[:2]:
        raise ValueError(f"a PNG image is shaped (H, W) or (H, W, 1-4) with H, W >= 1, got {np.shape(image)}")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG", compress_level=level)
    return buffer.getvalue()


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write the uint8 image (see `encode_png`) to path as a PNG; return the path."""
    path = Path(path)
    path.write_bytes(encode_png(image))
    return path


def decode_png(data: bytes) -> np.ndarray:
    """Return the pixels of a PNG as uint8 (H, W, C): grey, grey+alpha, RGB or RGBA; a palette image as RGB(A).

    Raises ValueError for data that is not a whole, intact PNG (bad signature, a chunk failing its CRC check,
    truncation) or that holds more than 8 bits per sample.
    """
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as checked:
            checked.verify()  # every chunk's CRC, before any pixel is decoded
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            image.load()
            if image.mode in ("1", "P", "PA"):
                image = image.convert("RGBA" if "transparency" in image.info or image.mode == "PA" else "RGB")
            if image.mode not in _CHANNELS:
                raise ValueError(f"unsupported PNG: mode {image.mode} (8-bit grey, grey+alpha, RGB or RGBA only)")
            pixels = np.asarray(image, dtype=np.uint8)
    # Pillow reads a corrupted chunk type as text, so a flipped bit there is a UnicodeDecodeError.
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a readable PNG (corrupt, truncated or another format): {exc}") from exc
    return pixels.reshape(*pixels.shape[:2], _CHANNELS[image.mode])


def read_png(path: str | Path) -> np.ndarray:
    """Return the pixels of the PNG file at path (see `decode_png`)."""
    return decode_png(Path(path).read_bytes())
