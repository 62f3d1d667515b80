from __future__ import annotations

from django import forms

from treasury.addresses import CHAINS


class WalletForm(forms.Form):
    chain = forms.ChoiceField(choices=[(c, c.capitalize()) for c in CHAINS])
    address = forms.CharField(max_length=200, help_text="The public address only; DreamNet never asks for a key.")
    label = forms.CharField(max_length=80)
