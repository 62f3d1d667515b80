"""The OpenAI media backend through the official SDK: Images (``images.generate``), text-to-speech
(``audio.speech.create``) and video (``videos.create``, ``videos.retrieve``, ``videos.download_content``).

Pure module (no Django): the caller passes the key, base URL and timeouts. Every answer is checked before it is
trusted: an image must decode as PNG, speech and video must decode with PyAV. Faults come back as MediaFault:
``refused`` (the provider's safety system refused the prompt), ``unsupported`` (a size, duration or voice the
model does not take), ``timeout``, ``malformed`` (an answer that is not what the API documents), and
``provider_error`` (anything else the API said).
"""

from __future__ import annotations

import base64
import binascii
import time
import warnings
from collections.abc import Callable
from decimal import Decimal

import openai

from agents.media.base import MediaFault, MediaResult, billed_seconds, media_info, report_accepted

SOURCE = "openai"
_REFUSAL_CODES = {"content_policy_violation", "moderation_blocked", "content_filter", "safety_violation"}


def _fault(exc: Exception) -> MediaFault:
    """Map an SDK exception to a MediaFault with a reason a person can act on."""
    if isinstance(exc, openai.APITimeoutError):
        return MediaFault("The provider did not answer in time; nothing was produced.", code="timeout")
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        error = body.get("error") if isinstance(body.get("error"), dict) else body
        code = str(error.get("code") or "")
        message = str(error.get("message") or exc.message)[:500]
        if code in _REFUSAL_CODES:
            return MediaFault(f"The provider refused the prompt: {message}", code="refused")
        if exc.status_code == 400 and error.get("param") in ("size", "seconds", "voice", "n", "model"):
            return MediaFault(f"The provider does not support this request: {message}", code="unsupported")
        return MediaFault(f"The provider answered {exc.status_code}: {message}", code="provider_error")
    if isinstance(exc, openai.APIConnectionError):
        return MediaFault(f"The provider cannot be reached: {exc}", code="provider_error")
    return MediaFault(f"The provider's answer is malformed: {type(exc).__name__}: {exc}", code="malformed")


class OpenAIMedia:
    def __init__(self, *, api_key: str, base_url: str = "", timeout_s: float = 120, max_retries: int = 0) -> None:
        self.client = openai.OpenAI(
            api_key=api_key, base_url=base_url or None, timeout=timeout_s, max_retries=max_retries
        )

    def image(self, *, model: str, prompt: str, size: str, n: int = 1) -> MediaResult:
        """Generate ``n`` images of ``size``; each is returned as PNG (gpt-image models answer in base64)."""
        from compute.render import decode_png

        try:
            response = self.client.images.generate(model=model, prompt=prompt, size=size, n=n)
        except Exception as exc:
            raise _fault(exc) from None
        files = []
        for index, item in enumerate(getattr(response, "data", None) or []):
            encoded = getattr(item, "b64_json", None)
            if not isinstance(encoded, str) or not encoded:
                raise MediaFault("The provider's image answer holds no base64 image data.", code="malformed")
            try:
                png = base64.b64decode(encoded, validate=True)
                decode_png(png)
            except (binascii.Error, ValueError) as exc:
                raise MediaFault(f"The provider's image is not a readable PNG: {exc}", code="malformed") from None
            files.append((f"image-{index + 1}.png", "image/png", png))
        if not files:
            raise MediaFault("The provider's image answer holds no images.", code="malformed")
        revised = [getattr(item, "revised_prompt", None) for item in response.data]
        return MediaResult(files=files, units=len(files), source=SOURCE, detail={"revised_prompt": revised[0] or ""})

    def speech(self, *, model: str, text: str, voice: str) -> MediaResult:
        """Speak ``text`` as WAV; the priced units are the audio's seconds, rounded up."""
        try:
            response = self.client.audio.speech.create(model=model, voice=voice, input=text, response_format="wav")
            content = response.content
        except Exception as exc:
            raise _fault(exc) from None
        info = media_info(content)  # MediaFault("malformed") when it is not audio
        if not info.audio_rate:
            raise MediaFault("The provider's speech answer holds no audio.", code="malformed")
        return MediaResult(
            files=[("speech.wav", "audio/wav", content)], units=billed_seconds(info.duration_s), source=SOURCE
        )

    def video(
        self,
        *,
        model: str,
        prompt: str,
        size: str,
        seconds: int,
        poll_s: float,
        max_wait_s: float,
        on_progress: Callable[[int], None] | None = None,
    ) -> MediaResult:
        """Create a video job, poll it until it completes (reporting its progress), and download the MP4.

        A job the provider created is billed by the provider even when this side stops waiting, so a wait past
        ``max_wait_s`` is a ``timeout`` fault with ``charged=True``; a job the provider failed costs nothing.
        """
        with warnings.catch_warnings():  # the SDK marks the Sora endpoints deprecated; they are the video API
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                job = self.client.videos.create(model=model, prompt=prompt, size=size, seconds=str(seconds))
            except Exception as exc:
                raise _fault(exc) from None
            started = time.monotonic()
            while job.status in ("queued", "in_progress"):
                report_accepted(on_progress, int(job.progress or 0), f"the video job {job.id}")
                if time.monotonic() - started > max_wait_s:
                    raise MediaFault(
                        f"The video job {job.id} did not finish within {max_wait_s:.0f} s "
                        "(DREAMNET_MEDIA_VIDEO_MAX_WAIT_S); the provider may still bill it.",
                        code="timeout",
                        charged=True,
                    )
                time.sleep(poll_s)
                try:
                    job = self.client.videos.retrieve(job.id)
                except Exception as exc:
                    fault = _fault(exc)
                    raise MediaFault(str(fault), code=fault.code, charged=True) from None
            if job.status != "completed":
                error = job.error
                code = str(getattr(error, "code", "") or "")
                message = str(getattr(error, "message", "") or f"the job ended {job.status}")
                if code in _REFUSAL_CODES:
                    raise MediaFault(f"The provider refused the prompt: {message}", code="refused")
                raise MediaFault(f"The provider's video job failed: {message}", code="provider_error")
            try:
                content = self.client.videos.download_content(job.id, variant="video").content
            except Exception as exc:
                fault = _fault(exc)
                raise MediaFault(str(fault), code=fault.code, charged=True) from None
        info = media_info(content)
        if not info.video_frames:
            raise MediaFault("The provider's video holds no picture.", code="malformed", charged=True)
        return MediaResult(
            files=[("video.mp4", "video/mp4", content)],
            units=Decimal(int(job.seconds)),
            source=SOURCE,
            detail={"video_id": job.id, "duration_s": str(info.duration_s)},
        )
