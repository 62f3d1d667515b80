"""Sign-in lockout and rate limits: failures per username and per address lock sign-in for a window, the same
answer whether or not the account exists, lifted by expiry or `manage.py login_unlock`; failed API keys are
throttled per address."""

from __future__ import annotations

import re
import time
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from dreamnet.apikeys import apikey_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-in attempts"


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.DREAMNET_LOGIN_MAX_FAILURES = 3
    settings.DREAMNET_LOGIN_IP_MAX_FAILURES = 10
    settings.DREAMNET_LOGIN_LOCKOUT_S = 600
    settings.DREAMNET_LOGIN_RATE_PER_MINUTE = 100
    settings.DREAMNET_API_KEY_MAX_FAILURES = 3
    cache.clear()
    yield
    cache.clear()


def _login(client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def _fail(client, username: str, times: int, ip: str = "10.0.0.1") -> None:
    for _ in range(times):
        response = _login(client, username, "wrong password", ip)
        assert response.status_code == 200
        assert LOCKED not in response.content.decode()


def test_the_right_password_is_refused_after_too_many_failures(client, alice):
    _fail(client, "alice", 3)
    response = _login(client, "alice", PASSWORD)
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_username_and_other_accounts_still_sign_in(client, alice, bob):
    _fail(client, "alice", 3)
    response = _login(client, "bob", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(bob.pk)


def test_a_username_that_does_not_exist_locks_out_exactly_the_same(client, alice):
    _fail(client, "alice", 3)
    _fail(client, "nobody-here", 3)
    real = _login(client, "alice", "wrong password").content.decode()
    ghost = _login(client, "nobody-here", "wrong password").content.decode()
    assert LOCKED in real and LOCKED in ghost
    errors = [re.search(r'<ul class="errorlist".*?</ul>', page, re.S).group(0) for page in (real, ghost)]
    assert errors[0] == errors[1]


def test_an_address_is_locked_out_across_usernames(client, alice):
    for n in range(10):
        _login(client, f"user{n}", "guess", ip="10.9.9.9")
    assert LOCKED in _login(client, "alice", PASSWORD, ip="10.9.9.9").content.decode()
    assert _login(client, "alice", PASSWORD, ip="10.0.0.2").status_code == 302


def test_a_success_before_the_limit_clears_the_count(client, alice):
    _fail(client, "alice", 2)
    assert _login(client, "alice", PASSWORD).status_code == 302
    client.logout()
    _fail(client, "alice", 2)
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_the_lockout_expires_with_its_window(client, alice, settings, monkeypatch):
    clock = SimpleNamespace(now=time.time())
    fake_time = SimpleNamespace(time=lambda: clock.now)  # the cache's clock only; sessions keep real time
    monkeypatch.setattr("django.core.cache.backends.locmem.time", fake_time)
    monkeypatch.setattr("django.core.cache.backends.base.time", fake_time)
    _fail(client, "alice", 3)
    clock.now += 599
    assert LOCKED in _login(client, "alice", PASSWORD).content.decode()
    clock.now += 2
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_an_operator_unlocks_with_the_command(client, alice):
    _fail(client, "alice", 3)
    out = StringIO()
    call_command("login_unlock", "alice", stdout=out)
    assert "Unlocked user 'alice'" in out.getvalue()
    assert _login(client, "alice", PASSWORD).status_code == 302
    with pytest.raises(CommandError, match="Name a username"):
        call_command("login_unlock")


def test_the_admin_sign_in_is_locked_out_too(client, olivia):
    for _ in range(3):
        client.post("/admin/login/", {"username": "olivia", "password": "nope"}, REMOTE_ADDR="10.0.0.3")
    response = client.post("/admin/login/", {"username": "olivia", "password": PASSWORD}, REMOTE_ADDR="10.0.0.3")
    assert response.status_code == 200
    assert LOCKED in response.content.decode()


def test_sign_in_posts_are_rate_limited_per_address(client, alice, settings):
    settings.DREAMNET_LOGIN_RATE_PER_MINUTE = 2
    _login(client, "alice", "x", ip="10.0.0.4")
    _login(client, "bob", "x", ip="10.0.0.4")
    response = _login(client, "alice", PASSWORD, ip="10.0.0.4")
    assert "Too many sign-in attempts from your address" in response.content.decode()


def test_failed_passwords_leave_no_typed_text_in_the_cache(client, alice):
    _fail(client, "alice-typed-secret", 1)
    keys = list(cache._cache.keys())  # LocMemCache
    assert keys and not any("alice-typed-secret" in key for key in keys)


def test_bad_api_keys_are_throttled_per_address_and_good_keys_from_elsewhere_still_work(client):
    _key, raw = apikey_create(name="ops", scopes=["ops"])
    for _ in range(3):
        response = client.get(
            "/api/queue", headers={"X-DREAMNET-KEY": "dnk_000000000000_guess"}, REMOTE_ADDR="10.1.1.1"
        )
        assert response.status_code == 401
    throttled = client.get("/api/queue", headers={"X-DREAMNET-KEY": raw}, REMOTE_ADDR="10.1.1.1")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "rate_limited"
    assert throttled["Retry-After"] == "60"
    assert client.get("/api/queue", headers={"X-DREAMNET-KEY": raw}, REMOTE_ADDR="10.1.1.2").status_code == 200


def test_behind_a_proxy_the_forwarded_client_is_counted_not_the_proxy(client, alice, settings):
    settings.NINJA_NUM_PROXIES = 1
    for n in range(10):
        client.post(
            "/accounts/login/", {"username": f"u{n}", "password": "x"},
            REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="203.0.113.9",
        )  # fmt: skip
    blocked = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="203.0.113.9",
    )  # fmt: skip
    assert LOCKED in blocked.content.decode()
    other = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="198.51.100.7",
    )  # fmt: skip
    assert other.status_code == 302
