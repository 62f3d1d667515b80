"""Console forms for webhook subscriptions."""

from __future__ import annotations

import re

from django import forms


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"placeholder": "n8n orders"}))
    url = forms.CharField(
        max_length=500, label="URL", widget=forms.URLInput(attrs={"placeholder": "https://n8n.example.com/webhook/…"})
    )
    topics = forms.CharField(
        max_length=2000, help_text="Comma- or space-separated patterns; * matches anything: order.*, *.failed, *",
        widget=forms.TextInput(attrs={"placeholder": "order.*, peer.fork_detected"}),
    )  # fmt: skip
    secret = forms.CharField(
        max_length=200, required=False, label="Signing secret",
        help_text="Leave empty to have one generated; it is shown once.",
    )  # fmt: skip

    def clean_topics(self) -> list[str]:
        return [t for t in re.split(r"[\s,]+", self.cleaned_data["topics"]) if t]


class WebhookEditForm(WebhookForm):
    secret = None  # the secret is rotated, never typed over
