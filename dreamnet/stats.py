"""The stats strip: figures the system measured, each from its own app, never invented.

A stat is a function returning ``(value, detail)`` strings, or raising ``StatUnavailable`` with the reason;
an empty source says so in words ("no missions yet"). Apps register stats in their ``ready()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass


class StatUnavailable(Exception):
    """The source of a stat cannot answer now; the message says why."""


@dataclass(frozen=True)
class StatValue:
    name: str
    label: str
    value: str
    detail: str
    ok: bool


_STATS: dict[str, tuple[str, Callable[[], tuple[str, str]]]] = {}


def stat(name: str, *, label: str) -> Callable:
    def register(fn: Callable[[], tuple[str, str]]) -> Callable[[], tuple[str, str]]:
        _STATS[name] = (label, fn)
        return fn

    return register


def stats_snapshot() -> list[dict]:
    values = []
    for name, (label, fn) in _STATS.items():
        try:
            value, detail = fn()
            values.append(StatValue(name, label, value, detail, True))
        except Exception as exc:  # a failing source is shown as unavailable, not hidden
            values.append(StatValue(name, label, "unavailable", str(exc) or type(exc).__name__, False))
    return [asdict(v) for v in values]
