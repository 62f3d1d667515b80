"""Figures as people read them: thousands separators, units, signs, dollars (pure: no Django).

A job's result and a showcase frame's figures are dicts of plain numbers (the API keeps them so). Pages show them
through :func:`figures_display`: "length 7,542", "gap +0.53 %", "speed 1,234.5 steps/s", "VaR 99 % $86,286.23".
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real
from typing import Any


def integer(value: Real) -> str:
    return f"{round(value):,}"


def number(value: Real) -> str:
    """An integer with separators, or a decimal with separators and up to 3 places (no trailing zeros)."""
    if float(value).is_integer():
        return integer(value)
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def seconds(value: Real) -> str:
    return f"{value:,.3f} s" if value < 10 else f"{value:,.1f} s"


def dollars(value: Real) -> str:
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


def percent_change(value: Real) -> str:
    return f"{value:+,.2f} %"


def per_second(unit: str) -> Callable[[Real], str]:
    return lambda value: f"{value:,.1f} {unit}/s"


def _level(key: str) -> str:
    """Return a confidence level key ("0.99") as people write it ("99 %")."""
    try:
        return f"{float(key) * 100:g} %"
    except ValueError:
        return key


# key: (label, format). Keys not listed are shown with their name and `number` (or as text).
FIGURES: dict[str, tuple[str, Callable[[Any], str]]] = {
    "name": ("instance", str),
    "instance": ("instance", str),
    "n": ("cities", integer),
    "cities": ("cities", integer),
    "length": ("length", integer),
    "optimum": ("optimum", integer),
    "gap_percent": ("gap", percent_change),
    "iterations": ("iterations", integer),
    "seconds": ("time", seconds),
    "wall_seconds": ("wall time", seconds),
    "steps_per_second": ("speed", per_second("steps")),
    "food_sources": ("food sources", integer),
    "initial_value": ("position value", dollars),
    "mean_terminal_value": ("mean value at horizon", dollars),
    "stderr": ("standard error", dollars),
    "var": ("VaR", dollars),
    "es": ("expected shortfall", dollars),
    "closed_form_var": ("closed-form VaR", dollars),
}
# Reading order: what ran, on how much, what it found, how long it took. A stored result's key order is not
# kept by every database (PostgreSQL's jsonb sorts keys), so captions follow this order, other keys after it.
ORDER = ["name", "instance", "n", "cities", "agents", "prey", "predators", "food_sources", "grid", "size", "steps",
         "paths", "length", "optimum", "gap_percent", "catches", "initial_value", "mean_terminal_value", "stderr", "var",
         "closed_form_var", "es", "iterations", "steps_per_second", "seconds", "wall_seconds"]  # fmt: skip
HIDDEN = frozenset({"trace", "error"})  # a convergence trace is drawn, not listed; an error is shown on its own


def figures_display(figures: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (label, text) pairs for the figures people read, in reading order (``ORDER``, then by name).

    A dict of confidence levels (``var``, ``es``) gives one pair per level, lowest first; lists and None are left out.
    """
    rank = {key: i for i, key in enumerate(ORDER)}
    pairs: list[tuple[str, str]] = []
    for key, value in sorted(figures.items(), key=lambda item: (rank.get(item[0], len(ORDER)), item[0])):
        if key in HIDDEN or value is None or isinstance(value, list | tuple):
            continue
        label, fmt = FIGURES.get(key, (key.replace("_", " "), number))
        if isinstance(value, dict):
            pairs += [(f"{label} {_level(k)}", text(fmt, v)) for k, v in sorted(value.items()) if v is not None]
        else:
            pairs.append((label, text(fmt, value)))
    return pairs


def figures_caption(figures: dict[str, Any]) -> str:
    """Return the figures as one line: "length 7,542 · gap +0.53 % · time 0.214 s"."""
    return " · ".join(f"{label} {text}" for label, text in figures_display(figures))


def text(fmt: Callable[[Any], str], value: Any) -> str:
    """Return ``fmt(value)`` for a number; anything else (a name, a grid "256×256") as it is."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return str(value)
    return fmt(value)
