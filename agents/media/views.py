"""Media console pages: launch media missions and list them with previews, one mission with its players and live
progress, its files (served from the artifact store), and attaching a generated image to a product."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from agents.errors import AgentsError
from agents.media.forms import AttachForm, MediaForm
from agents.media.services import KINDS, media_artifacts, media_attach_to_product, media_missions, media_request
from agents.models import Mission
from dreamnet.errors import DomainError
from dreamnet.http import AuthenticatedHtmxRequest, operator_required
from mesh.models import Artifact
from mesh.services import artifact_read

MEDIA_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"


def _mission(mission_id: int) -> Mission:
    return get_object_or_404(
        Mission.objects.select_related("agent", "receipt", "artifact"), pk=mission_id, kind__in=KINDS
    )


@operator_required
def media_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """Launch a media mission (POST; its page opens) and list recent ones with previews."""
    form = MediaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mission = media_request(kind=form.cleaned_data["kind"], data=form.mission_data(), by=request.user,
                                    via="console")  # fmt: skip
        except AgentsError as exc:
            form.add_error(None, exc.detail)
        else:
            return redirect("agents:media-mission", mission_id=mission.pk)
    context = {"form": form, "missions": media_missions(limit=30)}
    return render(request, "agents/media/console.html", context, status=422 if request.method == "POST" else 200)


@operator_required
def media_page(request: AuthenticatedHtmxRequest, mission_id: int) -> HttpResponse:
    """One media mission: progress (polled while it runs), its players or previews, cost, receipt, attach form."""
    mission = _mission(mission_id)
    context = {"mission": mission, "files": media_artifacts(mission), "attach_form": AttachForm()}
    if request.htmx:
        return render(request, "agents/media/mission.html#media-status", context)
    return render(request, "agents/media/mission.html", context)


@operator_required
def media_file(request: AuthenticatedHtmxRequest, mission_id: int, digest: str) -> HttpResponse:
    """One file of a media mission (img/video/audio source), read and verified from the artifact store."""
    mission = _mission(mission_id)
    if digest not in {f["blake3"] for f in media_artifacts(mission)}:
        raise Http404("No such file in this mission.")
    artifact = get_object_or_404(Artifact, blake3=digest)
    response = HttpResponse(artifact_read(artifact), content_type=artifact.media_type)
    response["Content-Disposition"] = f'inline; filename="{artifact.name}"'
    response["X-Content-Type-Options"] = "nosniff"
    # Opened on its own, the browser shows the file in its built-in viewer, which styles itself inline: allow
    # that, and nothing else, in a sandbox (the page's own CSP would block the viewer's styles).
    response["Content-Security-Policy"] = MEDIA_CSP
    return response


@operator_required
@require_POST
def media_attach_view(request: AuthenticatedHtmxRequest, mission_id: int) -> HttpResponse:
    """Attach one of the mission's images to a product, then show the product page."""
    mission = _mission(mission_id)
    form = AttachForm(request.POST)
    if form.is_valid():
        try:
            product = media_attach_to_product(
                mission=mission, sku=form.cleaned_data["product"], index=form.cleaned_data["index"], by=request.user
            )
        except DomainError as exc:
            form.add_error("product", exc.detail)
        else:
            messages.success(request, f"The image is now the picture of {product.sku}.")
            return redirect(product)
    context = {"mission": mission, "files": media_artifacts(mission), "attach_form": form}
    return render(request, "agents/media/mission.html", context, status=422)
