"""Ant colony optimisation for the symmetric TSP: MAX-MIN Ant System with 2-opt, on Taichi or NumPy.

`solve` is the entry point; `improve_tours` exposes the 2-opt local search on its own. Importing this
package does not import Taichi: the kernels load on first use, on the runtime's owner thread.
"""

from __future__ import annotations

from compute.aco.solver import AcoParams, AcoResult, Backend, TracePoint, improve_tours, solve

__all__ = ["AcoParams", "AcoResult", "Backend", "TracePoint", "improve_tours", "solve"]
