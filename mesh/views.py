"""The operator's mesh console: live event tail, checkpoints, entry verification, receipts and artifacts."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import user_passes_test
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from dreamnet.http import AuthenticatedHtmxRequest
from mesh.identity import node_identity
from mesh.log import log_size
from mesh.merkle import ProofError
from mesh.models import Artifact, Checkpoint, Event, Receipt
from mesh.note import NoteError
from mesh.proofbundle import BundleError, verify_bundle
from mesh.selectors import inclusion_bundle
from mesh.services import MeshError


class VerifyEntryForm(forms.Form):
    index = forms.IntegerField(min_value=0, label="Log index")


def _is_operator(user) -> bool:
    return user.is_active and user.is_staff


def _verification(index: int) -> dict:
    """Build the proof for ``index`` and check it the way an outsider would (against the verifier key)."""
    try:
        bundle = inclusion_bundle(index)
    except MeshError as exc:
        return {"index": index, "error": str(exc)}
    if bundle is None:
        return {"index": index, "error": f"Entry {index} is not covered by a checkpoint yet; try again in a second."}
    try:
        result = verify_bundle(bundle.text, node_identity().verifier_key)
    except (BundleError, NoteError, ProofError) as exc:
        return {"index": index, "bundle": bundle.text, "valid": False, "reason": str(exc)}
    return {"index": index, "bundle": bundle.text, "valid": True, "size": result.size, "entry": result.entry.decode()}


@user_passes_test(_is_operator)
def mesh_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    form = VerifyEntryForm(request.GET or None)
    verification = _verification(form.cleaned_data["index"]) if form.is_valid() else None
    if request.htmx and request.htmx.target == "verify-entry":
        return render(request, "mesh/console.html#verify-entry", {"form": form, "verification": verification})
    events = Paginator(Event.objects.order_by("-log_index"), 25).get_page(request.GET.get("page"))
    context = {
        "identity": node_identity(),
        "log_size": log_size(),
        "events": events,
        "checkpoints": Checkpoint.objects.order_by("-size")[:10],
        "receipts": Receipt.objects.order_by("-log_index")[:10],
        "artifacts": Artifact.objects.order_by("-created_at")[:10],
        "form": form,
        "verification": verification,
    }
    return render(request, "mesh/console.html", context)
