"""The home page's biomimetic showcase: fresh frames of real simulations, with the figures they produced.

A producer runs a short, bounded simulation and returns (media type, bytes, figures). ``showcase_refresh`` runs
every producer (on the task cluster, every minute), stores each frame as an artifact, keeps the last few per kind,
and publishes ``compute.showcase.updated`` so open home pages swap the picture.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from django.db import transaction

import mesh
from computejobs.figures import figures_caption
from computejobs.models import ShowcaseFrame

logger = logging.getLogger(__name__)
KEEP_PER_KIND = 5
PRODUCERS: dict[str, tuple[str, Callable[[], tuple[str, bytes, dict]]]] = {}


def producer(kind: str, *, sentence: str):
    def register(fn):
        PRODUCERS[kind] = (sentence, fn)
        return fn

    return register


@producer(
    "tsp",
    sentence="An ant colony (MAX-MIN ant system with 2-opt on Taichi) searches for the shortest tour through Berlin's 52 landmarks.",
)
def tsp_frame() -> tuple[str, bytes, dict]:
    from compute.aco import solve
    from compute.instances import BUNDLED_DIR, KNOWN_OPTIMA
    from compute.tsplib import load_instance
    from computejobs.svg import tour_svg

    instance = load_instance(BUNDLED_DIR / "berlin52.tsp")
    optimum = KNOWN_OPTIMA[instance.name]
    # A short, seeded-at-random run: some frames reach the optimum, some show the colony on its way.
    result = solve(instance, iterations=random.randint(1, 12), seed=random.randrange(2**31))  # noqa: S311 (a demo run)
    gap = (result.length - optimum) / optimum * 100
    figures = {"instance": instance.name, "cities": instance.dimension, "length": int(result.length),
               "optimum": optimum, "gap_percent": round(gap, 2), "iterations": result.iterations,
               "seconds": round(result.seconds, 3)}  # fmt: skip
    title = f"{instance.name}: {result.length} ({gap:+.2f}% vs optimum {optimum})"
    svg = tour_svg(instance.coords.tolist(), result.tour.tolist(), title=title, size=360)
    return "image/svg+xml", svg.encode(), figures


@producer(
    "physarum",
    sentence="Fifty thousand slime-mould agents sense, turn, move and deposit; their trail grows into a network between six food sources.",
)
def physarum_showcase() -> tuple[str, bytes, dict]:
    from computejobs.kinds import physarum_frame

    seed = random.randrange(2**31)  # noqa: S311 (a demo run)
    figures, png = physarum_frame(size=256, agents=50_000, steps=250, nodes=6, seed=seed)
    return "image/png", png, figures


@producer(
    "flocking",
    sentence="A wolf pack hunts a flock: prey separate, align and cohere while fleeing; predators chase the nearest.",
)
def flocking_showcase() -> tuple[str, bytes, dict]:
    from computejobs.kinds import flocking_frame

    seed = random.randrange(2**31)  # noqa: S311 (a demo run)
    figures, png = flocking_frame(size=360, prey=4_000, predators=10, steps=150, seed=seed)
    return "image/png", png, figures


def showcase_refresh() -> list[ShowcaseFrame]:
    """Produce one frame per kind; a failing producer is logged and skipped (the page keeps its last frame)."""
    from mesh.services import artifact_store

    frames = []
    for kind, (_sentence, produce) in PRODUCERS.items():
        started = time.perf_counter()
        try:
            media_type, data, figures = produce()
        except Exception:
            logger.exception("Showcase %s failed", kind)
            continue
        figures["wall_seconds"] = round(time.perf_counter() - started, 3)
        artifact = artifact_store(content=data, name=f"showcase-{kind}", media_type=media_type)
        with transaction.atomic():
            frame = ShowcaseFrame.objects.create(
                kind=kind, blake3=artifact.blake3, media_type=media_type, figures=figures
            )
            stale = ShowcaseFrame.objects.filter(kind=kind).order_by("-created_at")[KEEP_PER_KIND:]
            ShowcaseFrame.objects.filter(pk__in=[f.pk for f in stale]).delete()
            payload = {"kind": kind, "frame": frame.pk, "figures": figures, "caption": figures_caption(figures)}
            mesh.publish("compute.showcase.updated", payload)
        frames.append(frame)
    return frames


def showcase_latest() -> list[dict]:
    """Return, per kind, its sentence, newest frame (None when none was produced yet) and the frame's figures as
    a caption people read."""
    latest = []
    for kind, (sentence, _fn) in PRODUCERS.items():
        frame = ShowcaseFrame.objects.filter(kind=kind).order_by("-created_at").first()
        caption = figures_caption(frame.figures) if frame else ""
        latest.append({"kind": kind, "sentence": sentence, "frame": frame, "caption": caption})
    return latest
