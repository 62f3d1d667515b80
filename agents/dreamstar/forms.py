"""DreamStar console forms: ingest documents (files and/or pasted text), search, generate."""

from __future__ import annotations

from django import forms

from agents.dreamstar.compose import FORMATS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files (Django's documented pattern)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".txt,.md,.markdown,.html,.htm,.pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class IngestForm(forms.Form):
    files = MultipleFileField(label="Documents", required=False, help_text="txt, md, html or pdf; several at once.")
    text = forms.CharField(label="Or paste text", widget=forms.Textarea(attrs={"rows": 5}), required=False)
    name = forms.CharField(label="Title of the pasted text", max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("files") and not (data.get("text") or "").strip():
            raise forms.ValidationError("Choose at least one file or paste some text.")
        return data


class GenerateForm(forms.Form):
    prompt = forms.CharField(label="Brief", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    format = forms.ChoiceField(choices=[(f, f.replace("_", " ")) for f in FORMATS], initial="summary")
