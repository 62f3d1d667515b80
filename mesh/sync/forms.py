"""Console forms for portals: open one (share a folder) and join a peer's."""

from __future__ import annotations

from django import forms

from mesh.models import Peer


class PortalOpenForm(forms.Form):
    path = forms.CharField(max_length=1000, label="Folder on this node",
                           widget=forms.TextInput(attrs={"placeholder": "/srv/shared/plans"}))  # fmt: skip
    name = forms.CharField(max_length=100, required=False, label="Label")


class PortalConnectForm(forms.Form):
    key = forms.CharField(max_length=300, label="Portal key", help_text="From 'dream portal open' on the other node.")
    peer = forms.ModelChoiceField(queryset=Peer.objects.exclude(state=Peer.State.QUARANTINED), label="Opened by",
                                  help_text="The pinned peer that opened it (Peers).")  # fmt: skip
    path = forms.CharField(max_length=1000, required=False, label="Folder here",
                           help_text="Empty: a folder named after the portal beside DREAMNET_HOME.")  # fmt: skip
