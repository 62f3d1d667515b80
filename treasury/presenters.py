"""JSON shapes of snapshots and holdings, shared by the API, the pages and the events."""

from __future__ import annotations

import json

from django.utils import timezone

from mesh.entries import blake3_hex
from treasury.models import Holding, Snapshot


def snapshot_json(snapshot: Snapshot) -> dict:
    now = timezone.now()
    return {
        "id": snapshot.pk,
        "status": snapshot.status,
        "trigger": snapshot.trigger,
        "created_at": snapshot.created_at,
        "finished_at": snapshot.finished_at,
        "age_s": round((now - snapshot.finished_at).total_seconds(), 1) if snapshot.finished_at else None,
        "total_usd": snapshot.total_usd,
        "metal_usd": snapshot.metal_usd,
        "crypto_usd": snapshot.crypto_usd,
        "stale_count": snapshot.stale_count,
        "unpriced_count": snapshot.unpriced_count,
        "carried_count": snapshot.carried_count,
        "sources": snapshot.sources,
        "simulated": "simulated" in (snapshot.sources or []),
        "error": snapshot.error,
        "receipt_index": snapshot.receipt_index,
    }


def holding_json(holding: Holding) -> dict:
    now = timezone.now()
    return {
        "kind": holding.kind,
        "status": holding.status,
        "label": holding.label,
        "chain": holding.chain,
        "address": holding.address,
        "product": holding.product.sku if holding.product_id else None,
        "asset": holding.asset,
        "symbol": holding.symbol,
        "contract": holding.contract,
        "quantity": holding.quantity or None,
        "unit": holding.unit,
        "fine_oz": holding.fine_oz,
        "quantity_source": holding.quantity_source,
        "quantity_at": holding.quantity_at,
        "price_usd": holding.price_usd,
        "price_source": holding.price_source,
        "price_at": holding.price_at,
        "price_age_s": round((now - holding.price_at).total_seconds(), 1) if holding.price_at else None,
        "value_usd": holding.value_usd,
        "note": holding.note,
    }


def holding_rows(holdings) -> list[list[str]]:
    """Return the lines as the receipt digests them: [asset, address or product SKU, quantity, price, price
    source, status, value], all strings (price normalised, value to the cent), sorted."""
    return sorted([
        [h.asset, h.address or h.contract, h.quantity, "" if h.price_usd is None else str(h.price_usd.normalize()),
         h.price_source, h.status, "" if h.value_usd is None else f"{h.value_usd:.2f}"]
        for h in holdings
    ])  # fmt: skip


def canonical_digest(value) -> str:
    """BLAKE3 of the value as compact, key-sorted JSON (what a verifier recomputes)."""
    return blake3_hex(json.dumps(value, sort_keys=True, separators=(",", ":")).encode())
