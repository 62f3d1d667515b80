"""The multi-asset Monte Carlo model: the single-asset Gaussian case matches the closed form on both backends,
correlations come through the Cholesky factor, contributions add up to ES."""

from __future__ import annotations

import math

import numpy as np
import pytest

from compute.montecarlo import GbmModel, closed_form
from compute.montecarlo.portfolio import PortfolioModel, simulate_portfolio


@pytest.mark.parametrize("backend", ["numpy", "taichi"])
@pytest.mark.parametrize("days", [1, 10])
def test_one_gaussian_asset_matches_the_closed_form(backend, days):
    model = PortfolioModel(values=[1_000_000.0], volatilities=[0.25], correlation=[[1.0]])
    risk = simulate_portfolio(model, horizon_days=days, paths=200_000, backend=backend, seed=3)
    exact = closed_form(GbmModel(spot=1_000_000.0, volatility=0.25, horizon_days=days, steps=days,
                                 days_per_year=365.25))  # fmt: skip
    for level in (0.95, 0.99):
        assert risk.var[level] == pytest.approx(exact.var[level], rel=0.02)
        assert risk.es[level] == pytest.approx(exact.es[level], rel=0.02)


@pytest.mark.parametrize("backend", ["numpy", "taichi"])
def test_correlation_goes_through_the_cholesky_factor(backend):
    # Small volatilities over one day: the loss is close to normal with variance v' Σ v dt.
    values, vols = np.array([1e6, 2e6]), np.array([0.1, 0.2])
    for rho in (-0.5, 0.0, 0.9):
        model = PortfolioModel(values=values.tolist(), volatilities=vols.tolist(), correlation=[[1, rho], [rho, 1]])
        risk = simulate_portfolio(model, horizon_days=1, paths=200_000, backend=backend, seed=1)
        cov = np.outer(vols, vols) * np.array([[1, rho], [rho, 1]])
        sd = math.sqrt(values @ cov @ values / 365.25)
        assert risk.var[0.99] == pytest.approx(2.3263 * sd, rel=0.03)


@pytest.mark.parametrize("shocks", [{}, {"shocks": "student_t", "dof": 4.0}])
def test_contributions_sum_to_expected_shortfall(shocks):
    model = PortfolioModel(values=[5e5, 3e5, 1e5], volatilities=[0.15, 0.8, 0.0],
                           correlation=[[1, 0.1, 0], [0.1, 1, 0], [0, 0, 1]], **shocks)  # fmt: skip
    risk = simulate_portfolio(model, horizon_days=10, paths=20_000, backend="numpy")
    for level in (0.95, 0.99):
        assert sum(risk.contributions[level]) == pytest.approx(risk.es[level], rel=1e-9)
        assert risk.es[level] >= risk.var[level] > 0
        assert risk.contributions[level][2] == 0.0  # a riskless position contributes nothing


def test_student_t_fattens_the_far_tail():
    normal = PortfolioModel(values=[1e6], volatilities=[0.3], correlation=[[1.0]])
    fat = PortfolioModel(values=[1e6], volatilities=[0.3], correlation=[[1.0]], shocks="student_t", dof=3.0)
    a = simulate_portfolio(normal, horizon_days=1, paths=100_000, backend="numpy")
    b = simulate_portfolio(fat, horizon_days=1, paths=100_000, backend="numpy")
    assert b.es[0.99] > a.es[0.99]


def test_an_indefinite_estimate_is_repaired():
    corr = [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]  # not positive semi-definite
    model = PortfolioModel(values=[1.0, 1.0, 1.0], volatilities=[0.1, 0.1, 0.1], correlation=corr)
    factor = model.cholesky
    assert np.allclose(np.diag(factor @ factor.T), 1.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"values": [0.0]}, "positive"),
        ({"volatilities": [-1.0]}, "volatilities"),
        ({"correlation": [[2.0]]}, "unit diagonal"),
        ({"shocks": "student_t"}, "dof"),
    ],
)
def test_it_refuses_a_bad_model(changes, message):
    base = {"values": [1.0], "volatilities": [0.1], "correlation": [[1.0]]}
    with pytest.raises(ValueError, match=message):
        PortfolioModel(**(base | changes))
