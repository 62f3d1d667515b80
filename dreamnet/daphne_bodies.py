"""Make daphne hand every request body to Django untouched.

Twisted's ``http.Request`` (which daphne's ``WebRequest`` extends) parses a ``multipart/form-data`` POST body into
``request.args`` before the application sees it, and answers a body its ``email`` parser rejects (no boundary, only
the closing boundary, a truncated part) with a bare ``400`` with no body and no Content-Type: the request never
reaches Django, so the API could not answer its documented JSON ``{"detail", "code"}``. daphne never reads
``request.args`` (it passes the raw body on to ASGI), so that parse was also wasted work: a whole copy of every
upload, up to the artifact limit, held in memory.

``install()`` swaps in a request class that turns the parse off (Twisted's own ``parsePOSTFormSubmission``
switch). It is called by ``dreamnet.asgi`` at import, so it applies to ``manage.py serve`` and to any ``daphne
dreamnet.asgi:application``; daphne builds its request objects from the module attribute on each connection,
after it has imported the application.
"""

from __future__ import annotations

from daphne import http_protocol


class RawBodyWebRequest(http_protocol.WebRequest):
    """daphne's request, without Twisted's multipart/form-urlencoded pre-parse of the body."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["parsePOSTFormSubmission"] = False
        super().__init__(*args, **kwargs)


def install() -> None:
    """Make daphne build ``RawBodyWebRequest`` objects for new connections (idempotent)."""
    http_protocol.WebRequest = RawBodyWebRequest
