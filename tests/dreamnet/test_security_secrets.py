"""With every secret configured, no secret reaches a log record, an error page (DEBUG off or on), the admin,
/api/health or the console."""

from __future__ import annotations

import logging

import pytest

from dreamnet.apikeys import SCOPES, apikey_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SECRETS = {
    "OPENAI_API_KEY": "sk-test-openai-3f9a7c1e5d",
    "STRIPE_SECRET_KEY": "sk_test_stripe_8b2d4f6a0c",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_1a2b3c4d5e",
    "METALPRICEAPI_KEY": "mpa-test-9e8d7c6b5a",
    "METALSDEV_KEY": "mdev-test-0f1e2d3c4b",
    "DREAMNET_ADMIN_PASSWORD": "admin-pass-test-7q8w9e",
}
URL_SECRETS = {
    "DATABASE_URL": "postgres://dreamnet:db-pass-test-4r5t6y@db.internal:5432/dreamnet",
    "REDIS_URL": "redis://:redis-pass-test-1u2i3o@cache.internal:6379/0",
}


def _needles() -> list[str]:
    return [*SECRETS.values(), "db-pass-test-4r5t6y", "redis-pass-test-1u2i3o", "smtp-pass-test-5g6h7j"]


@pytest.fixture
def secrets_set(settings):
    for name, value in SECRETS.items():
        setattr(settings, name, value)
    for name, value in URL_SECRETS.items():
        setattr(settings, name, value)
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": URL_SECRETS["REDIS_URL"]}
    smtp = {"host": "smtp.internal", "port": 587, "username": "dreamnet", "password": "smtp-pass-test-5g6h7j"}
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": smtp}}
    return settings


def _assert_clean(text: str, where: str) -> None:
    leaked = [needle for needle in _needles() if needle in text]
    assert not leaked, f"{where} shows {leaked}"


def test_pages_api_and_admin_show_no_secret(client, olivia, secrets_set, caplog):
    caplog.set_level(logging.DEBUG)
    _key, raw = apikey_create(name="all", scopes=list(SCOPES))
    for url in ("/", "/status", "/api/health", "/api/stats", "/api/openapi.json", "/api/docs"):
        response = client.get(url)
        assert response.status_code in (200, 503), url
        _assert_clean(response.content.decode(), url)
    for url in ("/api/queue", "/api/auth/whoami", "/api/budget"):
        response = client.get(url, headers={"X-DREAMNET-KEY": raw})
        _assert_clean(response.content.decode(), url)
    olivia.is_superuser = True
    olivia.save(update_fields=["is_superuser"])
    assert client.login(username="olivia", password=PASSWORD)
    for url in ("/console/", "/admin/", "/admin/dreamnet/apikey/", "/admin/auth/user/"):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_clean(response.content.decode(), url)
    _assert_clean("\n".join(r.getMessage() for r in caplog.records), "the log")


@pytest.mark.parametrize("debug", [False, True], ids=["production-500", "debug-500"])
def test_a_server_error_page_shows_no_secret(client, secrets_set, monkeypatch, caplog, debug):
    caplog.set_level(logging.DEBUG)
    secrets_set.DEBUG = debug

    def boom(*args, **kwargs):
        raise RuntimeError("the page failed")

    monkeypatch.setattr("dreamnet.views_site.render", boom)
    client.raise_request_exception = False
    response = client.get("/privacy")
    assert response.status_code == 500
    page = response.content.decode()
    if debug:
        assert "the page failed" in page and "OPENAI_API_KEY" in page  # the technical page, settings listed
    _assert_clean(page, "the 500 page")
    records = "\n".join(r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
                        for r in caplog.records)  # fmt: skip
    assert "the page failed" in records
    _assert_clean(records, "the log")


def test_failed_sign_ins_log_no_password(client, alice, caplog):
    caplog.set_level(logging.DEBUG)
    client.post("/accounts/login/", {"username": "alice", "password": "hunter2-typed-password"})
    client.post("/admin/login/", {"username": "alice", "password": "hunter2-typed-password"})
    assert "hunter2-typed-password" not in "\n".join(r.getMessage() for r in caplog.records)
