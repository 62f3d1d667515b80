"""Operator console for compute: launch jobs, watch progress, see pictures; staff-only artifact downloads; the
public showcase frames."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header

from computejobs.figures import figures_display
from computejobs.kinds import KINDS, JobError
from computejobs.models import ComputeJob, ShowcaseFrame
from computejobs.selectors import instances_offered, job_list, result_json
from computejobs.services import job_create
from dreamnet.http import AuthenticatedHtmxRequest, operator_required


class JobForm(forms.Form):
    kind = forms.ChoiceField(choices=[])
    params = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), initial='{"instance": "kroA100", "seconds": 10}',
                             help_text="JSON parameters for the kind.")  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, f"{k}: {v.summary}") for k, v in sorted(KINDS.items())]

    def clean_params(self) -> dict:
        try:
            value = json.loads(self.cleaned_data["params"] or "{}")
        except ValueError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError('Parameters are a JSON object, e.g. {"seconds": 5}.')
        return value


@operator_required
def compute_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    form = JobForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = job_create(kind=form.cleaned_data["kind"], params=form.cleaned_data["params"], by=request.user)
        except JobError as exc:
            form.add_error("params", str(exc))
        else:
            messages.success(request, f"Queued {job.kind} job {job.pk}.")
            return redirect("compute-job", job.pk)
    jobs = Paginator(job_list(), 20).get_page(request.GET.get("page"))
    context = {"form": form, "jobs": jobs, "instances": instances_offered()}
    return render(request, "computejobs/compute.html", context, status=422 if form.errors else 200)


@operator_required
def compute_job(request: AuthenticatedHtmxRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ComputeJob, pk=pk)
    template = "computejobs/compute_job.html#job-status" if request.htmx else "computejobs/compute_job.html"
    context = {"job": job, "data": result_json(job), "figures": figures_display(job.result)}
    return render(request, template, context)


INLINE_MEDIA_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml", "text/plain", "application/json"}
)


@operator_required
def artifact(request: AuthenticatedHtmxRequest, digest: str) -> HttpResponse:
    """Serve a stored artifact to operators (verified on the way out)."""
    from mesh.models import Artifact
    from mesh.services import artifact_read

    item = get_object_or_404(Artifact, blake3=digest)
    # Whoever holds a `mesh` key chooses an artifact's media type. Only types a browser cannot run as page or
    # script are shown inline; anything else (HTML, JavaScript...) downloads as opaque bytes, so an artifact
    # cannot script the console. The sandbox CSP keeps even an inline SVG in an origin of its own.
    inline = item.media_type in INLINE_MEDIA_TYPES
    response = HttpResponse(artifact_read(item), content_type=item.media_type if inline else "application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(as_attachment=not inline, filename=item.name)
    style = " style-src 'unsafe-inline';" if item.media_type == "image/svg+xml" else ""
    response["Content-Security-Policy"] = f"default-src 'none';{style} sandbox"
    return response


def showcase_frame(request: HttpRequest, kind: str) -> HttpResponse:
    """The newest showcase frame of ``kind`` (public: it is a picture of a simulation)."""
    from mesh.models import Artifact
    from mesh.services import artifact_read

    frame = ShowcaseFrame.objects.filter(kind=kind).order_by("-created_at").first()
    artifact = Artifact.objects.filter(blake3=frame.blake3).first() if frame else None
    if artifact is None:
        raise Http404(f"No {kind} frame yet.")
    response = HttpResponse(artifact_read(artifact), content_type=frame.media_type)
    response["Cache-Control"] = "public, max-age=30"
    if frame.media_type == "image/svg+xml":
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
