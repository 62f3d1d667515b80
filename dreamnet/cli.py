"""The ``dream`` command: a thin command line over the node (``dream health``, ``dream whoami``).

It reads the same environment as ``manage.py`` (``DJANGO_SETTINGS_MODULE`` defaults to ``dreamnet.settings``) and
runs in the node's process space: ``dream health`` runs the probes itself and reads the stored probe history, so
it works in a one-shot container beside the web server (``podman run ... dreamnet dream health``).
"""

from __future__ import annotations

import json
import os
import platform
import sys
from typing import Annotated

import typer

from mesh.sync import cli_node as sync_cli
from mesh.sync.cli_sync import register as register_sync_verbs

app = typer.Typer(help="DreamNet node commands.", no_args_is_help=True, add_completion=False)
app.add_typer(__import__("computejobs.loom_cli", fromlist=["app"]).app, name="loom")  # dream loom (issue 21)


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dreamnet.settings")
    import django

    django.setup()


def _matrix_lines(coherence: dict) -> list[str]:
    services = coherence["services"]
    width = max(len(s) for s in services)
    head = " " * (width + 2) + " ".join(f"{s[:8]:>8}" for s in services)
    rows = [head]
    for name, row in zip(services, coherence["matrix"], strict=True):
        rows.append(f"  {name:<{width}}" + " ".join(f"{x:8.4f}" for x in row))
    return rows


@app.command()
def health(
    as_json: Annotated[bool, typer.Option("--json", help="Print the snapshot and coherence object as JSON.")] = False,
    window: Annotated[
        int | None, typer.Option(help="Coherence window in seconds (default DREAMNET_HEALTH_WINDOW_S).", min=60)
    ] = None,
) -> None:
    """Run the health probes and show the coherence view of the stored probe history; exit 1 when down."""
    _setup()
    from dreamnet.health import coherence_view, health_snapshot

    snapshot = health_snapshot()
    try:
        coherence = coherence_view(window_s=window)
    except Exception as exc:  # the database is down: the probes above already say so
        coherence = {"matrix": None, "reading": f"the probe history cannot be read: {exc}"}
    if as_json:
        typer.echo(json.dumps({**snapshot, "coherence": coherence}, indent=2))
    else:
        typer.echo(f"status {snapshot['status']} at {snapshot['checked_at']} ({snapshot['environment']})")
        for p in snapshot["probes"]:
            mark = "ok  " if p["ok"] else ("DOWN" if p["required"] else "FAIL")
            typer.echo(f"  {mark} {p['name']:<16} {p['latency_ms']:>9.2f} ms  {p['detail']}")
        typer.echo("")
        if coherence.get("matrix") is None:
            typer.echo(f"coherence: {coherence['reading']}")
        else:
            w = coherence["window"]
            typer.echo(f"coherence over {w['rounds']} measured probe rounds in the last {w['seconds']} s:")
            for line in _matrix_lines(coherence):
                typer.echo(line)
            eig = ", ".join(f"{x:.4f}" for x in coherence["eigenvalues"])
            typer.echo(
                f"  purity {coherence['purity']:.4f}  entropy {coherence['entropy']:.4f} bits  eigenvalues {eig}"
            )
            typer.echo(f"  reading: {coherence['reading']}")
    raise typer.Exit(1 if snapshot["status"] == "down" else 0)


@app.command()
def whoami(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show this node: identity (id, origin, verifier key), environment, database, broker and home folder."""
    _setup()
    from django.conf import settings
    from django.db import connection

    from mesh.identity import node_identity

    identity = node_identity()
    info = {
        "node_id": identity.node_id,
        "origin": identity.origin,
        "verifier_key": identity.verifier_key,
        "environment": settings.DREAMNET_ENV,
        "database": f"{connection.vendor} {connection.settings_dict.get('NAME')}",
        "redis": bool(settings.REDIS_URL),
        "home": str(settings.DREAMNET_HOME),
        "python": platform.python_version(),
    }
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        typer.echo(f"{key:<13} {value}")


sync_cli.register(app)  # pack, open, verify, delta, fractal (no Django); init, stats, friend
register_sync_verbs(app)


def main() -> None:
    """Entry point of the ``dream`` console script."""
    sys.exit(app())
