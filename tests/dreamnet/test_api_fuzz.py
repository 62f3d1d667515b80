"""Fuzz the JSON API from its own OpenAPI document with Schemathesis.

The operations are read from ``/api/openapi.json`` at run time, so every router mounted in
``dreamnet.api._mount_app_routers`` is covered, including ones added after this file was written. Every response
must be a non-5xx that the document declares (status, content type, body schema); every error must be JSON
``{"detail", "code"}``; and the key the requests carry (every scope, linked to a company) must never be refused
with 401/403, since a documented refusal can still be a wrong one (issue 23: every key-authenticated commerce write
answered a documented 403). The run is bounded and deterministic (a fixed seed, derandomized, a few examples per
operation) so it fits the normal suite.

Widen it locally with ``DREAMNET_FUZZ_EXAMPLES=100 pytest tests/dreamnet/test_api_fuzz.py``.
"""

from __future__ import annotations

import os
import re
from io import StringIO

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import negative_data_rejection

from dreamnet.apikeys import SCOPES, apikey_create

FUZZ_EXAMPLES = int(os.environ.get("DREAMNET_FUZZ_EXAMPLES", "8"))
FUZZ_SEED = 20261122


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": FUZZ_SEED,
            "generation": {
                "max-examples": FUZZ_EXAMPLES,
                "deterministic": True,
                "database": "none",
                "no-shrink": True,
                # Unknown query parameters are ignored by design (clients may send newer ones), not refused.
                "allow-extra-parameters": False,
            },
            # The coverage phase enumerates every boundary of every field: thorough, but minutes per run.
            # The examples and fuzzing phases stay on.
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
            # A schema-valid request may still break a rule the document cannot state (a digest that is not
            # hex, a size past the log's end, a malformed witness note): the handler answers a documented
            # 400/422 with its own code. That
            # is allowed here; `schema_valid_input_passes_validation` below catches the real mismatch.
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "413", "415", "422", "429"]
                }
            },
        }
    )


@pytest.fixture
def all_scopes_key(alice) -> str:
    """A key holding every scope, linked to a verified company and acting as its admin, so that every keyed
    operation can get past authentication (commerce keys act for one company). Made as an operator makes it."""
    call_command("company", "create", "fuzz", "--name", "Fuzz Metals", "--verified", stdout=StringIO())
    call_command("company", "add-member", "fuzz", "alice", "--role", "admin", stdout=StringIO())
    out = StringIO()
    call_command("apikey", "create", "--name", "fuzz", "--scopes", ",".join(SCOPES), "--company", "fuzz",
                 "--as", "alice", stdout=out)  # fmt: skip
    return out.getvalue().strip().splitlines()[-1]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Like Django's test client, keep the test's connection open across requests (the handler closes it at
    request end, which would end the test transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_key_throttling(settings):
    """Schemathesis's ignored-auth check sends bad keys from one address; past the per-address limit every
    keyed operation would answer 429 and its handler go unfuzzed. The limit is tested in
    test_security_login.py. (The DreamSnail and witness throttles reset with the cache between operations.)"""
    settings.DREAMNET_API_KEY_MAX_FAILURES = 1_000_000


# The node serves HTTP through Django's ASGI handler (dreamnet.asgi); the WSGI handler runs the same middleware
# and views synchronously, in the test's thread and database transaction. The document is read when this
# module is collected, so it lists whatever routers are mounted then.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler(), config=_config())


def schema_valid_input_passes_validation(ctx, response, case) -> None:
    """A request generated from the document must get past ninja's own input validation: a
    ``validation_error`` answer to it means the document and the validator disagree."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 422:
        return
    body = response.json()
    if body.get("code") != "validation_error":
        return
    # Schemathesis may send a `format: binary` multipart field as a plain form field, which Django (rightly)
    # does not treat as an uploaded file; that is the generator's encoding, not a document mismatch.
    problems = [e for e in body["detail"] if not (e.get("type") == "missing" and e.get("loc", [None])[0] == "file")]
    assert not problems, f"A schema-valid request failed input validation: {body}"


def error_responses_are_json_with_detail_and_code(ctx, response, case) -> None:
    """Every 4xx/5xx answer is JSON ``{"detail", "code"}`` (docs/api.md promises it), whatever the document says:
    a bare 400 from the HTTP server or an HTML page from Django's handler is a defect (issue 24)."""
    if response.status_code < 400:
        return
    headers = {name.lower(): values for name, values in response.headers.items()}
    content_type = headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), (
        f"{response.status_code} answered with Content-Type {content_type!r}: {response.content[:200]!r}"
    )
    body = response.json()
    assert isinstance(body, dict) and body.get("detail") and body.get("code"), (
        f"{response.status_code} answered {body!r}; errors are {{detail, code}}"
    )


def a_key_with_every_scope_is_never_refused(key: str):
    """Return a check failing on a 401/403 to a request that carried ``key`` (a key holding every scope).

    A documented 401/403 is not proof of a correct one: the CSRF defect of issue 23 answered every
    key-authenticated commerce write with a documented 403.
    """

    def check(ctx, response, case) -> None:
        if response.status_code not in (401, 403):
            return
        if response.request.headers.get("X-DREAMNET-KEY") != key:
            return  # Schemathesis's own auth checks send no key or a wrong one on purpose.
        raise AssertionError(
            f"{response.request.method} {response.request.url} refused a key holding every scope: "
            f"{response.status_code} {response.content[:300]!r}"
        )

    check.__name__ = "a_key_with_every_scope_is_never_refused"
    return check


@schema.parametrize()
@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # one key serves every example
def test_every_operation_answers_as_documented(case, all_scopes_key):
    excluded = []
    if case.media_type == "multipart/form-data":
        # A form field carries text only: a "schema-violating" array or number becomes a valid string, and an
        # empty array no field at all, so the negative check cannot tell a bad form from a good one here.
        excluded.append(negative_data_rejection)
    case.call_and_validate(
        headers={"X-DREAMNET-KEY": all_scopes_key},
        additional_checks=[
            schema_valid_input_passes_validation,
            error_responses_are_json_with_detail_and_code,
            a_key_with_every_scope_is_never_refused(all_scopes_key),
        ],
        excluded_checks=excluded,
    )


def _secured_operations() -> list[tuple[str, str]]:
    document = schema.raw_schema
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and operation.get("security")
    ]


SECURED = _secured_operations()


def test_the_document_lists_secured_operations():
    assert len(SECURED) >= 30  # the mesh, missions, commerce and compute routers at least


@pytest.mark.parametrize(("method", "path"), SECURED, ids=[f"{m} {p}" for m, p in SECURED])
def test_a_call_without_a_key_is_refused_with_the_documented_401(client, method, path):
    url = re.sub(r"\{[^}]+\}", "1", path)
    response = client.generic(method, url, data=b"{}", content_type="application/json")
    assert response.status_code == 401, response.content
    assert set(response.json()) == {"detail", "code"}
    declared = schema.raw_schema["paths"][path][method.lower()]["responses"]
    assert "401" in declared


@pytest.mark.django_db
def test_a_repeated_query_parameter_is_refused_not_silently_dropped(client):
    key = apikey_create(name="m", scopes=["mesh"])[1]
    response = client.get("/api/mesh/events?topic=a&topic=b", headers={"X-DREAMNET-KEY": key})
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Send each of these query parameters once: topic.",
        "code": "repeated_parameter",
    }
    assert client.get("/api/mesh/events?topic=a", headers={"X-DREAMNET-KEY": key}).status_code == 200
