"""Monte Carlo risk: GBM matches its lognormal closed form, fat tails stay unit-variance, seeds reproduce."""

from __future__ import annotations

import math
import threading
from statistics import NormalDist

import numpy as np
import pytest

from compute import runtime
from compute.montecarlo import GbmModel, RiskReport, closed_form, simulate, terminal_prices
from compute.montecarlo.risk import CHUNK_PATHS
from tests.compute.test_runtime import forks, in_forked_child

BACKENDS = ["taichi", "numpy"]
GOLD = GbmModel(spot=2400.0, quantity=50.0, drift=0.06, volatility=0.22, horizon_days=20, steps=8)
PATHS = 400_000


def _var_tolerance(model: GbmModel, level: float, paths: int) -> float:
    """Return 5 standard errors of the empirical level-VaR of a long position: sqrt(p(1 - p) / n) / density."""
    normal = NormalDist()
    tail = 1.0 - level
    s = model.volatility * math.sqrt(model.years)
    z = normal.inv_cdf(tail)
    price = model.spot * math.exp((model.drift - 0.5 * model.volatility**2) * model.years + s * z)
    density = normal.pdf(z) / (price * s)  # of S(T) at its tail-quantile
    return 5 * model.quantity * math.sqrt(tail * (1 - tail) / paths) / density


@pytest.mark.parametrize("backend", BACKENDS)
def test_gbm_matches_the_lognormal_closed_form(backend: str) -> None:
    exact = closed_form(GOLD)

    report = simulate(GOLD, paths=PATHS, seed=3, backend=backend)

    assert report.backend == backend
    assert report.paths == PATHS
    assert report.initial_value == exact.initial_value == 120_000.0
    assert abs(report.mean_terminal_value - exact.mean_terminal_value) < 5 * report.stderr
    assert math.isclose(report.stderr, 120_000.0 * 0.22 * math.sqrt(20 / 252) / math.sqrt(PATHS), rel_tol=0.05)
    for level in (0.95, 0.99):
        assert abs(report.var[level] - exact.var[level]) < _var_tolerance(GOLD, level, PATHS)
        assert report.es[level] == pytest.approx(exact.es[level], rel=0.02)
    for level in (0.01, 0.5, 0.99):
        assert report.quantiles[level] == pytest.approx(exact.quantiles[level], rel=0.005)


@pytest.mark.parametrize("backend", BACKENDS)
def test_normal_shocks_are_standard_normal_out_to_the_tails(backend: str) -> None:
    model = GbmModel(spot=1.0, drift=0.0, volatility=1.0, horizon_days=252, steps=1)  # log S(T) = -1/2 + z
    paths = 1_000_000

    z = np.log(terminal_prices(model, paths=paths, seed=13, backend=backend)) + 0.5

    normal = NormalDist()
    # +-3.4426 is where the kernel's ziggurat hands over to its tail sampler.
    for point in (-4.5, -3.4426, -2.5, -1.0, -0.3, 0.0, 0.7, 1.9, 3.4426, 4.5):
        expected = normal.cdf(point)
        assert abs(np.mean(z <= point) - expected) <= 5 * math.sqrt(expected * (1 - expected) / paths) + 2e-6
    assert abs(z.mean()) < 5 / math.sqrt(paths)
    assert z.std() == pytest.approx(1.0, abs=0.005)


def test_the_closed_form_is_the_lognormal_one() -> None:
    exact = closed_form(GOLD, confidence=[0.99], quantiles=[0.01])
    s = 0.22 * math.sqrt(20 / 252)
    low = 2400.0 * math.exp((0.06 - 0.5 * 0.22**2) * 20 / 252 - 2.3263478740408408 * s)

    assert exact.mean_terminal_value == pytest.approx(120_000.0 * math.exp(0.06 * 20 / 252))
    assert exact.var[0.99] == pytest.approx(50.0 * (2400.0 - low))
    assert exact.quantiles[0.01] == pytest.approx(50.0 * low)
    assert exact.es[0.99] > exact.var[0.99] > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_short_position_loses_when_the_price_rises(backend: str) -> None:
    short = GbmModel(spot=30.0, quantity=-1000.0, drift=0.0, volatility=0.35, horizon_days=5, steps=5)
    exact = closed_form(short)

    report = simulate(short, paths=200_000, seed=4, backend=backend)

    assert exact.var[0.99] == pytest.approx(
        1000.0 * (30.0 * math.exp(-0.5 * 0.35**2 * 5 / 252 + 2.3263478740408408 * 0.35 * math.sqrt(5 / 252)) - 30.0)
    )
    for level in (0.95, 0.99):
        assert report.var[level] == pytest.approx(exact.var[level], rel=0.03)
        assert report.es[level] == pytest.approx(exact.es[level], rel=0.03)
    assert report.quantiles[0.01] < report.quantiles[0.99] < 0  # a short position's value is negative


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shocks", [{}, {"shocks": "student_t", "dof": 3.5}])
def test_expected_shortfall_is_at_least_value_at_risk(backend: str, shocks: dict[str, object]) -> None:
    model = GbmModel(spot=1.0, volatility=0.4, horizon_days=60, steps=12, **shocks)  # type: ignore[arg-type]

    report = simulate(model, paths=20_000, seed=5, backend=backend, confidence=(0.5, 0.9, 0.975, 0.999))

    assert all(report.es[level] >= report.var[level] for level in report.var)
    assert [report.var[level] for level in (0.5, 0.9, 0.975, 0.999)] == sorted(report.var.values())


@pytest.mark.parametrize("backend", BACKENDS)
def test_student_t_shocks_have_unit_variance_fat_tails_and_approach_normal(backend: str) -> None:
    normal = GbmModel(spot=100.0, volatility=0.3, horizon_days=1, steps=1)
    fat = GbmModel(spot=100.0, volatility=0.3, horizon_days=1, steps=1, shocks="student_t", dof=10.0)
    near = GbmModel(spot=100.0, volatility=0.3, horizon_days=1, steps=1, shocks="student_t", dof=2000.0)
    s = 0.3 * math.sqrt(1 / 252)

    log_returns = np.log(terminal_prices(fat, paths=300_000, seed=6, backend=backend) / 100.0)
    kurtosis = float(np.mean((log_returns - log_returns.mean()) ** 4) / log_returns.var() ** 2)

    assert log_returns.std() == pytest.approx(s, rel=0.01)  # t(10) scaled to unit variance
    assert kurtosis == pytest.approx(4.0, rel=0.1)  # t(10) has excess kurtosis 6 / (10 - 4) = 1
    exact = closed_form(normal)
    report = simulate(near, paths=300_000, seed=7, backend=backend)
    for level in (0.95, 0.99):
        assert abs(report.var[level] - exact.var[level]) < _var_tolerance(normal, level, 300_000)
    assert simulate(fat, paths=300_000, seed=8, backend=backend).var[0.99] > exact.var[0.99]


def test_a_seed_reproduces_a_run_and_each_path_has_its_own_stream() -> None:
    model = GbmModel(spot=1800.0, shocks="student_t", dof=4.0)

    first = terminal_prices(model, paths=5000, seed=11)
    again = terminal_prices(model, paths=5000, seed=11)
    other = terminal_prices(model, paths=5000, seed=12)
    longer = terminal_prices(model, paths=CHUNK_PATHS + 7, seed=11)

    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert np.array_equal(longer[:5000], first)  # path p's price does not depend on the path count or chunks
    assert np.isfinite(longer).all()
    assert (longer > 0).all()
    assert np.array_equal(
        terminal_prices(model, paths=3000, seed=2, backend="numpy"),
        terminal_prices(model, paths=3000, seed=2, backend="numpy"),
    )


@forks
def test_a_seed_reproduces_on_one_cpu_thread_in_a_fresh_runtime() -> None:
    here = simulate(GOLD, paths=50_000, seed=9)

    def single_threaded() -> tuple[int, dict[str, object]]:
        runtime.configure(threads=1)
        return runtime.info().threads, simulate(GOLD, paths=50_000, seed=9).as_dict()

    threads, there = in_forked_child(single_threaded)

    assert threads == 1
    assert {**there, "seconds": 0} == {**here.as_dict(), "seconds": 0}


def test_concurrent_runs_do_not_mix() -> None:
    model = GbmModel(spot=25.0, steps=2)
    alone = {seed: terminal_prices(model, paths=CHUNK_PATHS + 100, seed=seed) for seed in range(3)}
    together: dict[int, np.ndarray] = {}

    def worker(seed: int) -> None:
        together[seed] = terminal_prices(model, paths=CHUNK_PATHS + 100, seed=seed)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(together) == [0, 1, 2]
    assert all(np.array_equal(together[seed], alone[seed]) for seed in range(3))


def test_the_report_is_json_ready() -> None:
    report = simulate(GOLD, paths=1000, seed=1, confidence=[0.99], quantiles=[0.5])

    data = report.as_dict()

    assert isinstance(report, RiskReport)
    assert set(data["var"]) == set(data["es"]) == {"0.99"}  # type: ignore[arg-type]
    assert set(data["quantiles"]) == {"0.5"}  # type: ignore[arg-type]
    assert data["paths"] == 1000


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"spot": 0.0}, "spot must be a positive, finite price per unit, got 0.0"),
        ({"spot": math.nan}, "spot must be a positive"),
        ({"volatility": -0.1}, "volatility must be a positive, finite annualised volatility"),
        ({"volatility": math.inf}, "volatility must be a positive"),
        ({"quantity": 0.0}, "quantity must be a finite, non-zero number"),
        ({"drift": math.nan}, "drift must be a finite annualised rate"),
        ({"horizon_days": 0}, "horizon_days must be a positive"),
        ({"steps": 0}, "steps must be an integer from 1 to 10000"),
        ({"steps": 2.5}, "steps must be an integer"),
        ({"shocks": "cauchy"}, "shocks must be 'normal' or 'student_t'"),
        ({"shocks": "student_t"}, "dof must be a finite number above 2"),
        ({"shocks": "student_t", "dof": 2.0}, "dof must be a finite number above 2"),
        ({"dof": 5.0}, "dof applies only to shocks='student_t'"),
        ({"days_per_year": -1.0}, "days_per_year must be a positive"),
    ],
)
def test_it_refuses_a_bad_model(changes: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"spot": 2400.0}

    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        GbmModel(**{**base, **changes})  # type: ignore[arg-type]


def test_it_refuses_a_bad_run() -> None:
    with pytest.raises(ValueError, match=r"paths must be an integer from 2 to 10000000 \(max_paths\), got 10000001"):
        simulate(GOLD, paths=10**7 + 1)
    with pytest.raises(ValueError, match=r"paths must be an integer from 2 to 1000 \(max_paths\), got 1001"):
        terminal_prices(GOLD, paths=1001, max_paths=1000)
    with pytest.raises(ValueError, match="paths must be an integer"):
        simulate(GOLD, paths=1)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        simulate(GOLD, paths=100, seed=-1)
    with pytest.raises(ValueError, match="backend must be 'taichi' or 'numpy'"):
        simulate(GOLD, paths=100, backend="cuda")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="confidence levels must lie strictly between 0 and 1"):
        simulate(GOLD, paths=100, confidence=[1.0])
    with pytest.raises(ValueError, match=r"quantile levels must lie within \[0, 1\]"):
        simulate(GOLD, paths=100, quantiles=[1.5])
    with pytest.raises(ValueError, match="closed_form needs shocks='normal'"):
        closed_form(GbmModel(spot=1.0, shocks="student_t", dof=5.0))
