"""The runner of the four media mission kinds: ``image``, ``video``, ``speech`` and ``transcode``.

Each kind is one provider call (step 1), priced by the media price table (:class:`agents.models.MediaPrice`,
per image or per second). The governor reserves the call's worst case (``units x price``) before it is made and
settles what it produced after; a call that produced nothing (refused prompt, timeout, malformed answer, an
unsupported request) is settled at zero, unless the provider may have billed it anyway (a video job it
accepted), which is then counted at its reservation and said so. Outputs are content-addressed ``.dreamfile``
artifacts listed in ``mission.output["artifacts"]`` and in the mission's signed receipt.

The modules in :mod:`agents.media.runners` bind a kind to :class:`MediaKind` for :mod:`agents.kinds`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agents.errors import AgentsError
from agents.kinds import Forecast, Outcome, forecast_of
from agents.media.base import RENDITIONS, MediaFault, MediaResult, media_info
from agents.media.pricing import media_cost, media_worst_cost

MAX_PROMPT_CHARS = 4000
MAX_SPEECH_CHARS = 4096  # OpenAI's limit on one speech request's input
SPEECH_CHARS_PER_S = 8  # slower than any voice speaks: the reservation's bound on a text's seconds
MAX_IMAGES = 4
SIZES = {
    ("image", "openai"): ("1024x1024", "1536x1024", "1024x1536"),
    ("image", "offline"): ("256x256", "64x64", "128x128", "512x512"),
    ("video", "openai"): ("1280x720", "720x1280", "1792x1024", "1024x1792"),
    ("video", "offline"): ("128x72", "64x64", "256x144", "320x180"),
}
SECONDS = {"openai": (4, 8, 12), "offline": (1, 2, 3, 4)}
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse")
OFFLINE_MODELS = {"image": "offline-image", "video": "offline-video", "speech": "offline-speech"}
LOCAL_TRANSCODE = "local-transcode"
LIVEPEER = "livepeer"
STOP_REASONS = {"timeout": "timeout", "cancelled": "cancelled"}
PROGRESS_EVERY = 10  # percent between two mission.progress events


def _llm_provider() -> str:
    from agents.llm import provider_name_configured

    return provider_name_configured()


def _pick(value: Any, allowed: tuple, *, what: str, code: str, provider: str) -> Any:
    if value in (None, ""):
        return allowed[0]
    if value not in allowed:
        raise AgentsError(
            f"{what} {value!r} is not supported by the {provider} provider; use one of: "
            f"{', '.join(str(a) for a in allowed)}.",
            code=code,
        )
    return value


def _prompt(data: dict[str, Any], field: str = "prompt", limit: int = MAX_PROMPT_CHARS) -> str:
    text = " ".join(str(data.get(field) or "").split())
    if not text:
        raise AgentsError(f"A media mission needs a {field}: what should it show or say?", code="prompt_required")
    if len(text) > limit:
        raise AgentsError(f"The {field} is at most {limit} characters.", code="input_too_large")
    return text


def _int(value: Any, *, what: str, code: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise AgentsError(f"{what} must be a whole number.", code=code) from None


@dataclass(frozen=True)
class MediaKind:
    """One media kind's clean / forecast / run, as :mod:`agents.kinds` expects of a runner module."""

    kind: str

    # Which backend runs it and under which model (mission_create asks before it forecasts) ------------------

    def provider(self) -> str:
        if self.kind == "transcode":
            return LIVEPEER if settings.LIVEPEER_API_KEY else "local"
        return _llm_provider()

    def model(self, *, provider: str, requested: str | None = None) -> str:
        if self.kind == "transcode":
            return LIVEPEER if provider == LIVEPEER else LOCAL_TRANSCODE
        if provider == "offline":
            return OFFLINE_MODELS[self.kind]
        configured = {
            "image": settings.MEDIA_IMAGE_MODEL,
            "video": settings.MEDIA_VIDEO_MODEL,
            "speech": settings.MEDIA_SPEECH_MODEL,
        }
        return requested or configured[self.kind]

    # clean ---------------------------------------------------------------------------------------------------

    def clean(self, data: dict[str, Any]) -> dict[str, Any]:
        provider = self.provider()
        if self.kind == "image":
            n = _int(data.get("n"), what="The number of images", code="bad_count") or 1
            if not 1 <= n <= MAX_IMAGES:
                raise AgentsError(f"A mission makes 1 to {MAX_IMAGES} images.", code="bad_count")
            size = _pick(
                data.get("size"), SIZES[("image", provider)], what="Size", code="unsupported_size", provider=provider
            )
            return {"prompt": _prompt(data), "size": size, "n": n}
        if self.kind == "video":
            size = _pick(
                data.get("size"), SIZES[("video", provider)], what="Size", code="unsupported_size", provider=provider
            )
            seconds = _int(data.get("seconds"), what="The duration", code="unsupported_duration")
            seconds = _pick(
                seconds, SECONDS[provider], what="A duration of", code="unsupported_duration", provider=provider
            )
            return {"prompt": _prompt(data), "size": size, "seconds": seconds}
        if self.kind == "speech":
            voice = _pick(data.get("voice"), VOICES, what="Voice", code="unsupported_voice", provider=provider)
            return {"text": _prompt(data, "text", MAX_SPEECH_CHARS), "voice": voice}
        return self._clean_transcode(data)

    def _clean_transcode(self, data: dict[str, Any]) -> dict[str, Any]:
        from mesh.models import Artifact
        from mesh.services import artifact_read

        digest = str(data.get("source") or "").strip().lower()
        artifact = Artifact.objects.filter(blake3=digest).first() if digest else None
        if artifact is None:
            raise AgentsError(
                "A transcode needs `source`: the BLAKE3 digest of a stored video artifact (a video mission's output).",
                code="unknown_source",
            )
        if not artifact.media_type.startswith("video/"):
            raise AgentsError(f"Artifact {digest[:12]}… is {artifact.media_type}, not a video.", code="not_a_video")
        try:
            info = media_info(artifact_read(artifact))
        except MediaFault as fault:
            raise AgentsError(f"Artifact {digest[:12]}… cannot be decoded: {fault}", code="corrupt_file") from None
        if not info.video_frames:
            raise AgentsError(f"Artifact {digest[:12]}… holds no video stream.", code="not_a_video")
        return {"source": digest, "duration_s": str(info.duration_s), "renditions": [r.name for r in RENDITIONS]}

    # forecast ------------------------------------------------------------------------------------------------

    def worst_units(self, data: dict[str, Any]) -> Decimal:
        """Return the most units (images, or seconds) the call can be billed for."""
        if self.kind == "image":
            return Decimal(data["n"])
        if self.kind == "video":
            return Decimal(data["seconds"])
        if self.kind == "speech":
            return Decimal(math.ceil(len(data["text"]) / SPEECH_CHARS_PER_S) + 2)
        return Decimal(math.ceil(Decimal(data["duration_s"]))) * len(data["renditions"])

    def forecast(self, *, agent, data: dict[str, Any], model: str) -> Forecast:
        from agents.budget import media_price_for

        # The missions console's generic forecast passes its raw form data: clean it (idempotent on clean data).
        worst = media_worst_cost(units=self.worst_units(self.clean(data)), price=media_price_for(model))
        return forecast_of(model=model, calls=[worst])

    # run -----------------------------------------------------------------------------------------------------

    def run(self, *, mission, provider) -> Outcome:
        from agents.budget import budget_reserve_usd, media_price_for
        from agents.models import Mission
        from agents.services import mission_step_add
        from mesh.services import artifact_store

        step = mission.steps.filter(number=1).first()
        if step is None:  # not made yet (a resumed run whose step is stored skips the call)
            started = timezone.now()
            price = media_price_for(mission.model)
            units = self.worst_units(mission.input)
            worst = media_worst_cost(units=units, price=price)
            entry = budget_reserve_usd(
                mission=mission, model=mission.model, worst_usd=worst, note=f"{self.kind}: up to {units} {price.unit}"
            )  # BudgetRefused: the runner's caller stops the mission with reason `budget`, nothing reserved
            try:
                result = self._produce(mission)
                cost = media_cost(units=result.units, price=price)
                stored = [
                    artifact_store(content=content, name=f"mission-{mission.pk}-{name}", media_type=media_type)
                    for name, media_type, content in result.files
                ]
            except MediaFault as fault:
                spent = worst if fault.charged else Decimal(0)
                self._settle(mission, entry, spent, note=f"{fault.code}: {fault}")
                status = Mission.Status.CANCELLED if fault.code == "cancelled" else Mission.Status.FAILED
                reason = STOP_REASONS.get(fault.code, Mission.StopReason.ERROR)
                error = str(fault) + (f" Counted ${spent}: the provider may bill it." if spent else " Nothing spent.")
                return Outcome(status, reason, error, data={"media": {"kind": self.kind, "fault": fault.code}})
            except BaseException:
                # An unexpected failure after the call may have been made: a remote provider may bill it.
                remote = mission.provider not in ("offline", "local")
                self._settle(mission, entry, worst if remote else Decimal(0), note="unexpected error")
                raise
            self._settle(mission, entry, cost, note=f"{result.units} {price.unit}")
            artifacts = [
                {"blake3": a.blake3, "name": a.name, "media_type": a.media_type, "size": a.size} for a in stored
            ]
            output = {
                "artifacts": artifacts,
                "source": result.source,
                "units": str(result.units),
                "unit": price.unit,
                "detail": result.detail,
            }
            step = mission_step_add(
                mission=mission, number=1, summary=self._summary(result, cost), output=output, started=started,
                progress=99, cost_usd=cost,
            )  # fmt: skip
        output = step.output
        labelled = " (offline: generated locally, no provider called)" if output["source"] in ("offline",) else ""
        lines = [f"# {self.kind.title()} mission {mission.pk}{labelled}", ""]
        lines += [
            f"- {a['name']} ({a['media_type']}, {a['size']} bytes, blake3 {a['blake3']})" for a in output["artifacts"]
        ]
        data = {
            "media": {"kind": self.kind, "source": output["source"], "units": output["units"], "unit": output["unit"]},
            "artifacts": output["artifacts"],
        }
        return Outcome(Mission.Status.SUCCEEDED, Mission.StopReason.COMPLETED, "", "\n".join(lines) + "\n", data)

    def _settle(self, mission, entry, cost: Decimal, *, note: str) -> None:
        from agents.budget import budget_settle
        from agents.models import Mission

        with transaction.atomic():
            budget_settle(entry=entry, cost=cost, note=note)
            if cost:
                Mission.objects.filter(pk=mission.pk).update(cost_usd=F("cost_usd") + cost)

    def _summary(self, result: MediaResult, cost: Decimal) -> str:
        what = {"image": "image(s)", "video": "s of video", "speech": "s of speech", "transcode": "rendition(s)"}
        count = len(result.files) if self.kind in ("image", "transcode") else result.units
        return f"{count} {what[self.kind]} from {result.source}, ${cost}"

    def _produce(self, mission) -> MediaResult:
        from agents.media import backends

        return backends.produce(mission=mission, kind=self.kind, on_progress=_progress_reporter(mission))


def _progress_reporter(mission):
    """Return ``report(percent)``: moves the mission's progress (and renews its lease), publishes
    ``mission.progress`` every PROGRESS_EVERY percent, and raises MediaFault(``cancelled``) once an operator asked
    the mission to stop."""
    from datetime import timedelta

    from agents.models import Mission
    from agents.services import mission_cancel_requested
    from agents.services.common import mission_payload
    from mesh import publish_on_commit

    last = {"published": -PROGRESS_EVERY}

    def report(percent: int) -> None:
        if mission_cancel_requested(mission=mission):
            raise MediaFault("Cancelled by an operator.", code="cancelled")
        percent = max(0, min(98, int(percent)))
        Mission.objects.filter(pk=mission.pk).update(
            progress=percent,
            lease_until=timezone.now() + timedelta(seconds=settings.MISSION_LEASE_S),
            updated_at=timezone.now(),
        )
        if percent - last["published"] >= PROGRESS_EVERY:
            last["published"] = percent
            mission.progress = percent
            publish_on_commit("mission.progress", mission_payload(mission, progress=percent))

    return report
