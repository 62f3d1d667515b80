"""The operator's mesh console: live event tail, checkpoints, entry verification, receipts and artifacts."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dreamnet.http import AuthenticatedHtmxRequest, operator_required
from mesh.identity import node_identity
from mesh.log import log_size
from mesh.merkle import ProofError
from mesh.models import Artifact, Checkpoint, Event, Peer, PeerStateChange, Receipt, WebhookSubscription
from mesh.note import NoteError
from mesh.peers import services as peers
from mesh.peers.forms import PeerAddForm, PeerLiftForm
from mesh.peers.witness import cosigner_vkey
from mesh.proofbundle import BundleError, verify_bundle
from mesh.selectors import inclusion_bundle
from mesh.services import MeshError
from mesh.webhooks import services as webhooks
from mesh.webhooks.forms import WebhookEditForm, WebhookForm


class VerifyEntryForm(forms.Form):
    index = forms.IntegerField(min_value=0, label="Log index")


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


@operator_required
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


# Peers ----------------------------------------------------------------------------------------------------------


def _peer_rows() -> list[Peer]:
    rows = list(Peer.objects.order_by("origin"))
    for peer in rows:
        peer.score_now = peers.peer_score_now(peer)
    return rows


@operator_required
def peers_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """List peers live (the table re-renders as heartbeats land) and register one.

    Registering without a key fetches the node's key and shows it for confirmation (trust on first use); only the
    confirmed key is pinned, and registration checks the node still presents it.
    """
    if request.htmx and request.htmx.target == "peer-table":
        return render(request, "mesh/peers.html#peer-table", {"peers": _peer_rows()})
    form = PeerAddForm(request.POST or None)
    discovered = None
    if request.method == "POST" and form.is_valid():
        url, key, confirmed = (form.cleaned_data[f] for f in ("url", "verifier_key", "confirm_key"))
        try:
            if key or confirmed:
                peer = peers.peer_register(url=url, verifier_key=key or confirmed, by=request.user, tofu=not key)
                messages.success(request, f"{peer.origin} is now a peer; its key is pinned.")
                return redirect(peer)
            discovered = peers.peer_discover(url=url)
            form = PeerAddForm(initial={"url": discovered.url, "confirm_key": discovered.verifier_key})
        except MeshError as exc:
            form.add_error(None, str(exc))
    identity = node_identity()
    changes = PeerStateChange.objects.select_related("peer", "by")[:20]
    context = {
        "peers": _peer_rows(),
        "form": form,
        "discovered": discovered,
        "identity": identity,
        "cosigner_key": cosigner_vkey(identity.origin, identity.signer.public_key),
        "changes": changes,
    }
    return render(request, "mesh/peers.html", context)


def _with_evidence_text(changes) -> list[PeerStateChange]:
    """Attach the evidence for display: signed checkpoints as notes of their own, the rest as indented JSON."""
    rows = list(changes)
    for change in rows:
        evidence = dict(change.evidence or {})
        change.evidence_notes = []
        for side, label in (("ours", "The checkpoint held before"), ("theirs", "The checkpoint that contradicts it")):
            if isinstance(evidence.get(side), dict) and evidence[side].get("note"):
                evidence[side] = {k: v for k, v in evidence[side].items() if k != "note"}
                change.evidence_notes.append((label, change.evidence[side]["note"]))
        change.evidence_text = json.dumps(evidence, indent=2, ensure_ascii=False) if evidence else ""
    return rows


@operator_required
def peer_page(request: AuthenticatedHtmxRequest, peer_id: int) -> HttpResponse:
    """One peer: pinned key, state and score, every state change with its reason and evidence, recent heartbeats."""
    peer = get_object_or_404(Peer, pk=peer_id)
    peer.score_now = peers.peer_score_now(peer)
    context = {"peer": peer, "heartbeats": peer.heartbeats.all()[:30]}
    if request.htmx and request.htmx.target == "peer-live":
        return render(request, "mesh/peer.html#peer-live", context)
    context |= {
        "changes": _with_evidence_text(peer.changes.select_related("by")[:100]),
        "lift_form": PeerLiftForm(),
    }
    return render(request, "mesh/peer.html", context)


@operator_required
@require_POST
def peer_lift(request: AuthenticatedHtmxRequest, peer_id: int) -> HttpResponse:
    peer = get_object_or_404(Peer, pk=peer_id)
    form = PeerLiftForm(request.POST)
    if form.is_valid():
        try:
            peers.peer_quarantine_lift(peer=peer, by=request.user, note=form.cleaned_data["note"],
                                       forget_history=form.cleaned_data["forget_history"])  # fmt: skip
        except MeshError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Quarantine of {peer.origin} lifted; it is suspect until a verified heartbeat.")
            return redirect(peer)
    peer.score_now = peers.peer_score_now(peer)
    context = {"peer": peer, "heartbeats": peer.heartbeats.all()[:30], "lift_form": form,
               "changes": _with_evidence_text(peer.changes.select_related("by")[:100])}  # fmt: skip
    return render(request, "mesh/peer.html", context, status=422)


@operator_required
@require_POST
def peer_check(request: AuthenticatedHtmxRequest, peer_id: int) -> HttpResponse:
    """Heartbeat the peer now (fetch and verify, then push ours for a cosignature)."""
    peer = get_object_or_404(Peer, pk=peer_id)
    beat = peers.peer_heartbeat(peer=peer)
    peers.peer_push(peer=peer)
    level = messages.SUCCESS if beat.result in ("ok", "stale") else messages.WARNING
    messages.add_message(request, level, f"Heartbeat: {beat.get_result_display()} — {beat.detail}")
    return redirect(peer)


@operator_required
@require_POST
def peer_remove(request: AuthenticatedHtmxRequest, peer_id: int) -> HttpResponse:
    peer = get_object_or_404(Peer, pk=peer_id)
    peers.peer_remove(peer=peer, by=request.user)
    messages.success(request, f"{peer.origin} is no longer a peer.")
    return redirect("mesh-peers")


# Webhooks -------------------------------------------------------------------------------------------------------


@operator_required
def webhooks_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """List subscriptions and add one; a new subscription's secret is shown once, in this response only."""
    form = WebhookForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = webhooks.webhook_create(name=data["name"], url=data["url"], topics=data["topics"],
                                              secret=data["secret"] or None, by=request.user)  # fmt: skip
            form = WebhookForm()
        except MeshError as exc:
            form.add_error(None, str(exc))
    context = {"subscriptions": WebhookSubscription.objects.all(), "form": form, "created": created}
    return render(request, "mesh/webhooks.html", context, status=422 if form.errors else 200)


@operator_required
def webhook_page(request: AuthenticatedHtmxRequest, sub_id: int) -> HttpResponse:
    """One subscription: edit it, pause/resume/rotate/delete, and its deliveries with every attempt."""
    subscription = get_object_or_404(WebhookSubscription, pk=sub_id)
    initial = {"name": subscription.name, "url": subscription.url, "topics": ", ".join(subscription.topics)}
    form = WebhookEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            webhooks.webhook_update(subscription=subscription, name=data["name"], url=data["url"],
                                    topics=data["topics"], by=request.user)  # fmt: skip
        except MeshError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Subscription saved.")
            return redirect(subscription)
    return _webhook_render(request, subscription, form=form, status=422 if form.errors else 200)


def _webhook_render(request, subscription, *, form=None, secret: str = "", status: int = 200) -> HttpResponse:
    deliveries = subscription.deliveries.select_related("event").prefetch_related("attempt_log")[:50]
    if form is None:
        form = WebhookEditForm(initial={"name": subscription.name, "url": subscription.url,
                                        "topics": ", ".join(subscription.topics)})  # fmt: skip
    context = {"subscription": subscription, "form": form, "deliveries": deliveries, "secret": secret}
    return render(request, "mesh/webhook.html", context, status=status)


@operator_required
@require_POST
def webhook_action(request: AuthenticatedHtmxRequest, sub_id: int, action: str) -> HttpResponse:
    """Pause, resume, rotate the secret (shown once in the response) or delete a subscription."""
    subscription = get_object_or_404(WebhookSubscription, pk=sub_id)
    try:
        if action == "pause":
            webhooks.webhook_pause(subscription=subscription, reason="Paused by an operator.", by=request.user)
        elif action == "resume":
            webhooks.webhook_resume(subscription=subscription, by=request.user)
        elif action == "rotate":
            subscription = webhooks.webhook_rotate_secret(subscription=subscription, by=request.user)
            return _webhook_render(request, subscription, secret=subscription.secret)
        elif action == "delete":
            webhooks.webhook_delete(subscription=subscription, by=request.user)
            messages.success(request, f"Deleted the subscription {subscription.name}.")
            return redirect("mesh-webhooks")
        else:
            return HttpResponse(f"Unknown action {action!r}.", status=404)
    except MeshError as exc:
        messages.error(request, str(exc))
    return redirect(subscription)
