"""Console forms for peers: register (with a trust-on-first-use confirmation step) and lift a quarantine."""

from __future__ import annotations

from django import forms


class PeerAddForm(forms.Form):
    url = forms.CharField(
        max_length=500, label="Base URL", widget=forms.URLInput(attrs={"placeholder": "https://node.example.com"})
    )
    verifier_key = forms.CharField(
        max_length=400, required=False, label="Verifier key",
        help_text="From the peer's operator (manage.py mesh_whoami). Leave empty to fetch it from the node and "
        "confirm it yourself: trust on first use.",
    )  # fmt: skip
    # Set by the confirmation step: the key the operator was shown and accepted.
    confirm_key = forms.CharField(max_length=400, required=False, widget=forms.HiddenInput)


class PeerLiftForm(forms.Form):
    note = forms.CharField(
        max_length=2000, label="Why is the quarantine lifted?", widget=forms.Textarea(attrs={"rows": 3})
    )
    forget_history = forms.BooleanField(
        required=False, label="Also forget the checkpoint held (accept the peer's current log as first seen)"
    )
