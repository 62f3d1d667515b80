"""Media writes: ask for a media mission, attach a generated image to a product; and the reads pages share."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User

from agents.errors import AgentsError
from agents.models import Mission
from agents.services import mission_create
from mesh.models import Artifact

AGENT = "media-studio"
KINDS = ("image", "video", "speech", "transcode")


def media_request(
    *, kind: str, data: dict[str, Any], by: User | None = None, via: str = "", budget_usd: Decimal | None = None
) -> Mission:
    """Create a media mission of ``kind`` for the Media Studio agent (queued after commit, or held for approval
    when its worst case is above DREAMNET_MISSION_APPROVAL_USD).

    Refuses (AgentsError) an unknown kind, a bad prompt, an unsupported size, duration or voice (422), an unpriced
    model (422) and a request whose worst case does not fit the month's budget or the mission cap (409).
    """
    if kind not in KINDS:
        raise AgentsError(f"Media kinds are {', '.join(KINDS)}; not {kind!r}.", code="unknown_kind")
    return mission_create(kind=kind, agent_slug=AGENT, data=data, by=by, via=via, budget_usd=budget_usd)


def media_missions(*, limit: int = 50):
    return Mission.objects.filter(kind__in=KINDS).select_related("agent", "receipt").order_by("-created_at")[:limit]


def media_artifacts(mission: Mission) -> list[dict[str, Any]]:
    """Return the media files of a finished mission (name, media type, size, blake3), in their order."""
    return list((mission.output or {}).get("artifacts") or [])


def media_mission_image(*, mission: Mission, index: int = 0) -> Artifact:
    """Return image ``index`` of a succeeded image mission, or raise AgentsError."""
    if mission.kind != Mission.Kind.IMAGE or mission.status != Mission.Status.SUCCEEDED:
        raise AgentsError(
            f"Mission {mission.pk} is a {mission.status} {mission.kind} mission; only a succeeded image mission's "
            "picture can be attached to a product.",
            code="not_an_image",
            status=409,
        )
    files = media_artifacts(mission)
    if not 0 <= index < len(files):
        raise AgentsError(f"Mission {mission.pk} made {len(files)} image(s); there is no image {index + 1}.",
                          code="unknown_image", status=404)  # fmt: skip
    return Artifact.objects.get(blake3=files[index]["blake3"])


def media_attach_to_product(*, mission: Mission, sku: str, index: int = 0, by: User | None = None):
    """Attach image ``index`` of the image mission to the product ``sku`` (its product-page picture)."""
    from commerce.services import product_image_set

    artifact = media_mission_image(mission=mission, index=index)
    return product_image_set(sku=sku, artifact=artifact, by=by)
