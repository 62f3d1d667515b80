"""Drive the API as its clients do: real HTTP to a live server, a fresh ``httpx`` client with no cookies, the key
in ``X-DREAMNET-KEY``, and for browser sessions Django's CSRF check as it runs for every request that does not come
from Django's test client.

Each test names the write operations it exercises with ``@pytest.mark.covers("POST /api/...")``; after the test,
every named operation must have answered 2xx to one of its requests (so a marker cannot claim what the test did
not do), and ``test_client_coverage.py`` fails when a write operation in ``/api/openapi.json`` is named by no
client test.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

import httpx2 as httpx
import pytest
from django.conf import settings
from django.test import Client

from dreamnet.apikeys import apikey_create

KEY_HEADER = "X-DREAMNET-KEY"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "covers(*operations): write operations ('POST /api/...') a client test exercises"
    )


@functools.cache
def operation_patterns() -> tuple[tuple[str, str, re.Pattern], ...]:
    """(method, path template, pattern) for every operation in the API's document."""
    from dreamnet.api import api

    found = []
    for path, item in api.get_openapi_schema()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        found.extend((method.upper(), path, pattern) for method in item if method.upper() in (*WRITE_METHODS, "GET"))
    return tuple(found)


def write_operations() -> set[str]:
    return {f"{method} {path}" for method, path, _ in operation_patterns() if method in WRITE_METHODS}


def _operation_of(method: str, path: str) -> str | None:
    for op_method, template, pattern in operation_patterns():
        if op_method == method and pattern.match(path):
            return f"{op_method} {template}"
    return None


class Answered:
    """The operations that answered 2xx during one test, by ``METHOD /path/{template}``."""

    def __init__(self) -> None:
        self.succeeded: set[str] = set()

    def record(self, response: httpx.Response) -> None:
        operation = _operation_of(response.request.method, response.request.url.path)
        if operation and 200 <= response.status_code < 300:
            self.succeeded.add(operation)


@pytest.fixture
def answered(request) -> Iterator[Answered]:
    answered = Answered()
    yield answered
    marker = request.node.get_closest_marker("covers")
    claimed = set(marker.args) if marker else set()
    missing = claimed - answered.succeeded
    assert not missing, f"the test claims {sorted(missing)} but none of its requests to them answered 2xx"


@pytest.fixture
def http(live_server, answered) -> Iterator[Callable[..., httpx.Client]]:
    """Return a factory of fresh clients on the live server: ``http(key=raw)`` sends the key on every request,
    ``http()`` sends nothing but what the test adds (cookies set by the server are kept, as a browser would)."""
    clients: list[httpx.Client] = []

    def make(*, key: str | None = None) -> httpx.Client:
        client = httpx.Client(
            base_url=live_server.url,
            headers={KEY_HEADER: key} if key else {},
            timeout=30,
            follow_redirects=False,
            event_hooks={"response": [answered.record]},
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def make_key(transactional_db) -> Callable[..., str]:
    """Return a function creating an API key with ``scopes`` and returning its raw value."""

    def make(*scopes: str, name: str = "client-test") -> str:
        return apikey_create(name=name, scopes=list(scopes))[1]

    return make


@pytest.fixture
def seeded(transactional_db) -> None:
    """Seed again what the migrations seeded (agents, prices, the codegen team, the foundry's evaluation set):
    the live server needs committed rows, and every transactional test ends by flushing the tables."""
    import importlib

    from django.apps import apps

    from agents.foundry.seed import seed_basics

    importlib.import_module("agents.migrations.0002_seed_agents_and_prices").seed(apps, None)
    importlib.import_module("agents.migrations.0005_codegen").seed(apps, None)
    importlib.import_module("agents.migrations.0008_media").seed(apps, None)
    seed_basics(apps, None)


def sign_in(client: httpx.Client, user) -> httpx.Client:
    """Give ``client`` ``user``'s session cookie, as a browser holds it after signing in (no CSRF token yet)."""
    django_client = Client()
    django_client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    client.cookies.set(name, django_client.cookies[name].value)
    return client


def csrf_token(client: httpx.Client, page: str = "/") -> str:
    """Load a page as a browser does and return the CSRF token its cookie carries (the value to send in
    ``X-CSRFToken``)."""
    response = client.get(page)
    assert response.status_code == 200, response.text[:300]
    token = client.cookies.get(settings.CSRF_COOKIE_NAME)
    assert token, f"{page} set no {settings.CSRF_COOKIE_NAME} cookie"
    return token
