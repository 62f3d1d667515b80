"""Media console forms: launch a media mission, attach a generated image to a product."""

from __future__ import annotations

from django import forms

from agents.media.runner import VOICES
from agents.media.services import KINDS


class MediaForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, k) for k in KINDS], initial="image")
    prompt = forms.CharField(
        label="Prompt or text", widget=forms.Textarea(attrs={"rows": 3}), max_length=4096, required=False,
        help_text="What the image or video shows, or what the speech says.",
    )  # fmt: skip
    size = forms.CharField(label="Size", max_length=20, required=False, help_text="e.g. 1024x1024; empty: default.")
    n = forms.IntegerField(label="Images", min_value=1, max_value=4, initial=1, required=False)
    seconds = forms.IntegerField(label="Seconds of video", min_value=1, max_value=60, required=False)
    voice = forms.ChoiceField(choices=[("", "default")] + [(v, v) for v in VOICES], required=False)
    source = forms.CharField(label="Video to transcode (BLAKE3)", max_length=64, required=False)

    def mission_data(self) -> dict:
        d = self.cleaned_data
        if d["kind"] == "image":
            return {"prompt": d["prompt"], "size": d["size"], "n": d["n"] or 1}
        if d["kind"] == "video":
            return {"prompt": d["prompt"], "size": d["size"], "seconds": d["seconds"]}
        if d["kind"] == "speech":
            return {"text": d["prompt"], "voice": d["voice"]}
        return {"source": d["source"]}


class AttachForm(forms.Form):
    product = forms.CharField(label="Product SKU", max_length=40)
    index = forms.IntegerField(min_value=0, max_value=3, initial=0, widget=forms.HiddenInput)
