"""Make daphne hand every request body to Django untouched.

Twisted's ``http.Request`` (which daphne's ``WebRequest`` extends) parses a ``multipart/form-data`` POST body into
``request.args`` before the application sees it, and answers a body its ``email`` parser rejects (no boundary, only
the closing boundary, a truncated part) with a bare ``400`` with no body and no Content-Type: the request never
reaches Django, so the API could not answer its documented JSON ``{"detail", "code"}``. daphne never reads
``request.args`` (it passes the raw body on to ASGI), so that parse was also wasted work: a whole copy of every
upload, up to the artifact limit, held in memory.

``install()`` swaps in a request class that turns the parse off (Twisted's own ``parsePOSTFormSubmission``
switch). ``dreamnet.asgi`` calls it at import, so it applies to ``manage.py serve`` and to any ``daphne
dreamnet.asgi:application``: daphne has imported its server before the application, and builds its request
objects from the module attribute on each connection. In a process daphne does not serve (uvicorn, the tests)
it does nothing, so those do not load Twisted for it.
"""

from __future__ import annotations

import sys


def install() -> bool:
    """Make daphne build requests without the body pre-parse for new connections; return whether daphne serves
    this process. Idempotent."""
    http_protocol = sys.modules.get("daphne.http_protocol")
    if http_protocol is None:
        return False
    if getattr(http_protocol.WebRequest, "keeps_body_raw", False):
        return True

    class RawBodyWebRequest(http_protocol.WebRequest):
        """daphne's request, without Twisted's multipart/form-urlencoded pre-parse of the body."""

        keeps_body_raw = True

        def __init__(self, *args, **kwargs) -> None:
            kwargs["parsePOSTFormSubmission"] = False
            super().__init__(*args, **kwargs)

    http_protocol.WebRequest = RawBodyWebRequest
    return True
