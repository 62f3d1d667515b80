"""Figures as people read them: separators, units, signs and dollars on the compute and showcase pages."""

from __future__ import annotations

from computejobs.figures import dollars, figures_caption, figures_display, integer, number, percent_change, seconds


def test_numbers_get_separators_and_units() -> None:
    assert integer(21282) == "21,282"
    assert number(50_000) == "50,000"
    assert number(1234.5) == "1,234.5"
    assert number(0.125) == "0.125"
    assert dollars(86286.234) == "$86,286.23"
    assert dollars(-1500) == "-$1,500.00"
    assert percent_change(0.5312) == "+0.53 %"
    assert percent_change(0) == "+0.00 %"
    assert seconds(0.21449) == "0.214 s"
    assert seconds(1234.56) == "1,234.6 s"


def test_a_tsp_frame_reads_as_a_sentence() -> None:
    caption = figures_caption({"length": 7914, "cities": 52, "seconds": 0.052, "gap_percent": 4.93, "iterations": 3,
                               "optimum": 7542, "instance": "berlin52"})  # fmt: skip
    assert (
        caption
        == "instance berlin52 · cities 52 · length 7,914 · optimum 7,542 · gap +4.93 % · iterations 3 · time 0.052 s"
    )


def test_a_risk_result_is_in_dollars_per_confidence_level_and_leaves_out_what_is_not_a_figure() -> None:
    pairs = dict(figures_display({"initial_value": 265000.0, "var": {"0.95": 8642.1, "0.99": 12210.456},
                                  "closed_form_var": None, "paths": 200000, "backend": "taichi",
                                  "trace": [[0.1, 500]]}))  # fmt: skip
    assert pairs == {"position value": "$265,000.00", "VaR 95 %": "$8,642.10", "VaR 99 %": "$12,210.46",
                     "paths": "200,000", "backend": "taichi"}  # fmt: skip


def test_a_simulation_frame_keeps_its_grid_and_shows_its_speed() -> None:
    caption = figures_caption({"steps_per_second": 1234.56, "steps": 250, "grid": "256×256", "agents": 50_000})
    assert caption == "agents 50,000 · grid 256×256 · steps 250 · speed 1,234.6 steps/s"  # whatever the dict's order
