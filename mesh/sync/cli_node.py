"""The ``dream`` node verbs: ``init``, ``stats``, ``friend add|ls``. They set Django up (the file verbs do not).

They work on the node's ``DREAMNET_HOME`` and database, as ``manage.py`` does. Exit codes as the file verbs
(:mod:`mesh.sync.cli`): 0 done, 1 refused (a peer the node will not register), 2 usage, 4 the database or
home cannot be used; the reason is one line on stderr.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from mesh.sync import cli as file_verbs
from mesh.sync.cli import EXIT_IO, EXIT_REFUSED, JsonOpt, fail

CHUNKS_DIR = "chunks"  # DREAMNET_HOME/chunks: the node's chunk store (mesh.sync.chunks.ChunkStore)

friend_app = typer.Typer(help="Peers this node trusts, with your own labels for them.", no_args_is_help=True)


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dreamnet.settings")
    import django

    django.setup()


def _folder_usage(root: Path) -> tuple[int, int]:
    """Files and bytes under ``root`` (temp files of interrupted writes included)."""
    files = size = 0
    if root.is_dir():
        for current, _dirs, names in os.walk(root):
            for name in names:
                files += 1
                size += (Path(current) / name).lstat().st_size
    return files, size


def init(as_json: JsonOpt = False) -> None:
    """Create DREAMNET_HOME, the node identity and the chunk store, and migrate the database (idempotent)."""
    try:
        _setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        from mesh.identity import identity_ensure

        home = Path(settings.DREAMNET_HOME)
        home.mkdir(parents=True, exist_ok=True)
        executor = MigrationExecutor(connection)
        pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
        call_command("migrate", interactive=False, verbosity=0)
        identity, created = identity_ensure()
        chunks = home / CHUNKS_DIR
        chunks.mkdir(exist_ok=True)
    except Exception as exc:  # the one-line reason, never a traceback
        raise fail("init", f"could not initialise the node: {exc}", EXIT_IO) from None
    result = {
        "home": str(home),
        "node_id": identity.node_id,
        "origin": identity.origin,
        "verifier_key": identity.verifier_key,
        "identity_created": created,
        "migrations_applied": pending,
        "database": f"{connection.vendor} {connection.settings_dict.get('NAME')}",
        "chunk_store": str(chunks),
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"node {identity.node_id} ({identity.origin}) in {home}")
    typer.echo(f"  identity   {'created' if created else 'kept'}; verifier key {identity.verifier_key}")
    typer.echo(f"  database   {result['database']}: {pending} migration(s) applied")
    typer.echo(f"  chunks     {chunks}")


def node_stats() -> dict[str, Any]:
    """What ``dream stats`` prints: events, log, artifacts, peers, chunk store and home folder usage."""
    from django.conf import settings
    from django.db.models import Count, Sum

    from mesh.log import latest_checkpoint, log_size
    from mesh.models import Artifact, Event, Peer

    home = Path(settings.DREAMNET_HOME)
    checkpoint = latest_checkpoint()
    artifacts = Artifact.objects.aggregate(n=Count("pk"), size=Sum("size"))
    chunk_files, chunk_bytes = _folder_usage(home / CHUNKS_DIR)
    artifact_files, artifact_bytes = _folder_usage(home / "artifacts")
    peers = dict(Peer.objects.values_list("state").annotate(n=Count("pk")).order_by())
    return {
        "home": str(home),
        "events": Event.objects.count(),
        "log_size": log_size(),
        "checkpoint_size": checkpoint.size if checkpoint else None,
        "artifacts": artifacts["n"],
        "artifact_content_bytes": artifacts["size"] or 0,
        "artifact_files_bytes": artifact_bytes,
        "artifact_files": artifact_files,
        "peers": sum(peers.values()),
        "peers_by_state": {state: peers.get(state, 0) for state in Peer.State.values},
        "chunks": chunk_files,
        "chunk_store_bytes": chunk_bytes,
    }


def stats(as_json: JsonOpt = False) -> None:
    """Show node stats: events, Merkle log size, artifacts, peers, chunk store size."""
    try:
        _setup()
        result = node_stats()
    except Exception as exc:
        raise fail("stats", f"cannot read the node ({exc}); run: dream init", EXIT_IO) from None
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    states = ", ".join(f"{n} {state}" for state, n in result["peers_by_state"].items())
    typer.echo(f"home        {result['home']}")
    typer.echo(f"events      {result['events']:,}")
    checkpoint = result["checkpoint_size"]
    typer.echo(f"log         {result['log_size']:,} entries ({f'checkpoint at {checkpoint:,}' if checkpoint else 'no checkpoint yet'})")  # fmt: skip
    typer.echo(f"artifacts   {result['artifacts']:,} ({result['artifact_content_bytes']:,} bytes of content, "
               f"{result['artifact_files_bytes']:,} on disk)")  # fmt: skip
    typer.echo(f"peers       {result['peers']:,} ({states})")
    typer.echo(f"chunks      {result['chunks']:,} ({result['chunk_store_bytes']:,} bytes)")


@friend_app.command("add")
def friend_add(
    url: Annotated[str, typer.Argument(help="The peer node's base URL, e.g. https://node.example")],
    label: Annotated[str, typer.Option("--label", "-l", help="Your name for this peer.")] = "",
    key: Annotated[str | None, typer.Option("--key", help="Its verifier key, from its operator.")] = None,
    tofu: Annotated[
        bool, typer.Option("--tofu", help="Trust the key the node presents now (after checking it with its operator).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Register the node at URL as a peer, pinned to --key (or, with --tofu, to the key it presents now)."""
    try:
        _setup()
        from mesh.peers.services import PeerError, peer_discover, peer_register
    except Exception as exc:
        raise fail("friend add", f"cannot set the node up: {exc}", EXIT_IO) from None
    if key is not None and tofu:
        raise fail("friend add", "give --key or --tofu, not both", 2)
    try:
        if key is None:
            info = peer_discover(url=url)
            if not tofu:
                raise fail("friend add", f"{info.url} presents the key {info.verifier_key}; check it with its "
                                         "operator, then pass --key KEY (or --tofu to accept it)", EXIT_REFUSED)  # fmt: skip
            key = info.verifier_key
        peer = peer_register(url=url, verifier_key=key, by="cli:dream", tofu=tofu, label=label)
    except PeerError as exc:
        raise fail("friend add", f"refused ({exc.code}): {exc}", EXIT_REFUSED) from None
    except typer.Exit:
        raise
    except Exception as exc:
        raise fail("friend add", f"cannot register the peer: {exc}", EXIT_IO) from None
    result = _peer_row(peer)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(f"added {peer.label or peer.origin} at {peer.url} ({peer.state}, key pinned via {peer.pinned_via})")


def _peer_row(peer: Any) -> dict[str, Any]:
    return {
        "label": peer.label,
        "origin": peer.origin,
        "url": peer.url,
        "state": peer.state,
        "score": round(peer.score, 2),
        "pinned_via": peer.pinned_via,
        "log_size": peer.size,
        "last_seen_at": peer.last_seen_at.isoformat() if peer.last_seen_at else None,
    }


@friend_app.command("ls")
def friend_ls(as_json: JsonOpt = False) -> None:
    """List the peers with their labels, state, score and when each was last verified."""
    try:
        _setup()
        from mesh.models import Peer

        rows = [_peer_row(p) for p in Peer.objects.order_by("label", "origin")]
    except Exception as exc:
        raise fail("friend ls", f"cannot read the peers ({exc}); run: dream init", EXIT_IO) from None
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no peers yet: dream friend add URL --label NAME --key KEY")
        return
    width = max(len(r["label"] or "-") for r in rows)
    for r in rows:
        seen = r["last_seen_at"] or "never verified"
        typer.echo(f"{r['label'] or '-':<{width}}  {r['origin']}  {r['url']}  {r['state']} {r['score']:.1f}  {seen}")


def register(app: typer.Typer) -> None:
    """Add the file verbs (pack, open, verify, delta, fractal) and the node verbs to the ``dream`` app."""
    file_verbs.register(app)
    app.command("init")(init)
    app.command("stats")(stats)
    app.add_typer(friend_app, name="friend")
