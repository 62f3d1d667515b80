"""The one base class for refusals a domain service raises, and what the API answers for it.

Platform plumbing: imports no app. ``CommerceError``, ``AgentsError``, ``MeshError`` and the compute jobs'
``JobError`` derive from ``DomainError``; the API root's handler turns any of them into
``{"detail", "code", **extra}`` with ``status``, so API views call services without a try/except of their own,
and pages show ``detail`` as a form error.
"""

from __future__ import annotations

from typing import Any


class DomainError(ValueError):
    """A request the rules refuse, with what a person can do about it.

    ``detail`` is the message (say what to fix), ``code`` is stable for API clients, ``status`` is the HTTP status
    an API answers with (422 unless a subclass or the raiser says otherwise), ``extra`` holds machine-readable
    fields the API adds to the error body (for example a re-quote link).
    """

    status: int = 422
    code: str = "invalid"

    def __init__(
        self, detail: str, *, code: str | None = None, status: int | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra or {}

    def as_body(self) -> dict[str, Any]:
        """Return the API error body: ``{"detail", "code"}`` plus ``extra``."""
        return {"detail": self.detail, "code": self.code, **self.extra}
