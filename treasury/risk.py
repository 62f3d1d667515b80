"""The treasury's risk: one Monte Carlo run over every counted holding, metals and crypto together.

Positions are the latest snapshot's counted lines (priced or carried) grouped by asset (`metal:XAU`, `native:…`,
`token:…`). Each asset's volatility and the correlations come from the stored price history: metal spot ticks
(commerce) and the prices recorded in earlier snapshots, resampled onto a common grid of
DREAMNET_TREASURY_RISK_BUCKET_S buckets (last price per bucket) and compared as log returns over buckets both
assets have. With fewer than RISK_MIN_RETURNS returns an asset falls back to a stated default (its class's
typical volatility, correlation 0.3 within a class and 0 across), and the report says so per position.
"""

from __future__ import annotations

import itertools
import math
from datetime import timedelta
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.utils import timezone

import mesh
from commerce.feeds.simulated import VOLATILITY as METAL_DEFAULT_VOL
from commerce.models import SpotTick
from compute.montecarlo.portfolio import MAX_ASSETS, PortfolioModel, simulate_portfolio
from treasury.models import Holding, Snapshot
from treasury.selectors import price_history

RISK_MIN_RETURNS = 20
HORIZONS = (1, 10)
CONFIDENCE = (0.95, 0.99)
STABLE = {"USDC", "USDT", "DAI", "PYUSD", "USDS"}
CRYPTO_DEFAULT_VOL = 0.8
STABLE_DEFAULT_VOL = 0.02
SECONDS_PER_YEAR = 365.25 * 86400


def _positions(snapshot: Snapshot) -> list[dict]:
    grouped: dict[str, dict] = {}
    for line in snapshot.holdings.filter(status__in=[Holding.Status.PRICED, Holding.Status.CARRIED]):
        if not line.value_usd or line.value_usd <= 0:
            continue
        slot = grouped.setdefault(line.asset, {"asset": line.asset, "name": line.symbol, "kind": line.kind,
                                               "value": Decimal(0)})  # fmt: skip
        slot["value"] += line.value_usd
    ranked = sorted(grouped.values(), key=lambda p: -p["value"])
    if len(ranked) > MAX_ASSETS:  # the smallest positions join the largest one of their class (stated below)
        for extra in ranked[MAX_ASSETS:]:
            home = next((p for p in ranked[:MAX_ASSETS] if p["kind"] == extra["kind"]), ranked[0])
            home["value"] += extra["value"]
            home["name"] = home["name"].rstrip("+") + "+"
        ranked = ranked[:MAX_ASSETS]
    return ranked


def _history(asset: str, *, days: int) -> list[tuple[float, float]]:
    since = timezone.now() - timedelta(days=days)
    if asset.startswith("metal:"):
        rows = SpotTick.objects.filter(metal=asset.split(":", 1)[1], fetched_at__gte=since).order_by("fetched_at")
        return [(t.fetched_at.timestamp(), float((t.bid + t.ask) / 2)) for t in rows.only("fetched_at", "bid", "ask")]
    return [(at.timestamp(), float(price)) for at, price in price_history(asset, days=days)]


def _bucketed(series: list[tuple[float, float]], bucket_s: int) -> dict[int, float]:
    last: dict[int, float] = {}
    for at, price in series:
        if price > 0:
            last[int(at // bucket_s)] = price  # ordered by time: the bucket keeps its last price
    return last


def _returns(a: dict[int, float], b: dict[int, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Log returns between consecutive buckets present in both series (in ``a`` alone when ``b`` is None)."""
    keys = sorted(set(a) & set(b)) if b is not None else sorted(a)
    pairs = list(itertools.pairwise(keys))
    ra = np.array([math.log(a[k1] / a[k0]) for k0, k1 in pairs])
    rb = np.array([math.log(b[k1] / b[k0]) for k0, k1 in pairs]) if b is not None else ra
    return ra, rb


def _default_vol(position: dict) -> float:
    if position["kind"] == "metal":
        return METAL_DEFAULT_VOL.get(position["asset"].split(":", 1)[1], 0.2)
    return STABLE_DEFAULT_VOL if position["name"] in STABLE else CRYPTO_DEFAULT_VOL


def measure(positions: list[dict], *, bucket_s: int, days: int) -> tuple[list[float], np.ndarray, list[str]]:
    """Return (annual volatilities, correlation matrix, basis per asset: "measured (N returns)" or "default")."""
    n = len(positions)
    buckets = [_bucketed(_history(p["asset"], days=days), bucket_s) for p in positions]
    annual = math.sqrt(SECONDS_PER_YEAR / bucket_s)
    vols, basis = [], []
    for p, series in zip(positions, buckets, strict=True):
        returns, _ = _returns(series)
        if len(returns) >= RISK_MIN_RETURNS:
            vols.append(float(returns.std(ddof=1) * annual))
            basis.append(f"measured ({len(returns)} returns)")
        else:
            vols.append(_default_vol(p))
            basis.append(f"default (only {len(returns)} returns)")
    corr = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            ri, rj = _returns(buckets[i], buckets[j])
            if len(ri) >= RISK_MIN_RETURNS and ri.std() > 0 and rj.std() > 0:
                rho = float(np.corrcoef(ri, rj)[0, 1])
            else:
                rho = 0.3 if positions[i]["kind"] == positions[j]["kind"] else 0.0
            corr[i, j] = corr[j, i] = max(-0.999, min(0.999, rho))
    return vols, corr, basis


def treasury_risk(snapshot: Snapshot, *, paths: int | None = None, backend: str | None = None, seed: int = 0) -> dict:
    """Return the JSON risk report of ``snapshot`` (empty positions give an empty report)."""
    positions = _positions(snapshot)
    if not positions:
        return {"positions": [], "horizons": [], "paths": 0, "value_usd": "0.00", "shocks": "normal"}
    paths = paths or settings.TREASURY_RISK_PATHS
    backend = backend or settings.TREASURY_RISK_BACKEND
    vols, corr, basis = measure(positions, bucket_s=settings.TREASURY_RISK_BUCKET_S, days=90)
    dof = settings.TREASURY_RISK_DOF
    model = PortfolioModel(
        values=[float(p["value"]) for p in positions], volatilities=vols, correlation=corr.tolist(),
        shocks="student_t" if dof else "normal", dof=float(dof) if dof else None,
        names=[p["asset"] for p in positions],
    )  # fmt: skip
    horizons, by_horizon = [], {}
    for days in HORIZONS:
        result = simulate_portfolio(model, horizon_days=days, paths=paths, seed=seed, backend=backend)
        by_horizon[days] = result
        row = {"days": days}
        for level in CONFIDENCE:
            pct = round(level * 100)
            row[f"var_{pct}"] = f"{result.var[level]:.2f}"
            row[f"es_{pct}"] = f"{result.es[level]:.2f}"
        horizons.append(row)
    ten = by_horizon[10]
    return {
        "value_usd": f"{ten.value:.2f}",
        "paths": paths,
        "backend": backend,
        "shocks": model.shocks + (f" (dof {dof})" if dof else ""),
        "horizons": horizons,
        "simulated_history": "simulated" in (snapshot.sources or []),
        "positions": [
            {
                "asset": p["asset"],
                "name": p["name"],
                "kind": p["kind"],
                "value_usd": f"{p['value']:.2f}",
                "volatility": round(v, 4),
                "basis": b,
                "contribution_es_99_10d": f"{ten.contributions[0.99][i]:.2f}",
                "contribution_es_95_1d": f"{by_horizon[1].contributions[0.95][i]:.2f}",
            }
            for i, (p, v, b) in enumerate(zip(positions, vols, basis, strict=True))
        ],
        "correlation": [[round(x, 3) for x in row] for row in corr.tolist()],
    }


def snapshot_risk_store(*, snapshot: Snapshot) -> Snapshot:
    """Compute and store the snapshot's risk; a failure is stored as ``{"error": ...}``, never raised."""
    try:
        report = treasury_risk(snapshot)
    except (ValueError, np.linalg.LinAlgError, RuntimeError) as exc:
        report = {"error": f"{exc.__class__.__name__}: {exc}"[:500], "positions": [], "horizons": []}
    Snapshot.objects.filter(pk=snapshot.pk).update(risk=report)
    snapshot.risk = report
    mesh.publish_on_commit(
        "treasury.snapshot.risk",
        {"company": snapshot.company.slug, "snapshot": snapshot.pk, "ok": "error" not in report},
    )
    return snapshot
