"""Spot-price providers. Each returns one tick per metal or raises FeedError; none touches the database.

- ``simulated`` (default, offline): seeded geometric Brownian motion from realistic levels; labelled simulated.
- ``metalpriceapi``: MetalpriceAPI `/v1/latest` (``rates.USDXAU`` is USD per troy ounce).
- ``metalsdev``: Metals.Dev `/v1/latest` (``metals.gold`` in USD per troy ounce).

Providers that report one price get a spread of ``spread_bps`` around it for bid and ask.
"""

from __future__ import annotations

from commerce.feeds.base import FeedError, RawTick
from commerce.feeds.http import MetalpriceApiProvider, MetalsDevProvider
from commerce.feeds.simulated import SimulatedProvider

__all__ = ["FeedError", "MetalpriceApiProvider", "MetalsDevProvider", "RawTick", "SimulatedProvider"]
