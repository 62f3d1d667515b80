"""Verify a DreamNet inclusion-proof bundle offline, without Django.

Usage: ``python -m mesh.verify BUNDLE_FILE --key VERIFIER_KEY [--digest HEX]`` (BUNDLE_FILE ``-`` reads stdin).
Prints ``valid: ...`` and exits 0, prints ``invalid: <reason>`` and exits 1, or exits 2 on a usage error
(unreadable file, malformed key or digest). With ``--digest`` the proven entry must also commit that digest
(see :func:`mesh.proofbundle.entry_commits_digest`); a bundle without an ``extra`` line is then checked with
the digest bytes themselves as the entry.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mesh.merkle import ProofError
from mesh.note import NoteError, Verifier
from mesh.proofbundle import BundleError, entry_commits_digest, parse_bundle, verify_bundle


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mesh.verify", description="Verify a c2sp.org/tlog-proof@v1 inclusion bundle offline."
    )
    parser.add_argument("bundle", metavar="BUNDLE_FILE", help="the .tlog-proof file, or - for stdin")
    parser.add_argument("--key", required=True, metavar="VERIFIER_KEY", help="the log's name+keyid+base64key")
    parser.add_argument("--digest", metavar="HEX", help="also require the proven entry to commit this digest")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verifier and return the exit status: 0 valid, 1 invalid, 2 usage error."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        verifier = Verifier.from_key(args.key)
    except NoteError as exc:
        parser.error(f"--key: {exc}")
    digest = None
    if args.digest is not None:
        try:
            digest = bytes.fromhex(args.digest)
        except ValueError:
            parser.error("--digest must be an even number of hexadecimal digits")
        if not digest:
            parser.error("--digest is empty")
    try:
        text = sys.stdin.buffer.read() if args.bundle == "-" else Path(args.bundle).read_bytes()
    except OSError as exc:
        parser.error(f"cannot read {args.bundle}: {exc.strerror}")

    try:
        bundle = parse_bundle(text)
        entry = digest if bundle.extra is None else None
        result = verify_bundle(text, verifier, entry=entry)
        if digest is not None and not entry_commits_digest(result.entry, digest):
            raise BundleError(f"entry {result.index} is in the log but does not commit digest {digest.hex()}")
    except (BundleError, NoteError, ProofError) as exc:
        print(f"invalid: {exc}")
        return 1
    origin = "" if result.origin == verifier.name else f" (origin {result.origin})"
    committed = "" if digest is None else f"; it commits digest {digest.hex()}"
    print(
        f"valid: entry {result.index} is in the log of size {result.size} signed by {verifier.name}{origin}{committed}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
