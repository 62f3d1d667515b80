"""``dream portal …``, ``dream signal …``, ``dream send``, ``dream gc``: the sync verbs of the ``dream`` command
(registered by dreamnet/cli.py).

Each verb runs in the node's process space (same environment as ``manage.py``). Errors print one line on stderr
and exit 1; read verbs take ``--json``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

portal_app = typer.Typer(help="Two-way synced folders between two nodes.", no_args_is_help=True)


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dreamnet.settings")
    import django

    django.setup()


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _guard(func, *args, **kwargs) -> Any:
    """Call a service; turn a refusal into the one-line error and exit 1."""
    from mesh.services import MeshError
    from mesh.sync.channel import ChannelError
    from mesh.sync.folder import SyncError

    try:
        return func(*args, **kwargs)
    except (MeshError, SyncError) as exc:
        _fail(f"{getattr(exc, 'code', 'refused')}: {exc}")
    except ChannelError as exc:
        _fail(f"{exc.reason}: {exc}")
    except OSError as exc:
        _fail(f"unreachable: {exc}")


def _portal_row(p) -> dict[str, Any]:
    return {
        "portal": p.portal_id, "name": p.name, "path": p.path, "role": p.role, "state": p.state,
        "peer": p.peer.origin if p.peer_id else None, "connected": p.connected,
        "last_sync_at": p.last_sync_at.isoformat() if p.last_sync_at else None,
        "bytes_in": p.bytes_in, "bytes_out": p.bytes_out, "files_in": p.files_in, "files_out": p.files_out,
        "conflicts": p.conflicts, "rounds": p.rounds, "last_error": p.last_error,
    }  # fmt: skip


@portal_app.command("open")
def portal_open_cmd(
    path: Annotated[Path, typer.Argument(help="The folder to share (created if missing).")],
    name: Annotated[str, typer.Option(help="A label (default: the folder's name).")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Share a folder as a portal and print the key to give the peer."""
    _setup()
    from mesh.sync.portals import portal_key, portal_open

    portal = _guard(portal_open, path=path, name=name, by="cli")
    key = portal_key(portal)
    if as_json:
        typer.echo(json.dumps({"portal": portal.portal_id, "key": key, "path": portal.path}))
    else:
        typer.echo(f"portal {portal.portal_id} shares {portal.path}")
        typer.echo(f"give the peer this key: {key}")


@portal_app.command("connect")
def portal_connect_cmd(
    key: Annotated[str, typer.Argument(help="The key from 'dream portal open' on the other node.")],
    peer: Annotated[str, typer.Option("--peer", help="The opener: a pinned peer's origin, id, URL or key.")],
    path: Annotated[Path | None, typer.Option(help="Where to keep the folder here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Join a peer's portal; the sync loop (``serve``, or ``manage.py sync``) keeps it in step."""
    _setup()
    from mesh.sync.portals import peer_find, portal_connect

    found = _guard(peer_find, peer)
    portal = _guard(portal_connect, key=key, peer=found, path=path, by="cli")
    if as_json:
        typer.echo(json.dumps(_portal_row(portal)))
    else:
        typer.echo(f"joined portal {portal.portal_id} of {found.origin} into {portal.path}")


@portal_app.command("ls")
def portal_ls_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """List this node's portals with their peer, last sync and bytes moved."""
    _setup()
    from mesh.sync.selectors import portal_list

    rows = [_portal_row(p) for p in portal_list()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no portals")
    for r in rows:
        state = "connected" if r["connected"] else r["state"]
        typer.echo(f"{r['portal']}  {r['role']:<6} {state:<9} {r['path']}  peer={r['peer'] or '-'}  "
                   f"in={r['bytes_in']}B out={r['bytes_out']}B conflicts={r['conflicts']}  last={r['last_sync_at'] or '-'}")  # fmt: skip


@portal_app.command("close")
def portal_close_cmd(portal: Annotated[str, typer.Argument(help="The portal id (from 'dream portal ls').")]) -> None:
    """Stop syncing a portal (its files stay where they are)."""
    _setup()
    from mesh.models import Portal
    from mesh.sync.portals import portal_close

    row = Portal.objects.filter(portal_id=portal.strip()).first()
    if row is None:
        _fail(f"unknown_portal: no portal {portal!r} here; see 'dream portal ls'.")
    _guard(portal_close, portal=row)
    typer.echo(f"closed portal {row.portal_id}")


def send_cmd(
    file: Annotated[Path, typer.Argument(help="The file to send.")],
    peer: Annotated[str, typer.Option("--peer", help="A pinned peer's origin, id, URL or key.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the transfer as JSON.")] = False,
) -> None:
    """Send a file to a peer over the encrypted channel; it lands in the peer's inbox (DREAMNET_HOME/inbox)."""
    _setup()
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from mesh.sync.portals import peer_find
    from mesh.sync.sends import file_send

    if not file.is_file():
        _fail(f"not_a_file: {file} is not a readable file.")
    found = _guard(peer_find, peer)
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  transient=True, disable=as_json or not sys.stderr.isatty(), console=None) as progress:  # fmt: skip
        task = progress.add_task(f"send {file.name}", total=file.stat().st_size)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = _guard(lambda: asyncio.run(file_send(path=file, peer=found, on_progress=on_progress)))
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"sent {file.name} to {found.origin}: {result['chunks']} chunks, {result['bytes']} bytes moved, "
                   f"manifest {result['manifest'][:16]}…")  # fmt: skip


signal_app = typer.Typer(help="One-way signed broadcasts of a folder.", no_args_is_help=True)


def _signal_row(s) -> dict[str, Any]:
    return {
        "signal": s.signal_id, "name": s.name, "path": s.path, "role": s.role, "state": s.state,
        "publisher_key": s.publisher_key, "source": s.source.origin if s.source_id else None, "seq": s.last_seq,
        "manifest": s.last_digest, "last_sync_at": s.last_sync_at.isoformat() if s.last_sync_at else None,
        "bytes_in": s.bytes_in, "bytes_out": s.bytes_out, "last_error": s.last_error,
    }  # fmt: skip


@signal_app.command("open")
def signal_open_cmd(
    path: Annotated[Path, typer.Argument(help="The folder to publish (created if missing).")],
    name: Annotated[str, typer.Option("--name", help="The signal's name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Publish a folder as a signed manifest series and print the key subscribers join with."""
    _setup()
    from mesh.sync.signals import signal_key, signal_open

    signal = _guard(signal_open, path=path, name=name)
    key = signal_key(signal)
    if as_json:
        typer.echo(json.dumps(_signal_row(signal) | {"key": key}))
    else:
        typer.echo(f"signal {signal.name} publishes {signal.path} (manifest #{signal.last_seq})")
        typer.echo(f"subscribers join with: {key}")


@signal_app.command("join")
def signal_join_cmd(
    key: Annotated[str, typer.Argument(help="The key from 'dream signal open'.")],
    peer: Annotated[str, typer.Option("--peer", help="Pull from: the publisher or any pinned node holding a copy.")],
    path: Annotated[Path | None, typer.Option(help="Where to keep the copy here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Subscribe to a signal; the sync loop pulls every second and verifies every manifest and chunk."""
    _setup()
    from mesh.sync.portals import peer_find
    from mesh.sync.signals import signal_join

    found = _guard(peer_find, peer)
    signal = _guard(signal_join, key=key, peer=found, path=path)
    if as_json:
        typer.echo(json.dumps(_signal_row(signal)))
    else:
        typer.echo(f"subscribed to signal {signal.signal_id} via {found.origin} into {signal.path}")


@signal_app.command("ls")
def signal_ls_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """List this node's signals: published and subscribed, with the newest manifest held."""
    _setup()
    from mesh.models import Signal

    rows = [_signal_row(s) for s in Signal.objects.select_related("source")]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no signals")
    for r in rows:
        typer.echo(f"{r['signal']}  {r['role']:<10} #{r['seq']:<5} {r['path']}  source={r['source'] or '-'}  "
                   f"in={r['bytes_in']}B out={r['bytes_out']}B")  # fmt: skip


def gc_cmd(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be removed; remove nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Remove the chunks no open portal or signal needs, once older than DREAMNET_SYNC_GC_GRACE_S (daily anyway)."""
    _setup()
    from mesh.sync.folder import SyncError
    from mesh.sync.gc import chunks_gc

    try:
        result = chunks_gc(dry_run=dry_run)
    except SyncError as exc:
        _fail(f"{exc.code}: {exc}")
    except OSError as exc:
        _fail(f"io_error: the chunk store cannot be collected: {exc}")
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    verb = "would remove" if dry_run else "removed"
    typer.echo(f"{verb} {result.removed} chunks and {result.temp_removed} temp files ({result.bytes_freed:,} bytes); "
               f"kept {result.kept} ({result.live} live, {result.young} younger than {result.grace_s} s; "
               f"{result.bytes_kept:,} bytes) in {result.duration_s:.2f} s")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the sync verbs to the ``dream`` command."""
    app.add_typer(portal_app, name="portal")
    app.add_typer(signal_app, name="signal")
    app.command("send")(send_cmd)
    app.command("gc")(gc_cmd)
