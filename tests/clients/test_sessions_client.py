"""A signed-in browser session, over real HTTP, on every write operation in the document.

Where an operation accepts a session (its security lists ``CsrfSessionAuth``, i.e. ``key_or_session``), a write
without the CSRF token is 403 ``csrf_failed``; everywhere else a session is no credential at all (401), even with
the token. Read from ``/api/openapi.json``, so a router that adds session auth later is held to the same rule.
"""

from __future__ import annotations

import re

from dreamnet.api import api
from tests.clients.conftest import WRITE_METHODS, csrf_token, sign_in


def _writes() -> list[tuple[str, str, bool]]:
    """(method, url with ids filled in, whether a session is accepted) for every write operation."""
    found = []
    for path, item in api.get_openapi_schema()["paths"].items():
        for method, operation in item.items():
            if method.upper() not in WRITE_METHODS or not operation.get("security"):
                continue
            schemes = {name for requirement in operation["security"] for name in requirement}
            found.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path), "CsrfSessionAuth" in schemes))
    return found


def test_session_writes_need_the_csrf_token_and_key_only_writes_refuse_a_session(http, alice):
    writes = _writes()
    assert any(session for _m, _u, session in writes), "no operation accepts a session any more: update this test"
    browser = sign_in(http(), alice)
    token = csrf_token(browser, "/metals")
    for method, url, session in writes:
        without = browser.request(method, url, json={})
        with_token = browser.request(method, url, json={}, headers={"X-CSRFToken": token})
        if session:
            assert (without.status_code, without.json()["code"]) == (403, "csrf_failed"), (method, url, without.text)
            assert with_token.json().get("code") != "csrf_failed", (method, url, with_token.text)
        else:
            assert (without.status_code, without.json()["code"]) == (401, "api_key_missing"), (method, url)
            assert (with_token.status_code, with_token.json()["code"]) == (401, "api_key_missing"), (method, url)
