"""The treasury's risk: one Monte Carlo run over metals and crypto, volatilities and correlations measured from
stored prices (stated defaults without enough history), VaR/ES at 95/99 % for 1 and 10 days, contributions."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commerce.models import SpotTick
from mesh.models import Event
from tests.treasury.conftest import VITALIK, vault
from treasury.models import Holding, Snapshot
from treasury.risk import measure, treasury_risk
from treasury.services import snapshot_request, snapshot_run, wallet_add
from treasury.tasks import snapshot_run_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _numpy(settings):
    settings.TREASURY_RISK_BACKEND = "numpy"
    settings.TREASURY_RISK_PATHS = 20_000


def test_the_task_values_then_measures_the_whole_treasury(shop, alice, django_capture_on_commit_callbacks):
    vault(shop, alice, [("xau-coin-maple-1oz", 5)])
    wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops", by=alice)
    snapshot = snapshot_request(company=shop, by=alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert snapshot_run_task(snapshot.pk) == "done"
    snapshot.refresh_from_db()
    risk = snapshot.risk
    assert [h["days"] for h in risk["horizons"]] == [1, 10]
    one, ten = risk["horizons"]
    for pct in (95, 99):
        assert Decimal(ten[f"var_{pct}"]) > Decimal(one[f"var_{pct}"]) > 0
        assert Decimal(one[f"es_{pct}"]) >= Decimal(one[f"var_{pct}"])
    assert Decimal(one["var_99"]) > Decimal(one["var_95"])
    assets = {p["asset"] for p in risk["positions"]}
    assert "metal:XAU" in assets and "native:ethereum" in assets
    counted = sum(h.value_usd for h in snapshot.holdings.filter(status__in=["priced", "carried"]))
    assert Decimal(risk["value_usd"]) == counted
    total = sum(Decimal(p["contribution_es_99_10d"]) for p in risk["positions"])
    assert total == pytest.approx(Decimal(ten["es_99"]), abs=Decimal("0.05") * len(risk["positions"]))
    assert all(p["basis"].startswith("default") for p in risk["positions"])  # no history yet: stated defaults
    assert Event.objects.filter(topic="treasury.snapshot.risk").exists()


def test_volatility_and_correlation_are_measured_from_stored_prices(shop, alice, settings):
    settings.TREASURY_RISK_BUCKET_S = 3600
    vault(shop, alice, [("xau-coin-maple-1oz", 1)])
    wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops", by=alice)
    snapshot = snapshot_run(snapshot=snapshot_request(company=shop, by=alice))
    # 60 hours of gold ticks and ETH prices recorded in snapshots, driven by one shared factor.
    rng = random.Random(5)
    now = timezone.now()
    gold, eth = 2650.0, 3400.0
    eth_line = snapshot.holdings.get(asset="native:ethereum")
    # Only the synthetic history below counts: the feed's own tick and the snapshot's price leave the window.
    SpotTick.objects.all().delete()
    Holding.objects.filter(asset="native:ethereum").update(price_at=now - timedelta(days=200))
    for hour in range(60, 0, -1):
        shock = rng.gauss(0, 1)
        gold *= math.exp(0.002 * shock)
        eth *= math.exp(0.01 * (0.8 * shock + 0.6 * rng.gauss(0, 1)))
        at = now - timedelta(hours=hour)
        SpotTick.objects.create(metal="XAU", bid=Decimal(f"{gold:.4f}"), ask=Decimal(f"{gold + 1:.4f}"),
                                source="simulated", fetched_at=at)  # fmt: skip
        Holding.objects.create(snapshot=snapshot, kind="crypto", status="stale", asset="native:ethereum",
                               symbol="ETH", label="ETH", quantity="1", quantity_source="fake", quantity_at=at,
                               price_usd=Decimal(f"{eth:.4f}"), price_source="fake", price_at=at)  # fmt: skip
    positions = [{"asset": "metal:XAU", "kind": "metal", "name": "XAU"},
                 {"asset": "native:ethereum", "kind": "crypto", "name": "ETH"}]  # fmt: skip
    vols, corr, basis = measure(positions, bucket_s=3600, days=90)
    hourly_to_annual = math.sqrt(365.25 * 24)
    assert vols[0] == pytest.approx(0.002 * hourly_to_annual, rel=0.35)
    assert vols[1] == pytest.approx(0.01 * hourly_to_annual, rel=0.35)
    assert 0.5 < corr[0, 1] < 0.95
    assert basis[0].startswith("measured") and basis[1].startswith("measured")
    assert eth_line.status == "priced"
    report = treasury_risk(snapshot)
    basis_of = {p["asset"]: p["basis"] for p in report["positions"]}
    assert basis_of["metal:XAU"].startswith("measured") and basis_of["native:ethereum"].startswith("measured")


def test_an_empty_treasury_has_an_empty_report(shop):
    snapshot = snapshot_run(snapshot=snapshot_request(company=shop))
    assert treasury_risk(snapshot)["positions"] == []


def test_the_api_serves_the_risk(client, shop, alice, django_capture_on_commit_callbacks):
    from commerce.services import company_key_link
    from dreamnet.apikeys import apikey_create

    key, raw = apikey_create(name="t", scopes=["treasury"])
    company_key_link(api_key=key, slug="acme", username="alice")
    headers = {"X-DREAMNET-KEY": raw}
    assert client.get("/api/treasury/risk", headers=headers).json()["code"] == "no_risk"
    wallet_add(company=shop, chain="solana", address="4Qkev8aNZcqFNSRhQzwyLMFSsi94jHqE8WNVTJzTP99F", label="Sol")
    snapshot = snapshot_request(company=shop)
    with django_capture_on_commit_callbacks(execute=True):
        snapshot_run_task(snapshot.pk)
    body = client.get("/api/treasury/risk", headers=headers).json()
    assert body["snapshot"] == snapshot.pk and body["horizons"][1]["days"] == 10
    assert body["positions"][0]["basis"].startswith("default")
    # A run that failed is served with its reason, not as a server error.
    Snapshot.objects.filter(pk=snapshot.pk).update(risk={"error": "LinAlgError: singular", "positions": [],
                                                         "horizons": []})  # fmt: skip
    failed = client.get("/api/treasury/risk", headers=headers)
    assert failed.status_code == 200 and failed.json()["error"] == "LinAlgError: singular"


def test_the_schedule_is_ensured_by_serve():
    from django_q.models import Schedule

    from treasury.tasks import SNAPSHOT_SCHEDULE, schedules_ensure

    schedules_ensure()
    schedules_ensure()
    schedule = Schedule.objects.get(name=SNAPSHOT_SCHEDULE)
    assert schedule.func == "treasury.tasks.snapshots_due_task" and schedule.minutes == 1


def test_student_t_shocks_are_a_setting(shop, alice, settings):
    settings.TREASURY_RISK_DOF = 4
    wallet_add(company=shop, chain="ethereum", address=VITALIK, label="Ops", by=alice)
    snapshot = snapshot_run(snapshot=snapshot_request(company=shop, by=alice))
    t = treasury_risk(snapshot)
    settings.TREASURY_RISK_DOF = 0
    normal = treasury_risk(snapshot)
    assert t["shocks"] == "student_t (dof 4)" and normal["shocks"] == "normal"
    assert Decimal(t["horizons"][0]["es_99"]) != Decimal(normal["horizons"][0]["es_99"])
