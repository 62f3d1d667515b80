"""Operator console for Loom: the trained models with their loss curves and samples, and a chat page (the reply
streams over /ws/loom/; without JavaScript the form posts and the page shows the whole reply)."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import render

from compute.loom import LoomError, generate
from compute.loom.checkpoint import MEDIA_TYPE
from computejobs.loom import checkpoint_load, model_name
from computejobs.models import ComputeJob
from computejobs.selectors import artifact_url
from dreamnet.http import AuthenticatedHtmxRequest, operator_required


class ChatForm(forms.Form):
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, strip=False)
    max_tokens = forms.IntegerField(min_value=1, max_value=1000, initial=200)
    temperature = forms.FloatField(min_value=0, max_value=5, initial=0.8)
    top_k = forms.IntegerField(min_value=0, initial=0, help_text="0: every character.")
    top_p = forms.FloatField(min_value=0.01, max_value=1, initial=1.0)
    seed = forms.IntegerField(min_value=0, max_value=2**31 - 1, initial=0)


def loom_models(limit: int = 50) -> list[dict]:
    """The trained models on this node, newest first: name, ``loom:<blake3>``, losses, sample, the loss curve."""
    rows = []
    jobs = ComputeJob.objects.filter(kind="lm_train", status=ComputeJob.Status.SUCCEEDED).order_by("-finished_at")
    for job in jobs[:limit]:
        model = next((a for a in job.artifacts if a["media_type"] == MEDIA_TYPE), None)
        curve = next((a for a in job.artifacts if a["name"] == "loss.svg"), None)
        if model is None:
            continue
        rows.append({
            "job": job, "model": model_name(model["blake3"]), "blake3": model["blake3"], "name": job.result.get("name"),
            "config": job.result.get("config", {}), "val_loss": job.result.get("val_loss"),
            "final_loss": job.result.get("final_loss"), "steps_run": job.result.get("steps_run"),
            "stopped": job.result.get("stopped"), "corpus_source": job.result.get("corpus_source"),
            "sample": job.result.get("sample", ""), "curve_url": artifact_url(curve["blake3"]) if curve else None,
        })  # fmt: skip
    return rows


@operator_required
def loom_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    return render(request, "computejobs/loom.html", {"models": loom_models()})


@operator_required
def loom_chat(request: AuthenticatedHtmxRequest, blake3: str) -> HttpResponse:
    model = model_name(blake3)
    try:
        checkpoint = checkpoint_load(model)
    except LoomError as exc:
        return render(request, "computejobs/loom_chat.html", {"model": model, "error": str(exc)}, status=404)
    form = ChatForm(request.POST or None)
    reply = None
    if request.method == "POST" and form.is_valid():
        try:
            options = dict(form.cleaned_data)
            reply = generate(checkpoint, options.pop("prompt"), **options)
        except LoomError as exc:
            form.add_error("prompt", f"{exc.code}: {exc}")
    context = {"model": model, "checkpoint": checkpoint, "form": form, "reply": reply}
    return render(request, "computejobs/loom_chat.html", context, status=422 if form.errors else 200)
