"""What every media backend shares: the result and fault types, probing media with PyAV, and local transcodes.

Pure module (no Django). A backend call returns a :class:`MediaResult` (the files it produced and how many
priced units: images, or seconds) or raises :class:`MediaFault` whose ``code`` says why (``refused``,
``timeout``, ``malformed``, ``unsupported``, ``provider_error``...) and whose ``charged`` says whether the
provider may have billed the call anyway (then the governor counts the reservation; otherwise nothing).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from typing import Any

import av


class MediaFault(Exception):
    """A media call that produced nothing usable; the message is for a person, the code for machines."""

    def __init__(self, message: str, *, code: str, charged: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.charged = charged


def report_accepted(on_progress, percent: int, job: str) -> None:
    """Report a remote job's progress; an operator's cancel (``on_progress`` raising ``cancelled``) after the
    provider accepted ``job`` is ``charged``: neither OpenAI's video API nor Livepeer Studio can cancel a job, so
    it runs to the end and is billed, and the governor must count it."""
    if on_progress is None:
        return
    try:
        on_progress(percent)
    except MediaFault as fault:
        if fault.code != "cancelled":
            raise
        raise MediaFault(
            f"Cancelled by an operator; {job} was already accepted and the provider has no way to cancel it, so "
            "it may still bill it.",
            code="cancelled",
            charged=True,
        ) from None


@dataclass(frozen=True)
class MediaResult:
    """What a call produced: ``files`` as (name, media type, bytes), ``units`` priced (images or seconds)."""

    files: list[tuple[str, str, bytes]]
    units: Decimal | int
    source: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendition:
    """A transcode target: the picture fits in width x height (never upscaled) at ``bitrate`` bits per second."""

    name: str
    width: int
    height: int
    bitrate: int


# The renditions of a transcode, the same from Livepeer Studio (its `profiles`) and from local PyAV.
RENDITIONS = (Rendition("360p", 640, 360, 900_000), Rendition("240p", 426, 240, 400_000))


@dataclass(frozen=True)
class MediaInfo:
    duration_s: Decimal
    width: int
    height: int
    video_frames: int
    audio_rate: int


def media_info(content: bytes) -> MediaInfo:
    """Decode ``content`` fully with PyAV and return its duration and streams; MediaFault(``malformed``) when it
    is not a readable media file."""
    try:
        with av.open(io.BytesIO(content)) as container:
            width = height = frames = rate = 0
            seconds = Fraction(0)
            video_stream = container.streams.video[0] if container.streams.video else None
            audio_stream = container.streams.audio[0] if container.streams.audio else None
            if video_stream is None and audio_stream is None:
                raise MediaFault("The file holds neither video nor audio.", code="malformed")
            for frame in container.decode(*(s for s in (video_stream, audio_stream) if s is not None)):
                end = Fraction(0)
                if isinstance(frame, av.VideoFrame):
                    width, height, frames = frame.width, frame.height, frames + 1
                    if frame.pts is not None and frame.time_base is not None:
                        rate_fps = video_stream.average_rate or video_stream.guessed_rate or 0
                        step = Fraction(1) / Fraction(rate_fps) if rate_fps else Fraction(0)
                        end = frame.pts * frame.time_base + step
                else:
                    rate = frame.sample_rate
                    if frame.pts is not None and frame.time_base is not None:
                        end = frame.pts * frame.time_base + Fraction(frame.samples, frame.sample_rate)
                    else:
                        end = seconds + Fraction(frame.samples, frame.sample_rate)
                seconds = max(seconds, end)
    except MediaFault:
        raise
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise MediaFault(f"The media file cannot be decoded: {exc}", code="malformed") from None
    if seconds <= 0:
        raise MediaFault("The media file decodes to nothing.", code="malformed")
    duration = (Decimal(seconds.numerator) / Decimal(seconds.denominator)).quantize(Decimal("0.001"))
    return MediaInfo(duration, width, height, frames, rate)


def media_duration_s(content: bytes) -> Decimal:
    """Return the duration of an audio or video file in seconds (3 decimals), decoded with PyAV."""
    return media_info(content).duration_s


def billed_seconds(duration: Decimal) -> Decimal:
    """Return the seconds a provider bills for ``duration``: whole seconds, rounded up."""
    return duration.to_integral_value(rounding=ROUND_CEILING)


def fit(width: int, height: int, rendition: Rendition) -> tuple[int, int]:
    """Return the even size that fits ``width`` x ``height`` inside ``rendition`` without upscaling."""
    scale = min(1.0, rendition.width / width, rendition.height / height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def transcode_local(content: bytes, renditions: tuple[Rendition, ...] = RENDITIONS) -> list[tuple[Rendition, bytes]]:
    """Transcode a video to each rendition (H.264 MP4, audio dropped) with PyAV; MediaFault when unreadable."""
    info = media_info(content)
    if not info.video_frames:
        raise MediaFault("The source has no video stream to transcode.", code="unsupported")
    outputs = []
    for rendition in renditions:
        width, height = fit(info.width, info.height, rendition)
        out = io.BytesIO()
        with av.open(io.BytesIO(content)) as source, av.open(out, mode="w", format="mp4") as target:
            src = source.streams.video[0]
            fps = src.average_rate or src.guessed_rate or Fraction(25)
            stream = target.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.bit_rate = rendition.bitrate
            stream.time_base = Fraction(1) / Fraction(fps)
            for index, frame in enumerate(source.decode(src)):
                scaled = frame.reformat(width=width, height=height, format="yuv420p")
                scaled.pts, scaled.time_base = index, stream.time_base
                for packet in stream.encode(scaled):
                    target.mux(packet)
            for packet in stream.encode():
                target.mux(packet)
        outputs.append((rendition, out.getvalue()))
    return outputs
