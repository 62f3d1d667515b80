"""Monte Carlo risk for a metal position: GBM (normal or Student-t shocks), VaR, ES, quantiles, on Taichi or NumPy.

`simulate` is the entry point, `closed_form` gives the exact figures under normal shocks. Importing this
package does not import Taichi: the kernel loads on first use, on the runtime's owner thread.
"""

from __future__ import annotations

from compute.montecarlo.risk import (
    MAX_PATHS,
    Backend,
    GbmModel,
    RiskReport,
    closed_form,
    simulate,
    summarize,
    terminal_prices,
)

__all__ = [
    "MAX_PATHS",
    "Backend",
    "GbmModel",
    "RiskReport",
    "closed_form",
    "simulate",
    "summarize",
    "terminal_prices",
]
