"""Compute job kinds: each validates its parameters (naming every wrong one) and runs its kernel in the worker.

A kind registers a validator (returns clean parameters or raises JobError with each wrong parameter's own error)
and a runner (returns a result dict and a list of (name, media type, bytes) outputs). No database access except
the spot price a ``montecarlo`` job without ``spot`` reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from compute.instances import KNOWN_OPTIMA, instance_path, instance_paths
from dreamnet.errors import DomainError


class JobError(DomainError):
    """Parameters a job refuses. ``errors`` maps each wrong parameter to its own message (what is allowed); the
    detail states them all, and the API adds ``errors`` to its body."""

    code = "bad_job"
    status = 422

    def __init__(self, detail: str = "", *, errors: dict[str, str] | None = None) -> None:
        errors = dict(errors or {})
        super().__init__(detail or " ".join(errors.values()), extra={"errors": errors} if errors else None)
        self.errors = errors


Output = tuple[str, str, bytes]
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Kind:
    validate: Callable[[dict], dict]
    run: Callable[[dict, Progress], tuple[dict, list[Output]]]
    summary: str


KINDS: dict[str, Kind] = {}


def register(name: str, *, summary: str):
    def wrap(cls):
        KINDS[name] = Kind(validate=cls.validate, run=cls.run, summary=summary)
        return cls

    return wrap


class _Check:
    """Collect every wrong parameter's own error, so one refusal names all of them (not only the first)."""

    def __init__(self, params: dict) -> None:
        self.params = params
        self.errors: dict[str, str] = {}

    def error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, message)

    def merge(self, exc: JobError) -> None:
        for key, message in exc.errors.items():
            self.error(key, message)

    def number(self, key: str, default: Any, *, low: float, high: float, cast: Callable = float) -> Any:
        """Return the parameter cast and within [low, high], or record its error and return None."""
        value = self.params.get(key, default)
        try:
            value = cast(value)
        except (TypeError, ValueError):
            self.error(key, f"{key} must be a number; got {value!r}.")
            return None
        if not low <= value <= high:
            self.error(key, f"{key} must be between {low} and {high}; got {value}.")
            return None
        return value

    def done(self, clean: dict) -> dict:
        """Return ``clean``, or raise JobError naming every parameter found wrong."""
        if self.errors:
            raise JobError(errors=self.errors)
        return clean


# TSP -----------------------------------------------------------------------------------------------------


def tsplib_instance(params: dict):
    """Load the offered instance named by ``instance`` (bundled, or in DREAMNET_TSPLIB_DIR) or parse ``tsplib``.

    Raises JobError under the parameter at fault.
    """
    from compute.tsplib import TsplibError, load_instance, parse_instance

    if params.get("tsplib"):
        try:
            return parse_instance(str(params["tsplib"]), source="upload")
        except TsplibError as exc:
            raise JobError(errors={"tsplib": str(exc)}) from exc
    name = str(params.get("instance", ""))
    path = instance_path(name, settings.TSPLIB_DIR) if name else None
    if path is None:
        offered = ", ".join(instance_paths(settings.TSPLIB_DIR))
        raise JobError(errors={"instance": f"Give `tsplib` (the file's text) or `instance`, one of: {offered}."})
    try:
        return load_instance(path)
    except (OSError, TsplibError) as exc:
        raise JobError(errors={"instance": f"instance {name!r} cannot be read: {exc}"}) from exc


@register("tsp", summary="Ant-colony TSP solver (MAX-MIN ant system with 2-opt)")
class TspJob:
    @staticmethod
    def validate(params: dict) -> dict:
        check = _Check(params)
        try:
            instance = tsplib_instance(params)
        except JobError as exc:
            check.merge(exc)
        else:
            key = "tsplib" if params.get("tsplib") else "instance"
            if instance.dimension > settings.COMPUTE_MAX_CITIES:
                check.error(
                    key, f"The instance has {instance.dimension} cities; the limit is {settings.COMPUTE_MAX_CITIES}."
                )
            elif instance.dimension < 4:  # the colony's 2-opt needs two edges that share no city
                check.error(key, f"The instance has {instance.dimension} cities; the ant colony needs at least 4.")
        clean = {k: params[k] for k in ("instance", "tsplib") if params.get(k)}
        clean["seconds"] = check.number("seconds", 10, low=0.1, high=settings.COMPUTE_MAX_SECONDS)
        clean["seed"] = check.number("seed", 0, low=0, high=2**31 - 1, cast=int)
        return check.done(clean)

    @staticmethod
    def run(params: dict, progress: Progress) -> tuple[dict, list[Output]]:
        from compute.aco import solve
        from computejobs.svg import convergence_svg, tour_svg

        instance = tsplib_instance(params)
        optimum = KNOWN_OPTIMA.get(instance.name)
        progress(0.05, f"solving {instance.name} ({instance.dimension} cities) for up to {params['seconds']} s")
        result = solve(instance, seconds=params["seconds"], seed=params["seed"], target=optimum)
        gap = None if optimum is None else round((result.length - optimum) / optimum * 100, 3)
        summary = {
            "name": instance.name, "n": instance.dimension, "length": int(result.length), "optimum": optimum,
            "gap_percent": gap, "seconds": round(result.seconds, 3), "iterations": result.iterations,
            "trace": [[round(p.seconds, 4), int(p.length)] for p in result.trace],
        }  # fmt: skip
        title = f"{instance.name}: {result.length}" + (f" ({gap:+.2f}% vs optimum {optimum})" if optimum else "")
        outputs = [
            ("tour.svg", "image/svg+xml", tour_svg(instance.coords.tolist(), result.tour.tolist(), title=title).encode()),
            ("convergence.svg", "image/svg+xml",
             convergence_svg([(p.seconds, p.length) for p in result.trace], title="best length", optimum=optimum).encode()),
            ("tour.json", "application/json", json.dumps({"name": instance.name, "tour": result.tour.tolist()}).encode()),
        ]  # fmt: skip
        return summary, outputs


# Monte Carlo risk ---------------------------------------------------------------------------------------------


@register(
    "montecarlo", summary="Monte Carlo value-at-risk and expected shortfall of a metal position (GBM, Student-t option)"
)
class MonteCarloJob:
    FIELDS = ("spot", "quantity", "drift", "volatility", "horizon_days", "steps", "shocks", "dof")

    @staticmethod
    def validate(params: dict) -> dict:
        from compute.montecarlo import GbmModel

        check = _Check(params)
        clean = {k: params[k] for k in MonteCarloJob.FIELDS if params.get(k) is not None}
        if "spot" not in clean:
            try:
                clean["spot"] = _spot_for(params.get("metal", "XAU"))
            except JobError as exc:
                check.merge(exc)
        # GbmModel names the first bad parameter it meets (its message starts with the name): set each one found
        # aside (a stand-in spot, else the model's default) and try again, so every bad parameter is named.
        probe = {"spot": 1.0} | clean
        for _ in range(len(MonteCarloJob.FIELDS) + 1):
            try:
                GbmModel(**probe)
                break
            except (TypeError, ValueError) as exc:
                key = str(exc).split(" ", 1)[0]
                known = key in probe and key not in check.errors
                check.error(key if key in MonteCarloJob.FIELDS else "params", str(exc))
                if not known:
                    break
                probe.pop(key)
                probe.setdefault("spot", 1.0)
        clean["paths"] = check.number("paths", 200_000, low=2, high=10_000_000, cast=int)
        clean["seed"] = check.number("seed", 0, low=0, high=2**31 - 1, cast=int)
        return check.done(clean)

    @staticmethod
    def run(params: dict, progress: Progress) -> tuple[dict, list[Output]]:
        from compute.montecarlo import GbmModel, closed_form, simulate

        model = GbmModel(**{k: params[k] for k in MonteCarloJob.FIELDS if k in params})
        progress(0.05, f"simulating {params['paths']:,} paths")
        report = simulate(model, paths=params["paths"], seed=params["seed"])
        exact = closed_form(model) if model.shocks == "normal" else None
        summary = {
            "initial_value": report.initial_value, "mean_terminal_value": report.mean_terminal_value,
            "stderr": report.stderr, "var": {str(k): v for k, v in report.var.items()},
            "es": {str(k): v for k, v in report.es.items()}, "paths": report.paths, "steps": report.steps,
            "seconds": round(report.seconds, 3), "backend": report.backend,
            "closed_form_var": {str(k): v for k, v in exact.var.items()} if exact else None,
        }  # fmt: skip
        return summary, [("risk.json", "application/json", json.dumps(summary, indent=2).encode())]


@register(
    "portfolio",
    summary="Monte Carlo VaR, expected shortfall and contributions of correlated positions (Cholesky; Student-t option)",
)
class PortfolioJob:
    """``values`` (USD per position), ``volatilities`` (annual), optional ``correlation`` (default identity),
    ``horizon_days``, ``shocks``/``dof``, ``paths``, ``seed``; the treasury runs the same model over its holdings."""

    @staticmethod
    def validate(params: dict) -> dict:
        from compute.montecarlo.portfolio import MAX_ASSETS, PortfolioModel

        check = _Check(params)
        values, vols = params.get("values"), params.get("volatilities")
        if not isinstance(values, list) or not 1 <= len(values) <= MAX_ASSETS:
            check.error("values", f"values must be a list of 1 to {MAX_ASSETS} position values in USD.")
            values = None
        if not isinstance(vols, list) or (values is not None and len(vols) != len(values)):
            check.error("volatilities", "volatilities must be a list with one annual volatility per value.")
            vols = None
        n = len(values) if values else 0
        corr = params.get("correlation") or [[float(i == j) for j in range(n)] for i in range(n)]
        shocks, dof = params.get("shocks", "normal"), params.get("dof")
        clean = {"values": values, "volatilities": vols, "correlation": corr, "shocks": shocks, "dof": dof}
        if values is not None and vols is not None:
            try:
                PortfolioModel(**clean)
            except (TypeError, ValueError) as exc:
                check.error("params", str(exc))
        clean["horizon_days"] = check.number("horizon_days", 10, low=1, high=250, cast=int)
        clean["paths"] = check.number("paths", 200_000, low=100, high=10_000_000, cast=int)
        clean["seed"] = check.number("seed", 0, low=0, high=2**31 - 1, cast=int)
        return check.done(clean)

    @staticmethod
    def run(params: dict, progress: Progress) -> tuple[dict, list[Output]]:
        from compute.montecarlo import GbmModel, closed_form
        from compute.montecarlo.portfolio import PortfolioModel, simulate_portfolio

        model = PortfolioModel(**{k: params[k] for k in ("values", "volatilities", "correlation", "shocks", "dof")})
        progress(0.05, f"simulating {params['paths']:,} joint paths of {len(model.values)} positions")
        risk = simulate_portfolio(model, horizon_days=params["horizon_days"], paths=params["paths"],
                                  seed=params["seed"])  # fmt: skip
        exact = None
        if len(model.values) == 1 and model.shocks == "normal":  # the single-asset Gaussian check
            exact = closed_form(GbmModel(spot=model.values[0], volatility=model.volatilities[0],
                                         horizon_days=params["horizon_days"], steps=params["horizon_days"],
                                         days_per_year=model.days_per_year))  # fmt: skip
        summary = {
            "value": risk.value, "horizon_days": risk.horizon_days, "paths": risk.paths, "backend": risk.backend,
            "seconds": round(risk.seconds, 3), "var": {str(k): v for k, v in risk.var.items()},
            "es": {str(k): v for k, v in risk.es.items()},
            "contributions": {str(k): v for k, v in risk.contributions.items()},
            "closed_form_var": {str(k): v for k, v in exact.var.items()} if exact else None,
        }  # fmt: skip
        return summary, [("risk.json", "application/json", json.dumps(summary, indent=2).encode())]


def _spot_for(metal: str) -> float:
    from commerce.selectors import spot_latest

    spot = spot_latest().get(str(metal))
    if spot is None:
        raise JobError(
            errors={"metal": f"No spot price for {metal!r}; give `spot` (price per unit) or wait for the feed."}
        )
    return float(spot.ask)


# Physarum ---------------------------------------------------------------------------------------------------


@register("physarum", summary="Physarum network: agents connect food sources with a trail network (Jones's model)")
class PhysarumJob:
    @staticmethod
    def validate(params: dict) -> dict:
        from compute.physarum import MAX_AGENTS

        check = _Check(params)
        clean = {
            "size": check.number("size", 256, low=32, high=2048, cast=int),
            "agents": check.number("agents", 50_000, low=1, high=MAX_AGENTS, cast=int),
            "steps": check.number("steps", 300, low=1, high=20_000, cast=int),
            "nodes": check.number("nodes", 6, low=2, high=64, cast=int),
            "seed": check.number("seed", 0, low=0, high=2**31 - 1, cast=int),
        }
        return check.done(clean)

    @staticmethod
    def run(params: dict, progress: Progress) -> tuple[dict, list[Output]]:
        figures, png = physarum_frame(**params, progress=progress)
        return figures, [("network.png", "image/png", png)]


def physarum_frame(*, size: int, agents: int, steps: int, nodes: int, seed: int, progress: Progress | None = None):
    """Run a physarum network between ``nodes`` food sources and return (figures, PNG bytes)."""
    import random
    import time as _time

    from compute.physarum import Physarum, PhysarumParams
    from compute.render import encode_png

    rng = random.Random(seed)  # noqa: S311 (placement of food in a simulation)
    food = [(rng.uniform(0.15, 0.85) * size, rng.uniform(0.15, 0.85) * size) for _ in range(nodes)]
    started = _time.perf_counter()
    with Physarum(PhysarumParams(width=size, height=size, agents=agents), food=food, seed=seed) as sim:
        chunk = max(1, steps // 10)
        done = 0
        while done < steps:
            sim.step(min(chunk, steps - done))
            done = min(steps, done + chunk)
            if progress is not None:
                progress(0.05 + 0.9 * done / steps, f"{done}/{steps} steps")
        image = sim.render()
    seconds = _time.perf_counter() - started
    figures = {"agents": agents, "steps": steps, "food_sources": nodes, "grid": f"{size}×{size}",
               "steps_per_second": round(steps / seconds, 1), "seconds": round(seconds, 3)}  # fmt: skip
    return figures, encode_png(image)


# Flocking ---------------------------------------------------------------------------------------------------


@register(
    "flocking", summary="Predator-prey flocking: boids flee wolves that pursue them (uniform-grid neighbour search)"
)
class FlockingJob:
    @staticmethod
    def validate(params: dict) -> dict:
        from compute.flocking import MAX_AGENTS

        check = _Check(params)
        clean = {
            "size": check.number("size", 512, low=64, high=8192, cast=int),
            "prey": check.number("prey", 5_000, low=1, high=MAX_AGENTS, cast=int),
            "predators": check.number("predators", 12, low=0, high=10_000, cast=int),
            "steps": check.number("steps", 200, low=1, high=20_000, cast=int),
            "seed": check.number("seed", 0, low=0, high=2**31 - 1, cast=int),
        }
        return check.done(clean)

    @staticmethod
    def run(params: dict, progress: Progress) -> tuple[dict, list[Output]]:
        figures, png = flocking_frame(**params, progress=progress)
        return figures, [("flock.png", "image/png", png)]


def flocking_frame(*, size: int, prey: int, predators: int, steps: int, seed: int, progress: Progress | None = None):
    """Run a predator-prey flock and return (figures, PNG bytes)."""
    import time as _time

    from compute.flocking import Flock, FlockParams
    from compute.render import encode_png

    started = _time.perf_counter()
    params = FlockParams(width=float(size), height=float(size), prey=prey, predators=predators)
    with Flock(params, seed=seed) as flock:
        chunk = max(1, steps // 10)
        done = 0
        while done < steps:
            flock.step(min(chunk, steps - done))
            done = min(steps, done + chunk)
            if progress is not None:
                progress(0.05 + 0.9 * done / steps, f"{done}/{steps} steps")
        image = flock.render(scale=min(1.0, 512 / size))
        catches = flock.catches
    seconds = _time.perf_counter() - started
    figures = {"prey": prey, "predators": predators, "steps": steps, "catches": catches,
               "steps_per_second": round(steps / seconds, 1), "seconds": round(seconds, 3)}  # fmt: skip
    return figures, encode_png(image)


# Render ---------------------------------------------------------------------------------------------------


@register("render", summary="Path-traced render of a JSON scene (Loom validates, Fabric renders to PNG)")
class RenderJob:
    @staticmethod
    def validate(params: dict) -> dict:
        from compute.render import SCENES, SceneError, load_scene, prepare

        check = _Check(params)
        scene = params.get("scene", "showcase")
        if isinstance(scene, str):
            path = SCENES / f"{scene}.json"
            if "/" in scene or not path.is_file():
                names = ", ".join(sorted(p.stem for p in SCENES.glob("*.json")))
                check.error("scene", f"scene is a JSON object or the name of a bundled scene ({names}); got {scene!r}.")
            else:
                scene = load_scene(path)
        elif not isinstance(scene, dict):
            check.error("scene", "scene is a JSON object or the name of a bundled scene.")
        overrides = {
            k: check.number(k, None, low=1, high=4096, cast=int)
            for k in ("width", "height", "samples")
            if params.get(k) is not None
        }
        if not check.errors:
            try:
                prepare(scene, **overrides)
            except SceneError as exc:
                check.error("scene", str(exc))
        return check.done({"scene": scene, **overrides})

    @staticmethod
    def run(params: dict, progress: Progress) -> tuple[dict, list[Output]]:
        from compute.render import encode_png, render_scene

        progress(0.02, "rendering")
        result = render_scene(params["scene"], **{k: params[k] for k in ("width", "height", "samples") if k in params},
                              progress=lambda fraction: progress(0.02 + 0.96 * fraction, "rendering"))  # fmt: skip
        summary = {"seconds": round(result.seconds, 3), "width": int(result.image.shape[1]),
                   "height": int(result.image.shape[0]), "stats": result.stats}  # fmt: skip
        return summary, [("frame.png", "image/png", encode_png(result.image))]


# Loom language model ----------------------------------------------------------------------------------------


def loom_corpus(params: dict):
    """The corpus a ``lm_train`` job names: ``corpus`` (``shakespeare``, or a file or folder under
    ``$DREAMNET_HOME/corpora``), ``corpus_artifact`` (the BLAKE3 of an uploaded text artifact) or ``corpus_text``.

    Raises JobError under the parameter at fault (empty, binary, missing)."""
    from pathlib import Path

    from compute.loom import LoomError, corpus_from_bytes, corpus_from_path

    try:
        if params.get("corpus_text"):
            text = str(params["corpus_text"])
            if len(text) > LOOM_MAX_INLINE_CHARS:
                raise JobError(errors={"corpus_text": f"corpus_text is {len(text):,} characters; inline text is at "
                                                      f"most {LOOM_MAX_INLINE_CHARS:,}. Upload a larger corpus as "
                                                      "an artifact and give corpus_artifact."})  # fmt: skip
            return corpus_from_bytes(text.encode(), source="inline text")
        if params.get("corpus_artifact"):
            from mesh.models import Artifact
            from mesh.services import artifact_read

            artifact = Artifact.objects.filter(blake3=str(params["corpus_artifact"])).first()
            if artifact is None:
                raise JobError(errors={"corpus_artifact": f"No artifact {params['corpus_artifact']!r} on this node."})
            return corpus_from_bytes(artifact_read(artifact), source=f"artifact {artifact.blake3[:12]}")
        name = str(params.get("corpus") or "")
        if not name:
            raise JobError(errors={"corpus": "Give corpus (shakespeare or a path under the node's corpora folder), "
                                             "corpus_artifact or corpus_text."})  # fmt: skip
        if name == "shakespeare":
            return corpus_from_path(name)
        root = (Path(settings.DREAMNET_HOME) / "corpora").resolve()
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            raise JobError(errors={"corpus": f"corpus paths stay inside {root}; got {name!r}."})
        return corpus_from_path(path)
    except LoomError as exc:
        key = next((k for k in ("corpus_text", "corpus_artifact", "corpus") if params.get(k)), "corpus")
        raise JobError(errors={key: str(exc)}) from exc


LOOM_MAX_INLINE_CHARS = 32_000
LOOM_CONFIG_KEYS = ("dim", "blocks", "heads", "context", "steps", "lr", "batch", "eval_every", "eval_batches",
                    "patience", "seed")  # fmt: skip
LOOM_DEFAULTS = {"dim": 64, "blocks": 2, "heads": 4, "context": 64, "steps": 500, "lr": 1e-3, "batch": 12,
                 "eval_every": 100, "eval_batches": 20, "patience": 3, "seed": 0}  # fmt: skip


@register("lm_train", summary="Train a Loom character-level language model on a text corpus (CPU, autograd)")
class LmTrainJob:
    @staticmethod
    def validate(params: dict) -> dict:
        from compute.loom import Config, LoomError
        from compute.loom.train import check_memory

        check = _Check(params)
        clean = {k: params[k] for k in ("corpus", "corpus_artifact", "corpus_text") if params.get(k)}
        for key in LOOM_CONFIG_KEYS:
            low, high = Config.LIMITS[key]
            cast = float if key == "lr" else int
            clean[key] = check.number(key, LOOM_DEFAULTS[key], low=low, high=min(high, 1.0) if key == "lr" else high,
                                      cast=cast)  # fmt: skip
        if clean["steps"] is not None and clean["lr"] is not None:  # nanoGPT's schedule: warm up, decay to lr/10
            clean["warmup"], clean["min_lr"] = min(100, clean["steps"] // 10), clean["lr"] / 10
        try:
            corpus = loom_corpus(params)
        except JobError as exc:
            check.merge(exc)
            corpus = None
        if not check.errors:
            try:
                config = Config.from_dict(clean)
                if corpus is not None:
                    from compute.loom.corpus import split

                    split(corpus, config.context)
                    clean["memory_mb"] = round(check_memory(config, len(corpus.vocab)) / 2**20, 1)
            except LoomError as exc:
                check.error("config" if exc.code != "corpus_too_small" else "corpus", str(exc))
        if corpus is not None:
            clean["corpus_digest"], clean["corpus_chars"] = corpus.digest, len(corpus.text)
        return check.done(clean)

    @staticmethod
    def run(params: dict, progress: Progress) -> tuple[dict, list[Output]]:
        from compute.loom import LoomError
        from computejobs.loom import train_job

        try:
            return train_job(params, loom_corpus(params), progress)
        except LoomError as exc:  # stopped with its reason: nan_loss names the step
            raise JobError(errors={"lr" if exc.code == "nan_loss" else "corpus": f"{exc.code}: {exc}"}) from exc


@register("lm_generate", summary="Generate text from a trained Loom model (prompt, temperature, top-k/top-p, seed)")
class LmGenerateJob:
    @staticmethod
    def validate(params: dict) -> dict:
        from compute.loom import LoomError
        from compute.loom.train import encode
        from computejobs.loom import checkpoint_load

        check = _Check(params)
        clean = {
            "model": str(params.get("model") or ""),
            "prompt": str(params.get("prompt") or ""),
            "max_tokens": check.number("max_tokens", 200, low=1, high=10_000, cast=int),
            "temperature": check.number("temperature", 0.8, low=0.0, high=5.0),
            "top_k": check.number("top_k", 0, low=0, high=100_000, cast=int),
            "top_p": check.number("top_p", 1.0, low=0.01, high=1.0),
            "seed": check.number("seed", 0, low=0, high=2**31 - 1, cast=int),
        }
        try:
            checkpoint = checkpoint_load(clean["model"])
            encode(checkpoint, clean["prompt"])
        except LoomError as exc:
            check.error("model" if exc.code not in ("prompt_too_long", "unknown_characters") else "prompt", str(exc))
        return check.done(clean)

    @staticmethod
    def run(params: dict, progress: Progress) -> tuple[dict, list[Output]]:
        from computejobs.loom import generate_job

        return generate_job(params, progress)
