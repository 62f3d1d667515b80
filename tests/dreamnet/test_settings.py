"""Settings are read from the environment; bad values stop start-up with the variable's name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from dreamnet.env import env_bool, env_int, env_list, env_secret, env_str

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("on", True), ("no", False), ("0", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not expected) is expected


def test_env_bool_uses_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("X_FLAG", raising=False)
    assert env_bool("X_FLAG", True) is True


def test_env_bool_refuses_garbage(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG='maybe' is not a boolean"):
        env_bool("X_FLAG", False)


def test_env_int_checks_type_and_bounds(monkeypatch):
    monkeypatch.setenv("X_N", "12")
    assert env_int("X_N", 1, minimum=1, maximum=20) == 12
    monkeypatch.setenv("X_N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="X_N='twelve' is not an integer"):
        env_int("X_N", 1)
    monkeypatch.setenv("X_N", "0")
    with pytest.raises(ImproperlyConfigured, match="X_N=0 is below the minimum of 1"):
        env_int("X_N", 1, minimum=1)
    monkeypatch.setenv("X_N", "99")
    with pytest.raises(ImproperlyConfigured, match="above the maximum of 20"):
        env_int("X_N", 1, maximum=20)


def test_env_str_enforces_choices(monkeypatch):
    monkeypatch.setenv("X_MODE", "staging")
    with pytest.raises(
        ImproperlyConfigured, match="X_MODE='staging' is not allowed; use one of: development, production"
    ):
        env_str("X_MODE", "development", choices=("development", "production"))


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("X_HOSTS", " a.example.com, ,b.example.com ")
    assert env_list("X_HOSTS", []) == ["a.example.com", "b.example.com"]


def test_env_secret_reads_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.delenv("X_SECRET", raising=False)
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_secret("X_SECRET") == "s3cret"


def test_env_secret_refuses_both_forms_and_missing_files(monkeypatch, tmp_path):
    monkeypatch.setenv("X_SECRET", "inline")
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "secret"))
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env_secret("X_SECRET")
    monkeypatch.delenv("X_SECRET")
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env_secret("X_SECRET")


def _check(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DREAMNET_", "DATABASE_URL", "REDIS_URL"))}
    clean.pop("SECRET_KEY", None)
    clean |= {"DREAMNET_HOME": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DREAMNET_ENV": "staging"}, "DREAMNET_ENV='staging' is not allowed"),
        ({"DREAMNET_Q_WORKERS": "lots"}, "DREAMNET_Q_WORKERS='lots' is not an integer"),
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL must be a PostgreSQL URL"),
        ({"REDIS_URL": "http://cache"}, "REDIS_URL must be a redis://"),
        ({"DREAMNET_TSPLIB_DIR": "/nonexistent/tsplib"}, "DREAMNET_TSPLIB_DIR=/nonexistent/tsplib is not a folder"),
        (
            {"DREAMNET_ENV": "production", "DREAMNET_ALLOWED_HOSTS": "x.example"},
            "SECRET_KEY (or SECRET_KEY_FILE) is required",
        ),
        ({"DREAMNET_ENV": "production", "SECRET_KEY": "k" * 60}, "DREAMNET_ALLOWED_HOSTS is required"),
    ],
)
def test_bad_environment_stops_start_up_with_the_variable_name(tmp_path, env, message):
    result = _check(tmp_path, **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DREAMNET_", "DATABASE_URL", "REDIS_URL"))}
    clean |= {
        "DREAMNET_HOME": str(tmp_path),
        "DREAMNET_ENV": "production",
        "SECRET_KEY": "x7" * 30 + "QzR!pL#",
        "DREAMNET_ALLOWED_HOSTS": "dreamnet.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_connection_urls_can_come_from_files(tmp_path):
    """DATABASE_URL and REDIS_URL carry passwords: *_FILE reads them (containers mount them as secrets)."""
    url_file = tmp_path / "database_url"
    url_file.write_text("mysql://db/x\n", encoding="utf-8")
    result = _check(tmp_path, DATABASE_URL_FILE=str(url_file))
    assert result.returncode != 0
    assert "DATABASE_URL must be a PostgreSQL URL" in result.stderr  # the file's URL was read and checked
    redis_file = tmp_path / "redis_url"
    redis_file.write_text("http://cache\n", encoding="utf-8")
    result = _check(tmp_path, REDIS_URL_FILE=str(redis_file))
    assert "REDIS_URL must be a redis://" in result.stderr
    result = _check(tmp_path, DATABASE_URL="postgres://db/x", DATABASE_URL_FILE=str(url_file))
    assert "Set DATABASE_URL or DATABASE_URL_FILE, not both." in result.stderr


@pytest.mark.parametrize(("extra", "expected"), [({}, "0 60"), ({"DREAMNET_DB_CONN_MAX_AGE": "30"}, "30 30")])
def test_the_asgi_web_process_does_not_keep_database_connections(tmp_path, extra, expected):
    """Under ASGI a persistent connection is never reused (each request has a context of its own) and lingers until
    collected, so the web process closes them per request unless told otherwise; other processes keep them."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DREAMNET_", "DATABASE_URL", "REDIS_URL"))}
    clean |= {"DREAMNET_HOME": str(tmp_path), "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", **extra}
    show = "from django.conf import settings; print(settings.DATABASES['default']['CONN_MAX_AGE'], end='')"
    ages = [
        subprocess.run(
            [sys.executable, "-c", f"{setup}; {show}"], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
        )
        for setup in ("import dreamnet.asgi", "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'dreamnet.settings'; django.setup()")
    ]  # fmt: skip
    assert all(a.returncode == 0 for a in ages), [a.stderr[-500:] for a in ages]
    assert " ".join(a.stdout for a in ages) == expected
