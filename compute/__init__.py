"""Compute: Taichi kernels for simulation and rendering (CPU everywhere, CUDA when present).

A plain package with no models. Nothing here imports Taichi at import time: the runtime initialises it
lazily in the process that uses it (see the Taichi rules in docs/architecture.md).
"""
