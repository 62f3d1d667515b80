"""The coherence matrix (dreamnet/coherence.py) is a valid density matrix for any probe history, and it shows
what happened: a service that was down on its diagonal, two services failing together in their coherence."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dreamnet.coherence import MIN_ROUNDS, SERVICES, coherence_matrix, heatmap_svg

probe_result = st.tuples(st.booleans(), st.floats(min_value=0, max_value=10_000, allow_nan=False))
probe_round = st.fixed_dictionaries({}, optional=dict.fromkeys(SERVICES, probe_result))
histories = st.lists(probe_round, min_size=1, max_size=60)


def _healthy_round(latency: float = 1.0, **overrides) -> dict:
    probes = dict.fromkeys(SERVICES, (True, latency))
    probes.update(overrides)
    return probes


@settings(max_examples=300, deadline=None)
@given(histories)
def test_the_matrix_is_a_density_matrix_for_any_history(rounds):
    result = coherence_matrix(rounds)
    rho = np.array(result.matrix)
    assert rho.shape == (5, 5)
    assert np.allclose(rho, rho.T, atol=1e-9)  # Hermitian (real symmetric)
    assert math.isclose(np.trace(rho), 1.0, abs_tol=1e-5)
    eigenvalues = np.linalg.eigvalsh(rho)
    assert eigenvalues.min() >= -1e-5  # positive semi-definite, up to the 6-digit rounding
    assert math.isclose(sum(result.eigenvalues), 1.0, abs_tol=1e-5)
    assert 1 / 5 - 1e-5 <= result.purity <= 1 + 1e-5
    assert -1e-9 <= result.entropy <= math.log2(5) + 1e-5
    assert result.eigenvalues == sorted(result.eigenvalues, reverse=True)


def test_no_rounds_give_no_matrix():
    assert coherence_matrix([]) is None


def test_healthy_independent_services_are_the_maximally_mixed_state():
    rng = np.random.default_rng(7)
    rounds = [{name: (True, float(rng.uniform(1, 5))) for name in SERVICES} for _ in range(400)]
    result = coherence_matrix(rounds)
    rho = np.array(result.matrix)
    assert np.allclose(np.diag(rho), 0.2)
    assert np.abs(rho - np.diag(np.diag(rho))).max() < 0.03  # independent latencies: small off-diagonal terms
    assert math.isclose(result.purity, 0.2, abs_tol=0.01)
    assert math.isclose(result.entropy, math.log2(5), abs_tol=0.02)
    assert result.reading == "all 5 services healthy and independent: populations 0.20 each"


def test_one_service_down_shows_on_its_diagonal():
    rounds = [_healthy_round(task_cluster=(False, 1.0)) for _ in range(30)]
    result = coherence_matrix(rounds)
    rho = np.array(result.matrix)
    cluster = SERVICES.index("task_cluster")
    assert rho[cluster, cluster] == 0
    assert result.healthy_share[cluster] == 0
    assert all(math.isclose(rho[i, i], 0.25) for i in range(5) if i != cluster)  # the others share the trace
    assert result.reading == "down throughout the window: task cluster"


def test_a_flapping_service_has_a_smaller_population():
    rounds = [_healthy_round(peers=(i % 4 != 0, 1.0)) for i in range(40)]
    result = coherence_matrix(rounds)
    peers = SERVICES.index("peers")
    assert result.healthy_share[peers] == 0.75
    assert result.matrix[peers][peers] < min(result.matrix[i][i] for i in range(5) if i != peers)
    assert result.reading == "failures are independent: peers healthy 75% of the time"


def test_two_services_failing_together_show_in_their_coherence():
    rng = np.random.default_rng(11)
    rounds = []
    for i in range(60):
        together = i % 5 == 0
        probes = {name: (True, float(rng.uniform(1, 5))) for name in SERVICES}
        if together:
            probes["database"] = (False, 2000.0)
            probes["task_cluster"] = (False, 2000.0)
        if i % 7 == 3:
            probes["peers"] = (False, float(rng.uniform(1, 5)))  # fails alone
        rounds.append(probes)
    result = coherence_matrix(rounds)
    rho = np.array(result.matrix)
    db, cluster, peers = (SERVICES.index(n) for n in ("database", "task_cluster", "peers"))
    together = rho[db, cluster] / math.sqrt(rho[db, db] * rho[cluster, cluster])
    alone = rho[db, peers] / math.sqrt(rho[db, db] * rho[peers, peers])
    assert together > 0.9  # failures and latencies both correlate fully
    assert abs(alone) < 0.2
    assert result.pairs[0]["services"] == ["database", "task_cluster"]
    assert result.reading == "two services fail together: database and task cluster"
    assert result.purity > 0.25  # less mixed than five independent services


def test_correlations_need_enough_rounds():
    rounds = [_healthy_round(latency=float(i)) for i in range(MIN_ROUNDS - 1)]
    result = coherence_matrix(rounds)
    assert np.allclose(np.array(result.matrix), np.eye(5) / 5)
    assert "correlations need" in result.reading


def test_a_missing_probe_counts_as_not_healthy():
    rounds = [{name: (True, 1.0) for name in SERVICES if name != "peers"} for _ in range(12)]
    result = coherence_matrix(rounds)
    assert result.healthy_share[SERVICES.index("peers")] == 0


def test_the_heatmap_has_a_labelled_cell_per_entry():
    rounds = [_healthy_round(latency=float(i % 3 + 1), mesh_log=(i % 2 == 0, 1.0)) for i in range(20)]
    result = coherence_matrix(rounds)
    svg = heatmap_svg(result.services, result.matrix)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 25
    assert 'data-cell="3-3"' in svg
    assert f"mesh log × mesh log: {result.matrix[3][3]:.4f}" in svg
    assert "style=" not in svg  # the CSP allows no inline styles
