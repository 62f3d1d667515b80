from __future__ import annotations

import mimetypes
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

import mesh.dreamfile as dreamfile


class Command(BaseCommand):
    help = "Pack a file into a .dreamfile, open one (verify and extract), or verify one."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{pack,open,verify}")
        pack = sub.add_parser("pack", help="Pack FILE into OUT (default FILE.dreamfile).")
        pack.add_argument("file")
        pack.add_argument("out", nargs="?")
        pack.add_argument("--media-type", default="")
        pack.add_argument("--zstd", action="store_true", help="Compress the payload with zstd.")
        opened = sub.add_parser("open", help="Verify DREAMFILE and write its content to OUT (or stdout).")
        opened.add_argument("dreamfile")
        opened.add_argument("out", nargs="?")
        verify = sub.add_parser("verify", help="Verify DREAMFILE and print its header.")
        verify.add_argument("dreamfile")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"_{action}")(**options)
        except (OSError, dreamfile.DreamfileError) as exc:
            raise CommandError(str(exc)) from exc

    def _pack(self, *, file: str, out: str | None, media_type: str, zstd: bool, **_options) -> None:
        source = Path(file)
        media_type = media_type or mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        data = dreamfile.pack(
            source.read_bytes(), name=source.name, media_type=media_type, compression="zstd" if zstd else "none"
        )
        target = Path(out) if out else source.with_name(source.name + ".dreamfile")
        target.write_bytes(data)
        self.stdout.write(f"Packed {source} into {target} ({len(data)} bytes).")

    def _open(self, *, dreamfile: str, out: str | None, **_options) -> None:
        header, content = self._read(dreamfile)
        if out:
            Path(out).write_bytes(content)
            self.stdout.write(f"Verified {dreamfile}; wrote {header['size']} bytes to {out}.")
        else:
            sys.stdout.buffer.write(content)

    def _verify(self, *, dreamfile: str, **_options) -> None:
        header, _content = self._read(dreamfile)
        self.stdout.write(f"valid: {header['name']} ({header['media_type']}, {header['size']} bytes)")
        self.stdout.write(f"blake3 {header['blake3']}, created {header['created']}")

    @staticmethod
    def _read(path: str):
        return dreamfile.unpack(Path(path).read_bytes())
