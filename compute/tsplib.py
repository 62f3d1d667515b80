"""TSPLIB95 reader for symmetric TSP instances with node coordinates, and for tour files.

Supported: TYPE TSP with EDGE_WEIGHT_TYPE EUC_2D, CEIL_2D, ATT or GEO and a NODE_COORD_SECTION, and TYPE
TOUR files with a TOUR_SECTION terminated by -1. Distances are TSPLIB's integer functions exactly as its
reference (Reinelt, TSPLIB95) defines them, so tour lengths match the published optima. Cities are 0-based
in everything this module returns; files are 1-based.

Malformed input raises `TsplibError` naming the source, the 1-based line and the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EDGE_WEIGHT_TYPES = ("EUC_2D", "CEIL_2D", "ATT", "GEO")
_KEYWORDS = frozenset(
    {
        "NAME",
        "TYPE",
        "COMMENT",
        "DIMENSION",
        "CAPACITY",
        "EDGE_WEIGHT_TYPE",
        "EDGE_WEIGHT_FORMAT",
        "EDGE_DATA_FORMAT",
        "NODE_COORD_TYPE",
        "DISPLAY_DATA_TYPE",
    }
)
_NUMERIC_START = frozenset("+-.0123456789")
_GEO_PI = 3.141592  # TSPLIB's own value, not math.pi: the published GEO optima depend on it
_GEO_RADIUS = 6378.388


class TsplibError(ValueError):
    """Malformed or unsupported TSPLIB input; `line` is 1-based (None when the whole file is at fault)."""

    def __init__(self, reason: str, *, line: int | None = None, source: str = "<string>") -> None:
        self.reason = reason
        self.line = line
        self.source = source
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True, eq=False)
class Instance:
    """A symmetric TSP with `dimension` cities at `coords` (float64, shape (dimension, 2), file order)."""

    name: str
    dimension: int
    edge_weight_type: str
    coords: np.ndarray
    comment: str = ""


@dataclass(frozen=True, eq=False)
class Tour:
    """A tour as 0-based city indices (int64, shape (dimension,))."""

    name: str
    nodes: np.ndarray
    comment: str = ""


def _nint(x: np.ndarray) -> np.ndarray:
    """TSPLIB's nint for non-negative values: (int)(x + 0.5)."""
    return np.floor(x + 0.5)


def _geo_radians(x: np.ndarray) -> np.ndarray:
    # DDD.MM: integer degrees plus minutes. Truncation, as in TSPLIB's reference code; the doc's nint would
    # turn 16.47 into 16.33 degrees and lengthen burma14's optimum from 3323 to 3454.
    degrees = np.trunc(x)
    return _GEO_PI * (degrees + 5.0 * (x - degrees) / 3.0) / 180.0


def _distances(kind: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return TSPLIB distances between coordinate rows a[..., :] and b[..., :] (broadcasting), as int64."""
    if kind == "GEO":
        lat_a, lon_a = _geo_radians(a[..., 0]), _geo_radians(a[..., 1])
        lat_b, lon_b = _geo_radians(b[..., 0]), _geo_radians(b[..., 1])
        q1 = np.cos(lon_a - lon_b)
        q2 = np.cos(lat_a - lat_b)
        q3 = np.cos(lat_a + lat_b)
        cosine = np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0)
        return np.trunc(_GEO_RADIUS * np.arccos(cosine) + 1.0).astype(np.int64)
    dx = a[..., 0] - b[..., 0]
    dy = a[..., 1] - b[..., 1]
    squared = dx * dx + dy * dy
    if kind == "EUC_2D":
        d = _nint(np.sqrt(squared))
    elif kind == "CEIL_2D":
        d = np.ceil(np.sqrt(squared))
    elif kind == "ATT":
        r = np.sqrt(squared / 10.0)
        t = _nint(r)
        d = np.where(t < r, t + 1.0, t)
    else:
        raise ValueError(f"unsupported EDGE_WEIGHT_TYPE {kind}")
    return d.astype(np.int64)


def distance_matrix(instance: Instance) -> np.ndarray:
    """Return the full (n, n) int64 matrix of TSPLIB distances, zero on the diagonal."""
    c = instance.coords
    matrix = _distances(instance.edge_weight_type, c[:, None, :], c[None, :, :])
    np.fill_diagonal(matrix, 0)  # GEO's formula gives 1 from a city to itself
    return matrix


def tour_length(tour: Tour | np.ndarray | list[int], instance: Instance | np.ndarray) -> int:
    """Return the length of the closed tour (0-based cities) under `instance` or a distance matrix.

    Raises ValueError unless the tour visits every city exactly once.
    """
    nodes = np.asarray(tour.nodes if isinstance(tour, Tour) else tour, dtype=np.int64)
    n = instance.dimension if isinstance(instance, Instance) else len(instance)
    if nodes.shape != (n,) or not np.array_equal(np.sort(nodes), np.arange(n)):
        raise ValueError(f"tour is not a permutation of the {n} cities 0..{n - 1}")
    if n == 1:
        return 0
    following = np.roll(nodes, -1)
    if isinstance(instance, Instance):
        c = instance.coords
        return int(_distances(instance.edge_weight_type, c[nodes], c[following]).sum())
    return int(np.asarray(instance)[nodes, following].sum())


class _Reader:
    """Line-by-line TSPLIB reader: the specification part, then data sections until EOF."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source
        self.index = 0  # 0-based index of the next line
        self.spec: dict[str, tuple[str, int]] = {}  # keyword -> (value, line)

    def error(self, reason: str, line: int | None = None) -> TsplibError:
        return TsplibError(reason, line=line if line is not None else self.index, source=self.source)

    def records(self) -> Iterator[tuple[int, str]]:
        """Yield (1-based line number, stripped text) for each non-blank line not yet read."""
        while self.index < len(self.lines):
            self.index += 1
            stripped = self.lines[self.index - 1].strip()
            if stripped:
                yield self.index, stripped

    def dimension(self, line: int) -> int:
        if "DIMENSION" not in self.spec:
            raise self.error("DIMENSION must be given before the data section", line)
        value, at = self.spec["DIMENSION"]
        if not value.isdigit() or int(value) < 1:
            raise self.error(f"DIMENSION must be a positive integer, got {value!r}", at)
        return int(value)

    def keyword(self, line: int, text: str) -> str | None:
        """Record a `KEY : value` line; return the section name for a section header or EOF."""
        if text[0] in _NUMERIC_START:
            raise self.error(f"data outside a section (more entries than DIMENSION?): {text[:40]!r}", line)
        key, colon, value = text.partition(":")
        key = key.strip().upper()
        if not colon:
            if key == "EOF" or key.endswith("_SECTION"):
                return key
            raise self.error(f"expected 'KEYWORD : value', a section name or EOF, got {text[:40]!r}", line)
        if key.endswith("_SECTION"):
            return key
        if key not in _KEYWORDS:
            raise self.error(f"unknown keyword {key!r}", line)
        if key in self.spec:
            raise self.error(f"{key} is given twice (first on line {self.spec[key][1]})", line)
        self.spec[key] = (value.strip(), line)
        return None


def _numbers(reader: _Reader, line: int, text: str) -> list[float]:
    try:
        return [float(token) for token in text.split()]
    except ValueError:
        raise reader.error(f"expected numbers, got {text[:40]!r}", line) from None


def parse_instance(text: str, *, source: str = "<string>") -> Instance:
    """Parse a TSPLIB TSP file's text into an `Instance`; raise TsplibError on malformed or unsupported input."""
    reader = _Reader(text, source)
    coords: np.ndarray | None = None
    for line, record in reader.records():
        section = reader.keyword(line, record)
        if section is None:
            continue
        if section == "EOF":
            break
        _check_problem_type(reader, line)
        if section != "NODE_COORD_SECTION":
            raise reader.error(f"unsupported section {section} (only NODE_COORD_SECTION)", line)
        if coords is not None:
            raise reader.error("NODE_COORD_SECTION is given twice", line)
        coords = _read_coords(reader, reader.dimension(line), line)
    if coords is None:
        raise reader.error("no NODE_COORD_SECTION")
    name = reader.spec.get("NAME", ("", 0))[0]
    return Instance(
        name=name,
        dimension=len(coords),
        edge_weight_type=reader.spec["EDGE_WEIGHT_TYPE"][0].upper(),
        coords=coords,
        comment=reader.spec.get("COMMENT", ("", 0))[0],
    )


def _check_problem_type(reader: _Reader, line: int) -> None:
    kind, at = reader.spec.get("TYPE", ("", line))
    if kind.upper() != "TSP":
        raise reader.error(f"TYPE must be TSP, got {kind or 'nothing'!r}", at)
    if "EDGE_WEIGHT_TYPE" not in reader.spec:
        raise reader.error("EDGE_WEIGHT_TYPE must be given before NODE_COORD_SECTION", line)
    weight, at = reader.spec["EDGE_WEIGHT_TYPE"]
    if weight.upper() not in EDGE_WEIGHT_TYPES:
        raise reader.error(f"unsupported EDGE_WEIGHT_TYPE {weight!r}; supported: {', '.join(EDGE_WEIGHT_TYPES)}", at)


def _read_coords(reader: _Reader, n: int, header: int) -> np.ndarray:
    coords = np.full((n, 2), np.nan)
    seen = np.zeros(n, dtype=bool)
    count = 0
    for line, record in reader.records():
        if record[0] not in _NUMERIC_START:
            raise reader.error(f"NODE_COORD_SECTION (line {header}) ends after {count} of {n} nodes", line)
        values = _numbers(reader, line, record)
        if len(values) != 3:
            raise reader.error(f"a node line needs 'id x y', got {len(values)} values", line)
        node = int(values[0])
        if node != values[0] or not 1 <= node <= n:
            raise reader.error(f"node id {record.split()[0]} is not an integer in 1..{n}", line)
        if seen[node - 1]:
            raise reader.error(f"node {node} is listed twice", line)
        seen[node - 1] = True
        coords[node - 1] = values[1:]
        count += 1
        if count == n:
            return coords
    raise reader.error(f"NODE_COORD_SECTION (line {header}) lists {count} of {n} nodes")


def parse_tour(text: str, *, source: str = "<string>") -> Tour:
    """Parse a TSPLIB tour file's text into a `Tour`; raise TsplibError on malformed input.

    The TOUR_SECTION lists 1-based node ids (any number per line) ending with -1. When DIMENSION is given,
    the tour must visit each of its nodes exactly once.
    """
    reader = _Reader(text, source)
    nodes: list[int] | None = None
    for line, record in reader.records():
        section = reader.keyword(line, record)
        if section is None:
            continue
        if section == "EOF":
            break
        if section != "TOUR_SECTION":
            raise reader.error(f"unsupported section {section} in a tour file (only TOUR_SECTION)", line)
        if nodes is not None:
            raise reader.error("TOUR_SECTION is given twice", line)
        kind, at = reader.spec.get("TYPE", ("TOUR", line))
        if kind.upper() != "TOUR":
            raise reader.error(f"TYPE must be TOUR, got {kind!r}", at)
        n = reader.dimension(line) if "DIMENSION" in reader.spec else None
        nodes = _read_tour(reader, n, line)
    if nodes is None:
        raise reader.error("no TOUR_SECTION")
    return Tour(
        name=reader.spec.get("NAME", ("", 0))[0],
        nodes=np.asarray(nodes, dtype=np.int64) - 1,
        comment=reader.spec.get("COMMENT", ("", 0))[0],
    )


def _read_tour(reader: _Reader, n: int | None, header: int) -> list[int]:
    nodes: list[int] = []
    seen: set[int] = set()
    for line, record in reader.records():
        for token in record.split():
            try:
                node = int(token)
            except ValueError:
                raise reader.error(f"expected a node id or -1, got {token!r}", line) from None
            if node == -1:
                if n is not None and len(nodes) != n:
                    raise reader.error(f"the tour lists {len(nodes)} nodes but DIMENSION is {n}", line)
                if not nodes or max(nodes) != len(nodes):
                    raise reader.error(f"the tour must list each node 1..{len(nodes)} once, got {len(nodes)} ids", line)
                return nodes
            if node < 1 or (n is not None and node > n):
                raise reader.error(f"node id {node} is out of range 1..{n if n is not None else 'DIMENSION'}", line)
            if node in seen:
                raise reader.error(f"node {node} appears twice in the tour", line)
            seen.add(node)
            nodes.append(node)
    raise reader.error(f"TOUR_SECTION (line {header}) is not terminated by -1")


def load_instance(path: str | Path) -> Instance:
    """Read and parse a TSPLIB TSP file."""
    path = Path(path)
    return parse_instance(path.read_text(encoding="ascii", errors="replace"), source=str(path))


def load_tour(path: str | Path) -> Tour:
    """Read and parse a TSPLIB tour file."""
    path = Path(path)
    return parse_tour(path.read_text(encoding="ascii", errors="replace"), source=str(path))
