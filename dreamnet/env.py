"""Read typed settings from the environment.

Each reader raises ``ImproperlyConfigured`` naming the variable and what it accepts, so a bad value stops
the process at start-up instead of surfacing later as a confusing error. Imports nothing from Django but
the exception, so settings can use it before apps load.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_bool(name: str, default: bool) -> bool:
    """Return the boolean in ``name``: one of 1/true/yes/on or 0/false/no/off (any case)."""
    raw = _raw(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of 1, true, yes, on, 0, false, no, off.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return the integer in ``name``, checked against the inclusive bounds given."""
    raw = _raw(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum of {maximum}.")
    return value


def env_str(name: str, default: str, *, choices: tuple[str, ...] | None = None) -> str:
    """Return the string in ``name``; with ``choices``, it must be one of them."""
    raw = _raw(name)
    value = default if raw is None or raw == "" else raw
    if choices is not None and value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not allowed; use one of: {', '.join(choices)}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Return the comma-separated list in ``name`` with blanks dropped."""
    raw = _raw(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, default: str | None = None) -> str | None:
    """Return the secret in ``name``, or the contents of the file named by ``NAME_FILE``.

    Setting both is ambiguous and refused. The file's trailing newline is dropped; an unreadable or empty
    file is an error, since a secret that silently reads as empty is worse than none.
    """
    raw = os.environ.get(name)
    file_name = _raw(f"{name}_FILE")
    if raw and file_name:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    if file_name:
        try:
            value = Path(file_name).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc.strerror}.") from None
        if not value:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} is empty.")
        return value
    if raw:
        return raw
    return default
