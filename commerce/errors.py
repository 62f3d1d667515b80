"""The commerce refusal type, shared by the order services, payments and subscriptions (imports no service)."""

from __future__ import annotations

from dreamnet.errors import DomainError


class CommerceError(DomainError):
    """A request the commerce rules refuse (``detail``, stable ``code``, HTTP ``status``, optional ``extra``)."""
