"""Errors the agents app raises for input or state it refuses; each carries a stable code and an HTTP status."""

from __future__ import annotations

from dreamnet.errors import DomainError


class AgentsError(DomainError):
    """A refusal a person can act on. ``code`` is stable for API clients; the message says what to do."""


class UnpricedModel(AgentsError):
    """The model has no price in effect, so its cost cannot be bounded: refused (fail closed)."""

    def __init__(self, model: str) -> None:
        super().__init__(
            f"Model {model!r} has no price in the price table; add one in the admin (Agent missions › Model prices) "
            "before using it.",
            code="unpriced_model",
        )
        self.model = model


class BudgetRefused(AgentsError):
    """A call's worst case does not fit the monthly, per-agent or per-mission cap."""

    status = 409

    def __init__(self, message: str) -> None:
        super().__init__(message, code="over_budget", status=409)
