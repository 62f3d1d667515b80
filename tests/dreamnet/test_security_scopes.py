"""API-key scopes are enforced on every endpoint. The endpoint → scope map is read from the mounted routers
(operation auth, else router auth), so routers added later are covered without editing this file."""

from __future__ import annotations

import re

import pytest
from ninja.constants import NOT_SET

from dreamnet.api import api
from dreamnet.apikeys import SCOPES, apikey_create
from dreamnet.ninja import ApiKeyAuth

pytestmark = pytest.mark.django_db

# Operations anyone may call without a key. A new public endpoint must be added here on purpose.
PUBLIC = {
    ("GET", "/api/health"),
    ("GET", "/api/stats"),
    ("GET", "/api/changelog"),
    ("GET", "/api/runs/recent"),
    ("GET", "/api/mesh/node"),
    ("GET", "/api/mesh/checkpoint"),
    ("GET", "/api/mesh/entries"),
    ("GET", "/api/mesh/proof/inclusion"),
    ("GET", "/api/mesh/proof/consistency"),
    ("GET", "/api/mesh/witness"),
    ("POST", "/api/mesh/witness/add-checkpoint"),
    ("GET", "/api/mesh/checkpoint/cosigned"),
    ("POST", "/api/dreamsnail/commit"),
    ("POST", "/api/dreamsnail/commit/file"),
    ("GET", "/api/dreamsnail/proof/{index}"),
    ("POST", "/api/dreamsnail/verify"),
    ("GET", "/api/dreamsnail/spec"),
    ("GET", "/api/dreamsnail/summary"),
    ("GET", "/api/dreamsnail/roadmap"),
    ("GET", "/api/commerce/spot"),
    ("GET", "/api/commerce/products"),
    ("GET", "/api/commerce/products/{sku}"),
    ("GET", "/api/commerce/intelligence"),
}


def _join(*parts: str) -> str:
    return "/api/" + "/".join(p.strip("/") for p in parts if p.strip("/"))


def _operations() -> list[tuple[str, str, list]]:
    """(method, path, auth callables) for every operation the API serves."""
    found = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                auth = operation.auth_callbacks if operation.auth_param is not NOT_SET else router.auth
                auth = [] if auth in (None, NOT_SET) else list(auth) if isinstance(auth, list | tuple) else [auth]
                for method in operation.methods:
                    found.append((method, _join(prefix, path), auth))
    return found


OPERATIONS = _operations()


def _scopes(auth: list) -> set[str]:
    return {a.scope for a in auth if isinstance(a, ApiKeyAuth) and a.scope}


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_operation_is_keyed_or_deliberately_public():
    unguarded = {(m, p) for m, p, auth in OPERATIONS if not auth}
    assert unguarded == PUBLIC, f"new unauthenticated operations: {unguarded - PUBLIC}; gone: {PUBLIC - unguarded}"


def test_every_scope_an_endpoint_names_is_a_known_scope():
    named = set().union(*(_scopes(auth) for _m, _p, auth in OPERATIONS))
    assert named and named <= set(SCOPES)


def _call(client, method: str, path: str, key: str):
    return client.generic(method, _url(path), data=b"{}", content_type="application/json", HTTP_X_DREAMNET_KEY=key)


@pytest.mark.parametrize("scope", sorted(SCOPES))
def test_a_scope_guards_its_endpoints(client, scope):
    guarded = [(m, p) for m, p, auth in OPERATIONS if scope in _scopes(auth)]
    if not guarded:
        pytest.skip(f"no endpoint requires the {scope!r} scope yet")
    _k, without = apikey_create(name=f"all-but-{scope}", scopes=[s for s in SCOPES if s != scope])
    _k, holder = apikey_create(name=f"only-{scope}", scopes=[scope])
    for method, path in guarded:
        refused = _call(client, method, path, without)
        assert refused.status_code == 403, (method, path, refused.content)
        assert refused.json()["code"] == "api_key_scope"
        assert f"lacks the {scope!r} scope" in refused.json()["detail"]
        allowed = _call(client, method, path, holder)
        assert allowed.status_code not in (401, 429), (method, path, allowed.content)
        if allowed.status_code == 403:  # a handler's own rule (e.g. a key not linked to a company), not the scope
            assert allowed.json()["code"] != "api_key_scope", (method, path)
