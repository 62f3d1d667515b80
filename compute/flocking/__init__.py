"""Predator-prey flocking ("wolf pack"): boids and pursuit with a uniform-grid neighbour search, on Taichi or NumPy.

`Flock` is the entry point, `render_flock` draws a state, `neighbour_summary` runs the grid search on its own.
Importing this package does not import Taichi: the kernels load on first use, on the runtime's owner thread.
"""

from __future__ import annotations

from compute.flocking.reference import NeighbourSummary, brute_force_neighbours
from compute.flocking.render import render_flock
from compute.flocking.sim import MAX_AGENTS, Backend, Flock, FlockParams, neighbour_summary

__all__ = [
    "MAX_AGENTS",
    "Backend",
    "Flock",
    "FlockParams",
    "NeighbourSummary",
    "brute_force_neighbours",
    "neighbour_summary",
    "render_flock",
]
