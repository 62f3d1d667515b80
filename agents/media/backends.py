"""Choose and call the backend of a media mission: OpenAI, offline (renderer, PyAV, espeak-ng), Livepeer or local.

The mission's ``provider`` (fixed when it was created) says which: ``openai`` and ``livepeer`` call the network
with the keys in settings; ``offline`` and ``local`` never do.

Music: Suno has no public API, so DreamNet ships no music kind. :class:`MusicBackend` is the adapter point for
a Suno-compatible endpoint an operator runs or buys access to: implement it and register a ``music`` kind the
way :mod:`agents.media.runners` registers the others (docs/media.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from django.conf import settings

from agents.media import offline
from agents.media.base import MediaFault, MediaResult


class MusicBackend(Protocol):
    """What a music backend answers: a song for a prompt as audio bytes, priced per second like speech."""

    def music(self, *, prompt: str, seconds: int, instrumental: bool) -> MediaResult: ...


def _openai():
    from agents.media.openai_media import OpenAIMedia

    if not settings.OPENAI_API_KEY:
        raise MediaFault("The openai media provider needs OPENAI_API_KEY.", code="provider_error")
    return OpenAIMedia(
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL,
        timeout_s=settings.MEDIA_TIMEOUT_S,
        max_retries=settings.LLM_MAX_RETRIES,
    )


def _size(size: str) -> tuple[int, int]:
    width, height = size.split("x")
    return int(width), int(height)


def produce(*, mission, kind: str, on_progress: Callable[[int], None]) -> MediaResult:
    """Make the mission's one media call and return what it produced (MediaFault when it produced nothing)."""
    data = mission.input
    if kind == "transcode":
        return _transcode(mission, on_progress)
    if mission.provider == "offline":
        if kind == "image":
            width, height = _size(data["size"])
            return offline.image(prompt=data["prompt"], width=width, height=height, n=data["n"])
        if kind == "video":
            width, height = _size(data["size"])
            fps = settings.MEDIA_OFFLINE_FPS
            return offline.video(
                prompt=data["prompt"], width=width, height=height, seconds=data["seconds"], fps=fps,
                on_frame=lambda done, total: on_progress(done * 100 // total),
            )  # fmt: skip
        return offline.speech(text=data["text"], voice=data["voice"])
    backend = _openai()
    if kind == "image":
        return backend.image(model=mission.model, prompt=data["prompt"], size=data["size"], n=data["n"])
    if kind == "video":
        return backend.video(
            model=mission.model, prompt=data["prompt"], size=data["size"], seconds=data["seconds"],
            poll_s=settings.MEDIA_VIDEO_POLL_S, max_wait_s=settings.MEDIA_VIDEO_MAX_WAIT_S, on_progress=on_progress,
        )  # fmt: skip
    return backend.speech(model=mission.model, text=data["text"], voice=data["voice"])


def _transcode(mission, on_progress: Callable[[int], None]) -> MediaResult:
    from decimal import Decimal

    from agents.media.base import transcode_local
    from mesh.models import Artifact
    from mesh.services import artifact_read

    artifact = Artifact.objects.filter(blake3=mission.input["source"]).first()
    if artifact is None:
        raise MediaFault("The source artifact is no longer stored.", code="unsupported")
    content = artifact_read(artifact)
    if mission.provider == "livepeer":
        from agents.media.livepeer import SOURCE, LivepeerTranscoder

        if not settings.LIVEPEER_API_KEY:
            raise MediaFault("Livepeer transcodes need LIVEPEER_API_KEY.", code="provider_error")
        transcoder = LivepeerTranscoder(
            api_key=settings.LIVEPEER_API_KEY, base_url=settings.LIVEPEER_API_URL,
            timeout_s=settings.MEDIA_TIMEOUT_S, poll_s=max(0.05, settings.MEDIA_VIDEO_POLL_S / 2),
        )  # fmt: skip
        outputs = transcoder.transcode(
            name=artifact.name, content=content, max_wait_s=settings.MEDIA_VIDEO_MAX_WAIT_S, on_progress=on_progress
        )
        source = SOURCE
    else:
        outputs = transcode_local(content)
        source = "local"
    seconds = Decimal(mission.input["duration_s"]).to_integral_value(rounding="ROUND_CEILING")
    return MediaResult(
        files=[(f"{r.name}.mp4", "video/mp4", body) for r, body in outputs],
        units=seconds * len(outputs),
        source=source,
        detail={"renditions": [r.name for r, _body in outputs]},
    )
