"""The .dreamfile format: round trips, and one refusal per kind of corruption."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import blake3
import pytest
import zstandard

from mesh.dreamfile import DreamfileError, pack, unpack

CONTENT = b"Prime Source Direct spot sheet\n" * 200
CREATED = datetime(2025, 3, 1, 12, 30, 5, tzinfo=UTC)


def _header(content: bytes = CONTENT, payload: bytes = CONTENT, **overrides: Any) -> dict[str, Any]:
    header = {
        "name": "sheet.txt",
        "media_type": "text/plain",
        "size": len(content),
        "created": "2025-03-01T12:30:05Z",
        "blake3": blake3.blake3(content).hexdigest(),
        "payload_size": len(payload),
    }
    header.update(overrides)
    return header


def _forge(header: dict[str, Any] | bytes, payload: bytes = CONTENT, *, flags: int = 0, version: int = 1) -> bytes:
    """Build a file with a correct file digest, so only the defect under test is wrong."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    body = b"DRFL" + struct.pack(">BBI", version, flags, len(raw)) + raw + payload
    return body + blake3.blake3(body).digest()


@pytest.mark.parametrize("compression", ["none", "zstd"])
@pytest.mark.parametrize("content", [CONTENT, b""])
def test_it_round_trips(compression: str, content: bytes) -> None:
    data = pack(content, name="sheet.txt", media_type="text/plain", compression=compression, created=CREATED)
    header, unpacked = unpack(data)
    assert unpacked == content
    assert header["blake3"] == blake3.blake3(content).hexdigest()
    assert header["size"] == len(content)
    assert header["created"] == "2025-03-01T12:30:05Z"
    assert (header["name"], header["media_type"]) == ("sheet.txt", "text/plain")
    assert data[4:6] == bytes([1, 0 if compression == "none" else 1])


def test_zstd_shrinks_and_created_is_stored_in_utc() -> None:
    local = CREATED.astimezone(timezone(timedelta(hours=-5)))
    plain = pack(CONTENT, name="a", media_type="text/plain", created=local)
    packed = pack(CONTENT, name="a", media_type="text/plain", compression="zstd", created=local)
    assert len(packed) < len(plain) // 10
    assert unpack(packed)[0]["created"] == "2025-03-01T12:30:05Z"
    assert unpack(pack(b"x", name="a", media_type="text/plain"))[0]["created"].endswith("Z")


def test_pack_refuses_what_unpack_would_refuse() -> None:
    with pytest.raises(ValueError, match="compression must be 'none' or 'zstd'"):
        pack(CONTENT, name="a", media_type="text/plain", compression="gzip")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        pack(CONTENT, name="a", media_type="text/plain", created=datetime(2025, 1, 1))  # noqa: DTZ001
    with pytest.raises(DreamfileError, match="plain file name"):
        pack(CONTENT, name="../etc/passwd", media_type="text/plain")


GOOD = pack(CONTENT, name="sheet.txt", media_type="text/plain", created=CREATED)
HEADER_END = 10 + struct.unpack(">I", GOOD[6:10])[0]


def test_the_forge_helper_builds_a_valid_file() -> None:
    assert unpack(_forge(_header())) == (_header(), CONTENT)


def test_bad_magic() -> None:
    with pytest.raises(DreamfileError, match=r"not a \.dreamfile: magic is b'DRFX'"):
        unpack(b"DRFX" + GOOD[4:])


def test_unknown_version() -> None:
    with pytest.raises(DreamfileError, match=r"unsupported \.dreamfile version 2"):
        unpack(_forge(_header(), version=2))


@pytest.mark.parametrize(("flags", "reason"), [(0x04, "unknown flag bits 0x04"), (0x80, "0x80"), (2, "compression 2")])
def test_unknown_flags(flags: int, reason: str) -> None:
    with pytest.raises(DreamfileError, match=reason):
        unpack(_forge(_header(), flags=flags))


@pytest.mark.parametrize(
    ("cut", "reason"),
    [
        (5, "shorter than the 10-byte fixed header"),
        (HEADER_END - 1, "truncated header"),
        (HEADER_END + 10, "truncated payload: 10 of 6200 bytes"),
        (len(GOOD) - 1, "truncated digest: 31 of 32 bytes"),
    ],
)
def test_truncation(cut: int, reason: str) -> None:
    with pytest.raises(DreamfileError, match=reason):
        unpack(GOOD[:cut])


def test_every_truncation_is_refused() -> None:
    small = pack(b"tiny", name="t", media_type="text/plain", compression="zstd", created=CREATED)
    for cut in range(len(small)):
        with pytest.raises(DreamfileError):
            unpack(small[:cut])


def test_trailing_bytes() -> None:
    with pytest.raises(DreamfileError, match="3 trailing bytes after the file digest"):
        unpack(GOOD + b"\x00\x00\x00")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "header is not UTF-8 JSON"),
        (b'{"name": "\xff"}', "header is not UTF-8 JSON"),
        (b"[1, 2]", "must be a JSON object, got list"),
        (b'{"size": NaN}', "non-JSON number NaN"),
        (b'{"name": "a", "name": "b"}', "repeats field\\(s\\): name"),
    ],
)
def test_header_not_json(raw: bytes, reason: str) -> None:
    with pytest.raises(DreamfileError, match=reason):
        unpack(_forge(raw))


def test_header_too_long() -> None:
    with pytest.raises(DreamfileError, match="exceeds the 65536-byte limit"):
        unpack(b"DRFL\x01\x00" + struct.pack(">I", 1 << 20) + b"{}")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({k: v for k, v in _header().items() if k != "blake3"}, "missing field\\(s\\): blake3"),
        (_header(extra=1), "unknown field\\(s\\): extra"),
        (_header(size="6200"), "'size' must be int, got str"),
        (_header(size=True), "'size' must be int, got bool"),
        (_header(payload_size=6200.0), "'payload_size' must be int, got float"),
        (_header(name=7), "'name' must be str, got int"),
        (_header(name="a/b"), "must be a plain file name"),
        (_header(media_type="text"), "not a type/subtype"),
        (_header(size=-1), "must be >= 0"),
        (_header(blake3="AB" * 32), "64 lowercase hex digits"),
        (_header(created="2025-03-01T12:30:05"), "not an ISO 8601 UTC timestamp"),
        (_header(created="2025-03-01T12:30:05+01:00"), "not an ISO 8601 UTC timestamp"),
        (_header(created="yesterday"), "not an ISO 8601 UTC timestamp"),
    ],
)
def test_header_missing_or_mistyped_fields(header: dict[str, Any], reason: str) -> None:
    with pytest.raises(DreamfileError, match=reason):
        unpack(_forge(header))


@pytest.mark.parametrize("position", [0, 4, 6, HEADER_END - 2, HEADER_END, len(GOOD) - 40, len(GOOD) - 1])
def test_file_digest_mismatch(position: int) -> None:
    damaged = bytearray(GOOD)
    damaged[position] ^= 0x01
    with pytest.raises(DreamfileError):
        unpack(bytes(damaged))
    if position >= HEADER_END:  # payload and digest bytes are only covered by the file digest
        with pytest.raises(DreamfileError, match="file digest mismatch"):
            unpack(bytes(damaged))


def test_content_digest_mismatch() -> None:
    with pytest.raises(DreamfileError, match="content digest mismatch"):
        unpack(_forge(_header(blake3=blake3.blake3(b"other").hexdigest())))


def test_size_mismatch() -> None:
    with pytest.raises(DreamfileError, match="size mismatch: header says 6201 bytes, content is 6200"):
        unpack(_forge(_header(size=6201)))
    compressed = zstandard.ZstdCompressor().compress(CONTENT)
    with pytest.raises(DreamfileError, match="size mismatch: header says 6199 bytes, the zstd frame declares 6200"):
        unpack(_forge(_header(payload=compressed, size=6199), compressed, flags=1))


@pytest.mark.parametrize(
    "payload",
    [
        b"definitely not zstd",
        zstandard.ZstdCompressor().compress(CONTENT)[:-4],
        zstandard.ZstdCompressor().compress(CONTENT) + b"extra",
    ],
    ids=["garbage", "cut-frame", "bytes-after-frame"],
)
def test_decompression_failure(payload: bytes) -> None:
    with pytest.raises(DreamfileError, match="zstd payload does not decompress"):
        unpack(_forge(_header(payload=payload), payload, flags=1))


def test_it_refuses_to_inflate_past_the_limit() -> None:
    data = pack(CONTENT, name="a", media_type="text/plain", compression="zstd")
    with pytest.raises(DreamfileError, match="content size 6200 exceeds the 1000-byte limit"):
        unpack(data, max_size=1000)
