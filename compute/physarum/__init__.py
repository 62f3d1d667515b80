"""Physarum network ("mycelium"): Jones's agent model with food nodes, cuts and regrowth, on Taichi or NumPy.

`Physarum` is the entry point and `render_trail` turns a trail into an RGB image. Importing this package does
not import Taichi: the kernels load on first use, on the runtime's owner thread.
"""

from __future__ import annotations

from compute.physarum.render import render_trail
from compute.physarum.sim import MAX_AGENTS, Backend, MassLedger, Physarum, PhysarumParams

__all__ = ["MAX_AGENTS", "Backend", "MassLedger", "Physarum", "PhysarumParams", "render_trail"]
