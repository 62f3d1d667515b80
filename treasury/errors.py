"""The treasury refusal type."""

from __future__ import annotations

from dreamnet.errors import DomainError


class TreasuryError(DomainError):
    """A request the treasury rules refuse (``detail``, stable ``code``, HTTP ``status``, optional ``extra``)."""
