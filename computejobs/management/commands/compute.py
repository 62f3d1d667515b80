"""Run compute work from the shell: ``compute tsp FILE``, ``compute bench``; jobs with ``compute job KIND``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from compute.instances import KNOWN_OPTIMA, instance_path, instance_paths
from computejobs.kinds import KINDS, JobError
from computejobs.services import job_create


class Command(BaseCommand):
    help = "Solve a TSPLIB instance, run the compute benchmark, or queue a compute job."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{tsp,render,bench,job}")
        tsp = sub.add_parser("tsp", help="Solve a TSPLIB file or an offered instance with the ant colony here and now.")
        tsp.add_argument("file", help="a TSPLIB .tsp file, or the name of an offered instance (e.g. kroA100)")
        tsp.add_argument("--seconds", type=float, default=10.0)
        tsp.add_argument("--seed", type=int, default=0)
        tsp.add_argument("--json", action="store_true", help="Print one JSON object.")
        render = sub.add_parser("render", help="Render a JSON scene to a PNG here and now.")
        render.add_argument("scene")
        render.add_argument("out")
        render.add_argument("--width", type=int)
        render.add_argument("--height", type=int)
        render.add_argument("--samples", type=int)
        bench = sub.add_parser("bench", help="Run bench/compute.py.")
        bench.add_argument("--quick", action="store_true")
        job = sub.add_parser("job", help="Queue a job on the task cluster.")
        job.add_argument("kind", choices=sorted(KINDS))
        job.add_argument("params", help='JSON parameters, e.g. \'{"instance": "eil51", "seconds": 5}\'')

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    def _tsp(self, *, file: str, seconds: float, seed: int, json: bool, **_options) -> None:
        from compute.aco import solve
        from compute.tsplib import TsplibError, load_instance

        if not 0 < seconds <= settings.COMPUTE_MAX_SECONDS:
            raise CommandError(f"--seconds must be in (0, {settings.COMPUTE_MAX_SECONDS}].")
        path = Path(file)
        if not path.exists():
            path = instance_path(file, settings.TSPLIB_DIR) or path
        try:
            instance = load_instance(path)
        except FileNotFoundError as exc:
            offered = ", ".join(instance_paths(settings.TSPLIB_DIR))
            raise CommandError(f"No file {file!r} and no offered instance of that name; offered: {offered}.") from exc
        except (OSError, TsplibError) as exc:
            raise CommandError(str(exc)) from exc
        optimum = KNOWN_OPTIMA.get(instance.name)
        result = solve(instance, seconds=seconds, seed=seed, target=optimum)
        gap = None if optimum is None else round((result.length - optimum) / optimum * 100, 3)
        out = {"name": instance.name, "n": instance.dimension, "length": int(result.length), "optimum": optimum,
               "gap_percent": gap, "seconds": round(result.seconds, 3), "iterations": result.iterations}  # fmt: skip
        if json:
            self.stdout.write(_json(out))
            return
        self.stdout.write(f"{instance.name}: {instance.dimension} cities, tour length {result.length}"
                          + (f" (optimum {optimum}, {gap:+.2f}%)" if optimum else "")
                          + f" in {result.seconds:.2f} s, {result.iterations} iterations")  # fmt: skip

    def _render(self, *, scene: str, out: str, width, height, samples, **_options) -> None:
        from compute.render import SceneError, render_scene, write_png

        try:
            result = render_scene(Path(scene), width=width, height=height, samples=samples)
        except SceneError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {scene}: {exc.strerror}") from exc
        write_png(out, result.image)
        self.stdout.write(
            f"Rendered {scene} to {out} ({result.image.shape[1]}×{result.image.shape[0]}) in {result.seconds:.2f} s"
        )

    def _bench(self, *, quick: bool, **_options) -> None:
        script = Path(settings.BASE_DIR) / "bench" / "compute.py"
        code = subprocess.call([sys.executable, str(script), *(["--quick"] if quick else [])])
        if code:
            raise CommandError(f"bench/compute.py exited with {code}")

    def _job(self, *, kind: str, params: str, **_options) -> None:
        try:
            job = job_create(kind=kind, params=json.loads(params))
        except (ValueError, JobError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Queued {kind} job {job.pk}; follow it at /console/compute/{job.pk}/ or GET /api/compute/jobs/{job.pk}."
        )


def _json(value) -> str:
    return json.dumps(value)
