"""Errors the reports app raises for input it refuses; each carries a stable code and an HTTP status."""

from __future__ import annotations

from dreamnet.errors import DomainError


class ReportsError(DomainError):
    """A refusal a person can act on (unknown type, bad period, a company the caller may not report on...)."""

    status = 422
