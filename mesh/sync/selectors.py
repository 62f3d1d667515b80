"""Sync reads: portals and transfers for the console, the API and ``dream portal ls``."""

from __future__ import annotations

from django.db.models import QuerySet

from mesh.models import Portal, SyncTransfer


def portal_list(*, include_closed: bool = True) -> QuerySet[Portal]:
    rows = Portal.objects.select_related("peer").order_by("-created_at", "-id")
    return rows if include_closed else rows.filter(state=Portal.State.OPEN)


def portal_get(portal_id: str) -> Portal | None:
    return Portal.objects.select_related("peer").filter(portal_id=portal_id).first()


def transfers_recent(*, limit: int = 20) -> QuerySet[SyncTransfer]:
    return SyncTransfer.objects.select_related("portal", "receipt").order_by("-created_at", "-id")[:limit]
