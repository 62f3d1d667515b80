"""/api/media/: image, video, speech and transcode missions, and attaching a generated image to a product.

API key scope ``missions`` (media missions are missions, under the same budget). Each write queues one mission
(202) whose worst case was reserved-checked against the month's budget: 409 ``over_budget`` or
``mission_budget_too_small`` when it cannot fit, 422 for an unsupported size, duration or voice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from agents.media.services import KINDS, media_attach_to_product, media_missions, media_request
from agents.models import Mission
from dreamnet.ninja import AUTH_ERRORS, ApiError, ErrorOut, UsdAmount, require_scope

router = Router(tags=["media"], auth=require_scope("missions"))
ERRORS = {404: ErrorOut, 409: ErrorOut, 422: ErrorOut, **AUTH_ERRORS}


class MediaFileOut(Schema):
    blake3: str
    name: str
    media_type: str
    size: int


class MediaMissionOut(Schema):
    id: int
    kind: str
    status: str
    stop_reason: str
    error: str
    provider: str
    model: str
    progress: int
    input: dict
    forecast_usd: Decimal
    cost_usd: Decimal
    files: list[MediaFileOut]
    receipt_index: int | None
    created_at: datetime
    finished_at: datetime | None


def _out(mission: Mission) -> dict:
    return {
        "id": mission.pk, "kind": mission.kind, "status": mission.status, "stop_reason": mission.stop_reason,
        "error": mission.error, "provider": mission.provider, "model": mission.model, "progress": mission.progress,
        "input": mission.input, "forecast_usd": mission.forecast_usd, "cost_usd": mission.cost_usd,
        "files": (mission.output or {}).get("artifacts") or [],
        "receipt_index": mission.receipt.log_index if mission.receipt_id else None,
        "created_at": mission.created_at, "finished_at": mission.finished_at,
    }  # fmt: skip


def _via(request: HttpRequest) -> str:
    return f"api:{request.api_key.name}"


class ImageIn(Schema):
    prompt: str = Field(description="What the picture shows.")
    size: str = Field("", description="openai: 1024x1024, 1536x1024, 1024x1536; offline: 256x256, 64x64 ...")
    n: int = Field(1, description="Images to make, 1 to 4 (priced per image).")
    budget_usd: UsdAmount | None = Field(None, description="Optional cap on this mission's spend, USD.")


@router.post("/images", response={202: MediaMissionOut, **ERRORS}, summary="Generate images")
def image_create(request: HttpRequest, body: ImageIn):
    """Queue an `image` mission (OpenAI Images, or the offline Taichi renderer, labelled `offline`)."""
    data = {"prompt": body.prompt, "size": body.size, "n": body.n}
    mission = media_request(kind="image", data=data, via=_via(request), budget_usd=body.budget_usd)
    return Status(202, _out(mission))


class VideoIn(Schema):
    prompt: str = Field(description="What the clip shows.")
    size: str = Field("", description="openai: 1280x720, 720x1280, 1792x1024, 1024x1792; offline: 128x72 ...")
    seconds: int | None = Field(None, description="openai: 4, 8 or 12; offline: 1 to 4 (priced per second).")
    budget_usd: UsdAmount | None = Field(None, description="Optional cap on this mission's spend, USD.")


@router.post("/videos", response={202: MediaMissionOut, **ERRORS}, summary="Generate a video")
def video_create(request: HttpRequest, body: VideoIn):
    """Queue a `video` mission (OpenAI's video API, or offline frames by the renderer encoded to MP4)."""
    data = {"prompt": body.prompt, "size": body.size, "seconds": body.seconds}
    mission = media_request(kind="video", data=data, via=_via(request), budget_usd=body.budget_usd)
    return Status(202, _out(mission))


class SpeechIn(Schema):
    text: str = Field(description="What to say (at most 4096 characters).")
    voice: str = Field("", description="alloy, ash, ballad, coral, echo, fable, nova, onyx, sage, shimmer, verse.")
    budget_usd: UsdAmount | None = Field(None, description="Optional cap on this mission's spend, USD.")


@router.post("/speech", response={202: MediaMissionOut, **ERRORS}, summary="Speak a text")
def speech_create(request: HttpRequest, body: SpeechIn):
    """Queue a `speech` mission (OpenAI text-to-speech, or espeak-ng offline), priced per second of audio."""
    data = {"text": body.text, "voice": body.voice}
    mission = media_request(kind="speech", data=data, via=_via(request), budget_usd=body.budget_usd)
    return Status(202, _out(mission))


class TranscodeIn(Schema):
    source: str = Field(description="BLAKE3 digest of a stored video artifact (a video mission's file).")
    budget_usd: UsdAmount | None = Field(None, description="Optional cap on this mission's spend, USD.")


@router.post("/transcodes", response={202: MediaMissionOut, **ERRORS}, summary="Transcode a video")
def transcode_create(request: HttpRequest, body: TranscodeIn):
    """Queue a `transcode` mission: Livepeer Studio with LIVEPEER_API_KEY, else PyAV on this node (360p, 240p)."""
    mission = media_request(
        kind="transcode", data={"source": body.source}, via=_via(request), budget_usd=body.budget_usd
    )
    return Status(202, _out(mission))


class ListQuery(Schema):
    kind: str | None = Field(None, description="image, video, speech or transcode; all when omitted.")
    limit: int = Field(50, ge=1, le=200)


@router.get("", response={200: list[MediaMissionOut], 422: ErrorOut, **AUTH_ERRORS}, summary="Media missions")
def media_list(request: HttpRequest, query: Query[ListQuery]):
    if query.kind and query.kind not in KINDS:
        raise ApiError(422, "unknown_kind", f"Kind is one of {', '.join(KINDS)}.")
    missions = media_missions(limit=200 if query.kind else query.limit)
    return [_out(m) for m in missions if not query.kind or m.kind == query.kind][: query.limit]


def _load(mission_id: int) -> Mission:
    return get_object_or_404(Mission.objects.select_related("agent", "receipt"), pk=mission_id, kind__in=KINDS)


@router.get("/{mission_id}", response={200: MediaMissionOut, 404: ErrorOut, **AUTH_ERRORS}, summary="One mission")
def media_detail(request: HttpRequest, mission_id: int):
    """A media mission with its progress and, once it succeeded, its files (fetch them from /api/mesh/artifacts)."""
    return _out(_load(mission_id))


class AttachIn(Schema):
    product: str = Field(description="SKU of the product whose page shows the image.")
    index: int = Field(0, ge=0, le=3, description="Which of the mission's images (0 = the first).")


class AttachOut(Schema):
    product: str
    image_blake3: str


@router.post("/{mission_id}/attach", response={200: AttachOut, **ERRORS}, summary="Attach an image to a product")
def media_attach(request: HttpRequest, mission_id: int, body: AttachIn):
    """Make image `index` of a succeeded image mission the picture on a product's page. 404 unknown product or
    image; 409 not a succeeded image mission."""
    product = media_attach_to_product(mission=_load(mission_id), sku=body.product, index=body.index)
    return {"product": product.sku, "image_blake3": product.image.blake3}
