"""Offline spot feed: geometric Brownian motion from realistic levels, seeded, labelled ``simulated``."""

from __future__ import annotations

import math
import random
from datetime import datetime
from decimal import Decimal

from commerce.feeds.base import RawTick, spread

# Levels (USD per troy oz) and annual volatilities close to late-2026 markets.
LEVELS = {"XAU": 2650.0, "XAG": 31.0, "XPT": 960.0, "XPD": 1010.0}
VOLATILITY = {"XAU": 0.15, "XAG": 0.26, "XPT": 0.22, "XPD": 0.32}
SECONDS_PER_YEAR = 365.25 * 24 * 3600


class SimulatedProvider:
    name = "simulated"

    def __init__(self, *, seed: int = 7, spread_bps: int = 20) -> None:
        self.seed = seed
        self.spread_bps = spread_bps

    def fetch(self, *, previous: dict[str, Decimal], now: datetime, elapsed_s: float) -> list[RawTick]:
        """Step each metal's mid price from ``previous`` (or its level) over ``elapsed_s`` seconds.

        The random draw is seeded by the seed and the timestamp, so a given history replays exactly.
        """
        rng = random.Random(f"{self.seed}:{now.timestamp():.3f}")  # noqa: S311 (a simulation, not a secret)
        dt = max(elapsed_s, 1.0) / SECONDS_PER_YEAR
        ticks = []
        for metal, level in LEVELS.items():
            start = float(previous.get(metal, level))
            sigma = VOLATILITY[metal]
            # Mean-revert gently towards the level so a long-running demo stays realistic.
            drift = 0.5 * math.log(level / start)
            mid = start * math.exp((drift - sigma**2 / 2) * dt + sigma * math.sqrt(dt) * rng.gauss(0, 1))
            bid, ask = spread(Decimal(str(round(mid, 4))), self.spread_bps)
            ticks.append(RawTick(metal, bid, ask, "USD", self.name, now))
        return ticks
