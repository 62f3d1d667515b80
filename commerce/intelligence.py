"""Market-intelligence figures from a price series: pure functions, no Django.

Volatility is annualised with √365: metals trade nearly around the clock and the feed is sampled in calendar
time. Value-at-risk and expected shortfall are closed-form for a lognormal price with zero drift over the
horizon (the compute package adds Monte Carlo with fat tails):

    s = σ·√T, m = −s²/2 (a martingale), z = Φ⁻¹(1 − α)
    VaR_α = S · (1 − exp(m + s·z))
    ES_α  = S · (1 − Φ(z − s) / (1 − α))
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import NormalDist, fmean, stdev

MINUTES_PER_YEAR = 365 * 24 * 60


@dataclass(frozen=True)
class Point:
    at: datetime
    price: float


def price_at_or_before(series: Sequence[Point], moment: datetime) -> float | None:
    before = [p for p in series if p.at <= moment]
    return before[-1].price if before else None


def daily_closes(series: Sequence[Point]) -> list[float]:
    """Return the last price of each calendar day (UTC), oldest first."""
    closes: dict = {}
    for p in series:
        closes[p.at.date()] = p.price
    return [closes[d] for d in sorted(closes)]


def realised_volatility(closes: Sequence[float]) -> float | None:
    """Annualised standard deviation of daily log returns (√365); None with fewer than three closes."""
    if len(closes) < 3:
        return None
    returns = [math.log(b / a) for a, b in itertools.pairwise(closes)]
    return stdev(returns) * math.sqrt(365)


def var_es(*, price: float, sigma: float, horizon_minutes: float, confidence: float) -> tuple[float, float]:
    """Return (VaR, ES) in price units for one unit held over the horizon, lognormal with zero drift."""
    s = sigma * math.sqrt(horizon_minutes / MINUTES_PER_YEAR)
    m = -(s**2) / 2
    z = NormalDist().inv_cdf(1 - confidence)
    var = price * (1 - math.exp(m + s * z))
    es = price * (1 - NormalDist().cdf(z - s) / (1 - confidence))
    return var, es


def brief_figures(series: Sequence[Point], *, now: datetime, horizon_minutes: float, confidence: float = 0.99) -> dict:
    """Compute the brief's figures from a time-ordered series (rounded for display, floats as strings)."""
    last = series[-1].price
    closes = daily_closes(series)
    figures: dict = {"last": last, "as_of": series[-1].at.isoformat(), "points": len(series)}
    for label, delta in (("change_24h", timedelta(hours=24)), ("change_7d", timedelta(days=7))):
        then = price_at_or_before(series, now - delta)
        figures[label] = None if then is None else (last - then) / then
    for label, days in (("vol_7d", 7), ("vol_30d", 30)):
        figures[label] = realised_volatility(closes[-(days + 1) :])
    for label, days in (("ma_7d", 7), ("ma_30d", 30)):
        window = closes[-days:]
        figures[label] = fmean(window) if len(window) >= min(days, 2) else None
    sigma = figures["vol_30d"] or figures["vol_7d"]
    if sigma:
        var, es = var_es(price=last, sigma=sigma, horizon_minutes=horizon_minutes, confidence=confidence)
        figures |= {"var": var, "es": es, "confidence": confidence, "horizon_minutes": horizon_minutes}
    return figures


def narrative_from_template(metal_name: str, f: dict) -> str:
    """A plain-language paragraph over the same figures (used when no language model is configured)."""

    def pct(x):
        return "n/a" if x is None else f"{x * 100:+.2f}%"

    parts = [
        f"{metal_name} last traded at ${f['last']:,.2f} per troy ounce ({pct(f.get('change_24h'))} over 24 hours,"
        f" {pct(f.get('change_7d'))} over 7 days)."
    ]
    if f.get("vol_30d") or f.get("vol_7d"):
        vol = f.get("vol_30d") or f.get("vol_7d")
        parts.append(f"Realised volatility runs at {vol * 100:.1f}% a year.")
    if f.get("ma_7d") and f.get("ma_30d"):
        trend = "above" if f["ma_7d"] > f["ma_30d"] else "below"
        parts.append(f"The 7-day average (${f['ma_7d']:,.2f}) sits {trend} the 30-day average (${f['ma_30d']:,.2f}).")
    if f.get("var"):
        parts.append(
            f"Over a {f['horizon_minutes']:.0f}-minute price lock, one ounce has a {f['confidence']:.0%}"
            f" value-at-risk of ${f['var']:,.2f} and an expected shortfall of ${f['es']:,.2f}."
        )
    return " ".join(parts)
