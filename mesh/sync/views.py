"""/console/sync/: portals with their peers, last sync, bytes moved, conflicts and the transfer in flight; the chunk
store's size at its last garbage collection."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dreamnet.http import AuthenticatedHtmxRequest, operator_required
from mesh.models import Portal, Signal
from mesh.services import MeshError
from mesh.sync import portals
from mesh.sync.forms import PortalConnectForm, PortalOpenForm
from mesh.sync.gc import gc_last
from mesh.sync.selectors import portal_list, transfers_recent


def _live_context() -> dict:
    signals = list(Signal.objects.select_related("source").order_by("-created_at", "-id"))
    return {"portals": list(portal_list()), "signals": signals, "transfers": list(transfers_recent(limit=20))}


@operator_required
def sync_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """List portals live (the table re-renders every second, with a progress bar while a round moves chunks);
    open a portal (the key is shown once) or join a peer's."""
    if request.htmx and request.htmx.target == "portal-table":
        return render(request, "mesh/sync.html#portal-table", _live_context())
    action = request.POST.get("action") if request.method == "POST" else None
    open_form = PortalOpenForm(request.POST if action == "open" else None, prefix="open")
    connect_form = PortalConnectForm(request.POST if action == "connect" else None, prefix="connect")
    new_key = ""
    status = 200
    try:
        if action == "open" and open_form.is_valid():
            portal = portals.portal_open(path=open_form.cleaned_data["path"], name=open_form.cleaned_data["name"],
                                         by=request.user)  # fmt: skip
            new_key = portals.portal_key(portal)
            messages.success(request, f"Portal {portal.name} opened; give the peer the key below.")
            open_form = PortalOpenForm(prefix="open")
        elif action == "connect" and connect_form.is_valid():
            data = connect_form.cleaned_data
            portal = portals.portal_connect(key=data["key"], peer=data["peer"], path=data["path"] or None,
                                            by=request.user)  # fmt: skip
            messages.success(request, f"Joined portal {portal.name}; the sync loop connects within seconds.")
            return redirect("mesh-sync")
    except MeshError as exc:
        (open_form if action == "open" else connect_form).add_error(None, exc.detail)
    if action and (open_form.errors or connect_form.errors):
        status = 422
    context = _live_context() | {"open_form": open_form, "connect_form": connect_form, "new_key": new_key,
                                 "gc_last": gc_last()}  # fmt: skip
    return render(request, "mesh/sync.html", context, status=status)


@operator_required
@require_POST
def sync_portal_close(request: AuthenticatedHtmxRequest, portal_id: str) -> HttpResponse:
    portal = get_object_or_404(Portal, portal_id=portal_id)
    portals.portal_close(portal=portal)
    messages.success(request, f"Portal {portal.name} closed; its files stay where they are.")
    return redirect("mesh-sync")
