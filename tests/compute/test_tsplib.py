"""TSPLIB parsing and distances: the published optima, TSPLIB's rounding rules, and errors a person can act on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from compute.instances import BUNDLED_DIR, KNOWN_OPTIMA, instance_path, instance_paths
from compute.tsplib import (
    Instance,
    TsplibError,
    distance_matrix,
    load_instance,
    load_tour,
    parse_instance,
    parse_tour,
    tour_length,
)

DATA = BUNDLED_DIR  # the instances DreamNet ships (compute/data)
OPTIMA = {
    "eil51": 426,
    "berlin52": 7542,
    "st70": 675,
    "eil76": 538,
    "kroA100": 21282,
    "ch150": 6528,
    "a280": 2579,
}

# burma14 (TSPLIB, GEO); its optimum 3323 holds only with TSPLIB's degree truncation and PI = 3.141592.
BURMA14 = """NAME: burma14
TYPE: TSP
COMMENT: 14-Staedte in Burma (Zaw Win)
DIMENSION: 14
EDGE_WEIGHT_TYPE: GEO
EDGE_WEIGHT_FORMAT: FUNCTION
DISPLAY_DATA_TYPE: COORD_DISPLAY
NODE_COORD_SECTION
   1  16.47       96.10
   2  16.47       94.44
   3  20.09       92.54
   4  22.39       93.37
   5  25.23       97.24
   6  22.00       96.05
   7  20.47       97.02
   8  17.20       96.29
   9  16.30       97.38
  10  14.05       98.12
  11  16.53       97.38
  12  21.52       95.59
  13  19.41       97.13
  14  20.09       94.55
EOF
"""
BURMA14_TOUR = "TYPE : TOUR\nDIMENSION : 14\nTOUR_SECTION\n1 10 9 11 8 13 7 12 6 5 4 3 14 2\n-1\nEOF\n"


def _square(kind: str, *points: tuple[float, float]) -> Instance:
    header = f"NAME : t\nTYPE : TSP\nDIMENSION : {len(points)}\nEDGE_WEIGHT_TYPE : {kind}\nNODE_COORD_SECTION\n"
    return parse_instance(header + "".join(f"{i} {x} {y}\n" for i, (x, y) in enumerate(points, start=1)) + "EOF\n")


@pytest.mark.parametrize("name", sorted(OPTIMA))
def test_it_scores_each_optimal_tour_at_the_published_optimum(name: str) -> None:
    instance = load_instance(DATA / f"{name}.tsp")
    tour = load_tour(DATA / f"{name}.opt.tour")
    matrix = distance_matrix(instance)

    assert instance.dimension == len(tour.nodes) == len(matrix)
    assert tour_length(tour, instance) == OPTIMA[name]
    assert tour_length(tour.nodes, matrix) == OPTIMA[name]
    assert np.array_equal(matrix, matrix.T)
    assert not matrix.diagonal().any()


def test_the_seven_instances_ship_with_their_published_optima() -> None:
    assert set(instance_paths()) == set(OPTIMA)
    assert KNOWN_OPTIMA == OPTIMA
    assert all((BUNDLED_DIR / f"{name}.opt.tour").is_file() for name in OPTIMA)


def test_an_extra_folder_adds_instances_but_never_replaces_a_bundled_one(tmp_path: Path) -> None:
    (tmp_path / "tiny.tsp").write_text("NAME: tiny\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\n"
                                       "NODE_COORD_SECTION\n1 0 0\n2 3 0\n3 0 4\nEOF\n")  # fmt: skip
    (tmp_path / "eil51.tsp").write_text("not the real eil51")

    offered = instance_paths(tmp_path)

    assert set(offered) == set(OPTIMA) | {"tiny"}
    assert offered["eil51"] == BUNDLED_DIR / "eil51.tsp"
    assert load_instance(offered["tiny"]).dimension == 3
    assert instance_path("nowhere", tmp_path) is None
    assert set(instance_paths(tmp_path / "absent")) == set(OPTIMA)


def test_it_rounds_like_tsplib() -> None:
    euc = distance_matrix(_square("EUC_2D", (0, 0), (1, 1), (0, 2.5)))
    ceil = distance_matrix(_square("CEIL_2D", (0, 0), (1, 1), (0, 2.5)))
    att = distance_matrix(_square("ATT", (0, 0), (10, 0), (30, 40)))

    assert (euc[0, 1], euc[0, 2]) == (1, 3)  # nint(1.414), nint(2.5) rounds half up
    assert (ceil[0, 1], ceil[0, 2]) == (2, 3)
    assert (att[0, 1], att[0, 2]) == (4, 16)  # sqrt(10) = 3.16 rounds up to 4; sqrt(250) = 15.8 to 16


def test_it_measures_geo_tours_like_tsplib() -> None:
    instance = parse_instance(BURMA14)
    tour = parse_tour(BURMA14_TOUR)

    assert tour_length(tour, instance) == 3323
    assert tour_length(tour.nodes, distance_matrix(instance)) == 3323


def test_it_reads_several_tour_ids_per_line_without_eof() -> None:
    tour = parse_tour("NAME : x\nTOUR_SECTION\n3 1\n2\n-1\n")

    assert tour.nodes.tolist() == [2, 0, 1]


def test_it_refuses_a_tour_that_is_not_a_permutation() -> None:
    instance = _square("EUC_2D", (0, 0), (1, 1), (0, 2.5))

    with pytest.raises(ValueError, match="not a permutation"):
        tour_length([0, 1, 1], instance)


INSTANCE_ERRORS = [
    ("TYPE : TSP\nDIMENSION : 2\nEDGE_WEIGHT_TYPE : EXPLICIT\nEDGE_WEIGHT_SECTION\n0 1\n", 3, "EXPLICIT"),
    ("TYPE : ATSP\nDIMENSION : 2\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n", 1, "TYPE must be TSP"),
    ("TYPE : TSP\nDIMENSION : two\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n", 2, "positive integer"),
    ("TYPE : TSP\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n", 3, "DIMENSION must be given"),
    ("TYPE : TSP\nDIMENSION : 2\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 5\n", 6, "'id x y'"),
    ("TYPE : TSP\nDIMENSION : 2\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 5 y\n", 6, "numbers"),
    ("TYPE : TSP\nDIMENSION : 2\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n1 5 5\n", 6, "twice"),
    ("TYPE : TSP\nDIMENSION : 2\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n3 5 5\n", 6, "1..2"),
    ("TYPE : TSP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 5 5\nEOF\n", 7, "2 of 3"),
    ("TYPE : TSP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 5 5\n", 6, "2 of 3"),
    (
        "TYPE : TSP\nDIMENSION : 1\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 5 5\n",
        6,
        "outside a section",
    ),
    ("TYPE : TSP\nCOLOUR : blue\n", 2, "unknown keyword 'COLOUR'"),
    ("TYPE : TSP\nDIMENSION : 2\nEDGE_WEIGHT_TYPE : EUC_2D\n", 3, "no NODE_COORD_SECTION"),
]


@pytest.mark.parametrize(("text", "line", "reason"), INSTANCE_ERRORS)
def test_it_names_the_line_and_reason_of_a_malformed_instance(text: str, line: int, reason: str) -> None:
    with pytest.raises(TsplibError) as caught:
        parse_instance(text, source="bad.tsp")

    assert caught.value.line == line
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"bad.tsp:{line}: ")


TOUR_ERRORS = [
    ("TYPE : TOUR\nDIMENSION : 3\nTOUR_SECTION\n1\n2\n3\n", 6, "not terminated by -1"),
    ("TYPE : TOUR\nDIMENSION : 3\nTOUR_SECTION\n1 2 2 3\n-1\n", 4, "appears twice"),
    ("TYPE : TOUR\nDIMENSION : 3\nTOUR_SECTION\n1 2\n-1\n", 5, "lists 2 nodes but DIMENSION is 3"),
    ("TYPE : TOUR\nDIMENSION : 3\nTOUR_SECTION\n1 2 4\n-1\n", 4, "out of range"),
    ("TYPE : TOUR\nTOUR_SECTION\n1 x\n-1\n", 3, "'x'"),
    ("TYPE : TOUR\nTOUR_SECTION\n1 3\n-1\n", 4, "each node 1..2 once"),
    ("TYPE : TSP\nTOUR_SECTION\n1 2 3\n-1\n", 1, "TYPE must be TOUR"),
]


@pytest.mark.parametrize(("text", "line", "reason"), TOUR_ERRORS)
def test_it_names_the_line_and_reason_of_a_malformed_tour(text: str, line: int, reason: str) -> None:
    with pytest.raises(TsplibError) as caught:
        parse_tour(text, source="bad.tour")

    assert caught.value.line == line
    assert reason in caught.value.reason
