"""Valuation snapshots: metal at the live bid, wallets through the configured sources with failover, stale
prices flagged, unpriced tokens listed, a failed wallet carried with its age, a signed receipt and an event."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from commerce.models import SpotTick
from mesh.models import Event, Receipt
from tests.treasury.conftest import SOL_OWNER, USDC, VITALIK, vault
from treasury.errors import TreasuryError
from treasury.models import Holding, Snapshot
from treasury.presenters import canonical_digest, holding_rows
from treasury.services import snapshot_request, snapshot_run, snapshots_due, wallet_add, wallet_remove
from treasury.valuation import line_value


def _run(company, by=None) -> Snapshot:
    return snapshot_run(snapshot=snapshot_request(company=company, by=by))


def test_it_values_vaulted_metal_at_the_live_bid(shop, alice):
    vault(shop, alice, [("xau-coin-maple-1oz", 3)])
    snapshot = _run(shop, alice)
    line = snapshot.holdings.get(kind="metal")
    tick = SpotTick.objects.filter(metal="XAU").order_by("-fetched_at").first()
    assert line.quantity == "3" and line.fine_oz == line.product.fine_oz * 3
    assert line.price_usd == tick.bid and line.price_source == "simulated"
    assert line.value_usd == line_value(line.fine_oz, tick.bid)
    assert snapshot.status == "done" and snapshot.metal_usd == line.value_usd == snapshot.total_usd


def test_the_offline_default_values_wallets_as_simulated(shop, alice):
    wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops", by=alice)
    wallet_add(company=shop, chain="vechain", address=VITALIK, label="VeChain", by=alice)
    snapshot = _run(shop, alice)
    assert snapshot.sources == ["simulated"]
    crypto = snapshot.holdings.filter(kind="crypto")
    assert {h.quantity_source for h in crypto} == {"simulated"}
    priced = [h for h in crypto if h.status == "priced"]
    assert priced and all(h.value_usd == line_value(Decimal(h.quantity), h.price_usd) for h in priced)
    assert snapshot.crypto_usd == sum(h.value_usd for h in priced)
    assert snapshot.total_usd == snapshot.crypto_usd + snapshot.metal_usd
    # Deterministic: the same address holds the same simulated amounts next time.
    again = _run(shop, alice)
    assert sorted(again.holdings.values_list("asset", "quantity")) == sorted(crypto.values_list("asset", "quantity"))


def test_a_snapshot_is_sealed_with_a_receipt_and_an_event(shop, alice):
    wallet_add(company=shop, chain="solana", address=SOL_OWNER, label="Sol", by=alice)
    snapshot = _run(shop, alice)
    receipt = Receipt.objects.get(log_index=snapshot.receipt_index)
    assert receipt.operation == "treasury.snapshot" and receipt.subject == f"company:acme/snapshot:{snapshot.pk}"
    assert receipt.outputs["total_usd"] == str(snapshot.total_usd)
    # An auditor recomputes the lines' digest from the stored (or served) valuation.
    stored = Snapshot.objects.get(pk=snapshot.pk).holdings.all()
    assert receipt.outputs["holdings_blake3"] == canonical_digest(holding_rows(stored))
    assert receipt.outputs["lines"] == len(stored)
    event = Event.objects.get(topic="treasury.snapshot.done")
    assert event.payload["snapshot"] == snapshot.pk and event.payload["simulated"] is True


def test_real_sources_value_wallets_and_list_unpriced_tokens(shop, alice, fake):
    fake.evm[VITALIK.lower()]["tokens"]["0x00000000000000000000000000000000000000aa"] = 7
    fake.meta["0x00000000000000000000000000000000000000aa"] = {"decimals": 0, "symbol": "ODD", "name": "Odd"}
    wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops", by=alice)
    wallet_add(company=shop, chain="solana", address=SOL_OWNER, label="Sol", by=alice)
    snapshot = _run(shop, alice)
    lines = {h.asset: h for h in snapshot.holdings.filter(kind="crypto")}
    eth = lines["native:ethereum"]
    assert eth.quantity == "2.000000000000000000" and eth.price_usd == Decimal("3403.12")
    assert eth.value_usd == Decimal("6806.24") and eth.price_source == "coingecko" and eth.quantity_source == "alchemy"
    assert lines[f"token:ethereum:{USDC}"].value_usd == Decimal("4999.46")  # 5000 × 0.999891, half-up
    odd = lines["token:ethereum:0x00000000000000000000000000000000000000aa"]
    assert odd.status == "unpriced" and odd.value_usd is None and odd.quantity == "7"
    assert lines["native:solana"].value_usd == Decimal("1874.10")
    assert snapshot.unpriced_count == 1 and snapshot.crypto_usd == Decimal("6806.24") + Decimal("4999.46") + Decimal(
        "1874.10"
    )
    assert sorted(snapshot.sources) == ["alchemy", "coingecko", "helius"]


def test_a_stale_price_is_flagged_and_not_counted(shop, alice, fake):
    fake.updated_at = int((timezone.now() - timedelta(hours=2)).timestamp())
    wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops", by=alice)
    snapshot = _run(shop, alice)
    eth = snapshot.holdings.get(asset="native:ethereum")
    assert eth.status == "stale" and eth.value_usd is None and eth.price_usd == Decimal("3403.12")
    assert "not counted" in eth.note and snapshot.stale_count == 2 and snapshot.crypto_usd == 0


def test_a_stale_metal_spot_is_flagged(shop, alice):
    vault(shop, alice, [("xau-coin-maple-1oz", 1)])
    SpotTick.objects.update(fetched_at=timezone.now() - timedelta(hours=1))
    line = _run(shop, alice).holdings.get(kind="metal")
    assert line.status == "stale" and line.value_usd is None


def test_it_fails_over_to_the_next_source(shop, alice, fake, settings):
    settings.TREASURY_SOURCES = ["alchemy", "simulated", "coingecko"]
    fake.fail("alchemy", "429", "429")
    wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops", by=alice)
    snapshot = _run(shop, alice)
    eth = snapshot.holdings.get(asset="native:ethereum")
    assert eth.quantity_source == "simulated"
    assert eth.price_source == "simulated"  # the price sources are tried in the same order: simulated answered first


def test_a_wallet_every_source_fails_is_carried_from_its_last_read(shop, alice, fake):
    wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops", by=alice)
    first = _run(shop, alice)
    fake.fail("alchemy", "malformed", "malformed")
    second = _run(shop, alice)
    eth = second.holdings.get(asset="native:ethereum")
    assert eth.status == "carried" and eth.quantity == first.holdings.get(asset="native:ethereum").quantity
    assert eth.quantity_at == first.holdings.get(asset="native:ethereum").quantity_at
    assert "not valid JSON" in eth.note and "balance read" in eth.note
    assert second.carried_count == 2 and "Ops" in second.error


def test_a_wallet_never_read_is_listed_unreadable(shop, alice, fake):
    fake.fail("alchemy", "500", "500")
    wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops", by=alice)
    line = _run(shop, alice).holdings.get()
    assert line.status == "unreadable" and "HTTP 500" in line.note


def test_only_one_snapshot_is_pending_per_company(shop, alice):
    pending = snapshot_request(company=shop, by=alice)
    with pytest.raises(TreasuryError) as caught:
        snapshot_request(company=shop, by=alice)
    assert caught.value.code == "snapshot_pending" and caught.value.extra == {"snapshot_id": pending.pk}
    with pytest.raises(IntegrityError), transaction.atomic():
        Snapshot.objects.create(company=shop, status="running")


def test_a_snapshot_that_cannot_be_sealed_fails_and_the_last_good_one_stays(shop, alice, monkeypatch):
    good = _run(shop, alice)

    def refuse(**kwargs):
        raise RuntimeError("log unavailable")

    monkeypatch.setattr("mesh.receipt_issue", refuse)
    failed = _run(shop, alice)
    assert failed.status == "failed" and "log unavailable" in failed.error and not failed.holdings.exists()
    from treasury.selectors import snapshot_latest

    assert snapshot_latest(shop) == good


def test_a_lost_pending_snapshot_does_not_block_the_next(shop, alice, settings):
    lost = snapshot_request(company=shop, by=alice)
    Snapshot.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=3))
    fresh = snapshot_request(company=shop, by=alice)
    lost.refresh_from_db()
    assert lost.status == "failed" and "lost" in lost.error and fresh.status == "queued"


def test_the_wallet_limit_holds(shop, alice, settings):
    settings.TREASURY_MAX_WALLETS = 1
    wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops", by=alice)
    with pytest.raises(TreasuryError) as caught:
        wallet_add(company=shop, chain="solana", address=SOL_OWNER, label="Sol", by=alice)
    assert caught.value.code == "too_many_wallets"


def test_a_snapshot_runs_once(shop, alice):
    snapshot = _run(shop, alice)
    assert snapshot_run(snapshot=snapshot).holdings.count() == snapshot.holdings.count()


def test_the_schedule_queues_companies_that_hold_something(shop, alice, settings):
    assert snapshots_due() == []  # nothing held yet
    wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops", by=alice)
    queued = snapshots_due()
    assert [s.trigger for s in queued] == ["schedule"]
    assert snapshots_due() == []  # pending, then fresh


def test_removing_a_wallet_keeps_past_lines(shop, alice):
    wallet = wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops", by=alice)
    snapshot = _run(shop, alice)
    wallet_remove(wallet=wallet, by=alice)
    assert Holding.objects.filter(snapshot=snapshot).exists()


def test_wallet_add_refuses_duplicates_and_bad_labels(shop, alice):
    wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops", by=alice)
    with pytest.raises(TreasuryError) as caught:
        wallet_add(company=shop, chain="ethereum", address=VITALIK.lower(), label="Again", by=alice)
    assert caught.value.code == "wallet_exists" and caught.value.status == 409
    with pytest.raises(TreasuryError) as caught:
        wallet_add(company=shop, chain="solana", address=SOL_OWNER, label="  ", by=alice)
    assert caught.value.code == "bad_label"
