"""The ``dream`` file verbs: pack, open, verify, delta, fractal. They run without Django (pure format code).

Exit codes scripts can rely on: 0 done; 1 the file was refused (malformed, altered, wrong base: the one-line
reason on stderr); 2 usage (a bad option or argument, a missing input); 3 the output exists (pass ``--force``);
4 any other I/O error. No traceback reaches the terminal. Progress bars (``rich``, on stderr, only when it is a
terminal) show for inputs over 4 MiB.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

EXIT_REFUSED, EXIT_USAGE, EXIT_EXISTS, EXIT_IO = 1, 2, 3, 4
PROGRESS_MIN = 4 << 20

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite the output if it exists.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Where to write (default: beside the input).")]
LevelOpt = Annotated[int | None, typer.Option(min=1, max=22, help="zstd level (default: the format's).")]
BaseOpt = Annotated[Path | None, typer.Option("--base", help="The base file a .qdlt applies to.")]


class PackFormat(StrEnum):
    dreamfile = "dreamfile"
    qport = "qport"
    qdlt = "qdlt"


def fail(verb: str, message: str, code: int) -> typer.Exit:
    """Print ``dream VERB: MESSAGE`` on one line of stderr; return the Exit to raise."""
    typer.echo(f"dream {verb}: {' '.join(str(message).split())}", err=True)
    return typer.Exit(code)


@contextmanager
def guarded(verb: str) -> Iterator[None]:
    """Turn the errors a file verb can meet into a one-line reason and its exit code."""
    from mesh.sync.envelope import FormatError, OutputExists

    try:
        yield
    except FormatError as exc:
        raise fail(verb, f"refused: {exc}", EXIT_REFUSED) from None
    except OutputExists as exc:
        raise fail(verb, str(exc), EXIT_EXISTS) from None
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise fail(verb, _os_message(exc), EXIT_USAGE) from None
    except ValueError as exc:
        raise fail(verb, str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise fail(verb, _os_message(exc), EXIT_IO) from None


def _os_message(exc: OSError) -> str:
    if exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc)


@contextmanager
def progress_for(total: int, description: str) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on stderr for ``total`` bytes, or None when small or stderr is not a terminal."""
    from rich.console import Console

    console = Console(stderr=True)
    if total < PROGRESS_MIN or not console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def _size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _report(result: dict[str, Any], as_json: bool, line: str) -> None:
    typer.echo(json.dumps(result, indent=2) if as_json else line)


def _existing(verb: str, path: Path, what: str = "file") -> None:
    if not path.exists() and not path.is_symlink():
        raise fail(verb, f"{path}: no such {what}", EXIT_USAGE)


def pack(
    file: Annotated[Path, typer.Argument(help="The file to pack.")],
    fmt: Annotated[PackFormat, typer.Option("--format", "-f", help="dreamfile, qport, or qdlt (needs --base).")] = (
        PackFormat.dreamfile
    ),
    base: BaseOpt = None,
    output: OutputOpt = None,
    level: LevelOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Pack FILE as FILE.dreamfile (default), FILE.qport (--format qport) or FILE.qdlt (--format qdlt --base BASE)."""
    from mesh.sync.files import pack_any

    _existing("pack", file)
    if base is not None:
        _existing("pack", base)
    with guarded("pack"), progress_for(_size_of(file), f"pack {file.name}") as progress:
        result = pack_any(file, fmt.value, output, base=base, level=level, force=force, progress=progress)
    _report(result, as_json, f"packed {file} ({result['size']:,} bytes) into {result['file']} "
                             f"({result['file_size']:,} bytes)")  # fmt: skip


def delta(
    base: Annotated[Path, typer.Argument(help="The file the receiver already has.")],
    target: Annotated[Path, typer.Argument(help="The new version of it.")],
    output: OutputOpt = None,
    level: LevelOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Write TARGET.qdlt: what rebuilds TARGET from BASE (apply with: dream open TARGET.qdlt --base BASE)."""
    from mesh.sync.files import pack_any

    _existing("delta", base)
    _existing("delta", target)
    with guarded("delta"), progress_for(_size_of(target), f"delta {target.name}") as progress:
        result = pack_any(target, "qdlt", output, base=base, level=level, force=force, progress=progress)
    _report(result, as_json, f"wrote {result['file']} ({result['file_size']:,} bytes) rebuilding {target} "
                             f"({result['size']:,} bytes) from {base}")  # fmt: skip


def fractal(
    path: Annotated[Path, typer.Argument(help="The folder or file to archive.")],
    output: OutputOpt = None,
    level: LevelOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Archive the folder or file PATH as PATH.fractal (zstd long-range, level 19, per-file and root digests)."""
    from mesh.sync.files import pack_any

    _existing("fractal", path, "file or folder")
    with guarded("fractal"), progress_for(_size_of(path), f"fractal {path.name}") as progress:
        result = pack_any(path, "fractal", output, level=level, force=force, progress=progress)
    _report(result, as_json, f"archived {path} ({result['entries']} entries) into {result['file']} "
                             f"({result['file_size']:,} bytes), root {result['root']}")  # fmt: skip


def open_(
    file: Annotated[Path, typer.Argument(help="A .dreamfile, .qport, .qdlt or .fractal (detected by magic).")],
    base: BaseOpt = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Verify FILE and write the original (atomically; an existing output only with --force)."""
    from mesh.sync.files import open_any, size_hint

    _existing("open", file)
    if base is not None:
        _existing("open", base)
    with guarded("open"), progress_for(size_hint(file), f"open {file.name}") as progress:
        result = open_any(file, output, base=base, force=force, progress=progress)
    _report(result, as_json, f"verified {file} (.{result['format']}) and wrote {result['output']}")


def verify(
    file: Annotated[Path, typer.Argument(help="A .dreamfile, .qport, .qdlt or .fractal (detected by magic).")],
    base: BaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify FILE completely without writing anything; exit 1 with the reason when it is refused."""
    from mesh.sync.files import size_hint, verify_any

    _existing("verify", file)
    if base is not None:
        _existing("verify", base)
    with guarded("verify"), progress_for(size_hint(file), f"verify {file.name}") as progress:
        result = verify_any(file, base=base, progress=progress)
    scope = "" if result["complete"] else " (structure and digests only: give --base to rebuild and check it)"
    _report(result, as_json, f"ok: {file} is a valid .{result['format']}{scope}")


def register(app: typer.Typer) -> None:
    """Add the file verbs to ``app`` (:func:`mesh.sync.cli_node.register` adds them with the node verbs)."""
    app.command("pack")(pack)
    app.command("open")(open_)
    app.command("verify")(verify)
    app.command("delta")(delta)
    app.command("fractal")(fractal)


if __name__ == "__main__":  # ``python -m mesh.sync.cli``: the file verbs alone, without Django
    standalone = typer.Typer(no_args_is_help=True, add_completion=False)
    register(standalone)
    sys.exit(standalone())
