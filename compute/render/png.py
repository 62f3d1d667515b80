"""A small PNG encoder and decoder (zlib + struct, no Pillow) for 8-bit greyscale, RGB and RGBA images.

`encode_png` picks a filter per row by the usual minimum-sum-of-absolute-differences heuristic (all five
filters are computed vectorised from the original bytes); `decode_png` reads what `encode_png` writes (and
any other 8-bit, non-interlaced, non-palette PNG), checking every chunk's CRC.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)
_CHANNELS = {v: k for k, v in _COLOR_TYPES.items()}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _paeth(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Return the Paeth predictor of left a, up b, upper-left c (int16 arrays)."""
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def _filtered(rows: np.ndarray, bpp: int) -> bytes:
    """Return the IDAT payload before compression: each row prefixed by its filter type, best filter per row."""
    x = rows.astype(np.int16)
    left = np.zeros_like(x)
    left[:, bpp:] = x[:, :-bpp]
    up = np.zeros_like(x)
    up[1:] = x[:-1]
    upleft = np.zeros_like(x)
    upleft[1:, bpp:] = x[:-1, :-bpp]
    candidates = np.stack([x, x - left, x - up, x - ((left + up) >> 1), x - _paeth(left, up, upleft)]).astype(
        np.uint8
    )  # wraps modulo 256, as PNG filters do
    # Heuristic from the PNG spec: treat filtered bytes as signed and pick the smallest sum of magnitudes.
    cost = np.abs(candidates.view(np.int8).astype(np.int32)).sum(axis=2)
    choice = cost.argmin(axis=0)
    best = candidates[choice, np.arange(len(rows))]
    return np.concatenate([choice.astype(np.uint8)[:, None], best], axis=1).tobytes()


def encode_png(image: np.ndarray, *, level: int = 6) -> bytes:
    """Return PNG bytes for a uint8 image shaped (H, W) grey, or (H, W, C) with C = 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA."""
    pixels = np.asarray(image)
    if pixels.dtype != np.uint8:
        raise ValueError(f"a PNG image must be uint8, got {pixels.dtype}")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in _COLOR_TYPES or pixels.shape[0] < 1 or pixels.shape[1] < 1:
        raise ValueError(f"a PNG image is shaped (H, W) or (H, W, 1-4) with H, W >= 1, got {pixels.shape}")
    height, width, channels = pixels.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    payload = _filtered(pixels.reshape(height, width * channels), channels)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(payload, level)) + _chunk(b"IEND", b"")


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write the uint8 image (see `encode_png`) to path as a PNG; return the path."""
    path = Path(path)
    path.write_bytes(encode_png(image))
    return path


def decode_png(data: bytes) -> np.ndarray:
    """Return the pixels of an 8-bit, non-interlaced grey/grey+alpha/RGB/RGBA PNG as uint8 (H, W, C).

    Raises ValueError on a bad signature, a chunk whose CRC does not match, or a format outside that set.
    """
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG file (bad signature)")
    offset = len(SIGNATURE)
    header: tuple[int, ...] | None = None
    compressed = bytearray()
    while offset < len(data):
        if offset + 8 > len(data):
            raise ValueError("truncated PNG chunk header")
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if len(body) != length or offset + 12 + length > len(data):
            raise ValueError(f"truncated PNG chunk {kind!r}")
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError(f"PNG chunk {kind!r} fails its CRC check")
        offset += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG has no IHDR chunk")
    width, height, depth, color_type, _, _, interlace = header
    if depth != 8 or color_type not in _CHANNELS or interlace != 0:
        raise ValueError(f"unsupported PNG: bit depth {depth}, colour type {color_type}, interlace {interlace}")
    channels = _CHANNELS[color_type]
    stride = width * channels
    raw = zlib.decompress(bytes(compressed))
    if len(raw) != height * (stride + 1):
        raise ValueError(f"PNG image data holds {len(raw)} bytes, expected {height * (stride + 1)}")
    out = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 2:
            row = (line + previous) & 0xFF
        elif kind in (1, 3, 4):  # these depend on the reconstructed left neighbour: byte by byte
            row = np.zeros(stride, dtype=np.int32)
            for i in range(stride):
                a = int(row[i - channels]) if i >= channels else 0
                b = int(previous[i])
                c = int(previous[i - channels]) if i >= channels else 0
                if kind == 1:
                    predictor = a
                elif kind == 3:
                    predictor = (a + b) >> 1
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (int(line[i]) + predictor) & 0xFF
        else:
            raise ValueError(f"PNG row {y} has unknown filter type {kind}")
        out[y] = row
        previous = row
    return out.reshape(height, width, channels)


def read_png(path: str | Path) -> np.ndarray:
    """Return the pixels of the PNG file at path (see `decode_png`)."""
    return decode_png(Path(path).read_bytes())
