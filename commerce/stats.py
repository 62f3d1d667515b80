from __future__ import annotations

from commerce.selectors import spot_latest
from dreamnet.stats import StatUnavailable, stat


@stat("spot_gold", label="spot gold")
def spot_gold() -> tuple[str, str]:
    gold = spot_latest().get("XAU")
    if gold is None:
        raise StatUnavailable("no gold price yet")
    detail = gold.source + (" (simulated, not market data)" if gold.simulated else "")
    if gold.stale:
        detail += f"; stale, {gold.age_s:.0f} s old"
    return f"${gold.ask:,.2f}", detail
