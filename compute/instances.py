"""The TSPLIB instances a node offers: the seven bundled with DreamNet, plus any in an optional extra folder.

Pure module (no Django): callers pass the extra folder (``DREAMNET_TSPLIB_DIR`` in the Django settings).
"""

from __future__ import annotations

from pathlib import Path

BUNDLED_DIR = Path(__file__).resolve().parent / "data"

# TSPLIB95's published optimal tour lengths (TSPLIB's rounded distances) of the bundled instances.
KNOWN_OPTIMA = {
    "eil51": 426,
    "berlin52": 7542,
    "st70": 675,
    "eil76": 538,
    "kroA100": 21282,
    "ch150": 6528,
    "a280": 2579,
}


def instance_paths(extra: Path | str | None = None) -> dict[str, Path]:
    """Return every offered instance's name and ``.tsp`` path, sorted by name.

    The bundled instances come first; a file in ``extra`` with a bundled instance's name does not replace it (a
    node's published optima stay true). A missing ``extra`` folder adds nothing.
    """
    found = {p.stem: p for p in BUNDLED_DIR.glob("*.tsp")}
    if extra:
        for path in Path(extra).glob("*.tsp"):
            found.setdefault(path.stem, path)
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def instance_path(name: str, extra: Path | str | None = None) -> Path | None:
    """Return the ``.tsp`` path of the offered instance ``name``, or None when no such instance is offered."""
    return instance_paths(extra).get(name)
