"""Request-level defences (docs/security.md): sign-in lockout and failed API-key throttling (on the same cache
counters as the site's form rate limits), the error-report filter that hides connection URLs, the upload size
gate, and the refusal of repeated API query parameters.

Sign-in: every failed attempt counts against the typed username and against the client address, in a window
of DREAMNET_LOGIN_LOCKOUT_S seconds. At DREAMNET_LOGIN_MAX_FAILURES failures for a username (or
DREAMNET_LOGIN_IP_MAX_FAILURES for an address) further attempts are refused, with the right password too,
until the window lapses or an operator runs ``manage.py login_unlock``. The counters are keyed on what was
typed, so a username that does not exist locks exactly like one that does: the answer tells nothing about
which accounts exist. A successful sign-in clears its username's counter.

API keys: a client address that sends DREAMNET_API_KEY_MAX_FAILURES keys that do not authenticate within a
minute is answered 429 until the minute lapses, which caps online guessing of key prefixes.
"""

from __future__ import annotations

import hashlib
import math
import re

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, JsonResponse
from django.views.debug import SafeExceptionReporterFilter

from dreamnet.site import rate_limited

API_KEY_FAILURE_WINDOW_S = 60


def client_ip(request: HttpRequest | None) -> str:
    """The address rate limits and lockouts key on, read as django-ninja's throttles read it: REMOTE_ADDR, or
    with DREAMNET_NUM_PROXIES = N > 0 the N-th address from the right of X-Forwarded-For (the one the
    outermost trusted proxy saw). Behind a proxy, REMOTE_ADDR alone would put every client in one bucket."""
    if request is None:
        return "unknown"
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    proxies = settings.NINJA_NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not proxies or not forwarded:
        return remote
    addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
    return addresses[-min(proxies, len(addresses))] if addresses else remote


def _username_key(username: str) -> str:
    # Hashed so the cache never holds typed usernames (people type passwords into the username field).
    digest = hashlib.sha256(username.strip().casefold().encode("utf-8")).hexdigest()[:32]
    return f"login-fail:user:{digest}"


def _ip_key(ip: str) -> str:
    return f"login-fail:ip:{ip}"


def _count(key: str) -> int:
    return int(cache.get(f"rate:{key}", 0))


def login_locked(*, username: str, ip: str) -> bool:
    """Whether sign-in attempts for ``username`` or from ``ip`` are refused now."""
    return (
        _count(_username_key(username)) >= settings.DREAMNET_LOGIN_MAX_FAILURES
        or _count(_ip_key(ip)) >= settings.DREAMNET_LOGIN_IP_MAX_FAILURES
    )


def login_lockout_message() -> str:
    minutes = max(1, math.ceil(settings.DREAMNET_LOGIN_LOCKOUT_S / 60))
    return (
        "Too many failed sign-in attempts. Sign-in is paused for this account or address; try again in "
        f"about {minutes} minute{'s' if minutes != 1 else ''}, or ask an operator to unlock it."
    )


def login_failure_record(*, username: str, ip: str) -> None:
    """Count one failed sign-in against the username and the address."""
    window = settings.DREAMNET_LOGIN_LOCKOUT_S
    rate_limited(key=_username_key(username), limit=settings.DREAMNET_LOGIN_MAX_FAILURES, window_s=window)
    rate_limited(key=_ip_key(ip), limit=settings.DREAMNET_LOGIN_IP_MAX_FAILURES, window_s=window)


def login_unlock(*, username: str | None = None, ip: str | None = None) -> None:
    """Clear the failure counters for ``username`` and/or ``ip``."""
    if username:
        cache.delete(f"rate:{_username_key(username)}")
    if ip:
        cache.delete(f"rate:{_ip_key(ip)}")


@receiver(user_login_failed, dispatch_uid="dreamnet.security.login_failed")
def _on_login_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    login_failure_record(username=str(credentials.get("username", "")), ip=client_ip(request))


@receiver(user_logged_in, dispatch_uid="dreamnet.security.logged_in")
def _on_logged_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    login_unlock(username=user.get_username())


def api_key_failures_exceeded(ip: str) -> bool:
    """Whether ``ip`` has sent too many bad API keys in the current minute."""
    return _count(f"apikey-fail:{ip}") >= settings.DREAMNET_API_KEY_MAX_FAILURES


def api_key_failure_record(ip: str) -> None:
    rate_limited(
        key=f"apikey-fail:{ip}", limit=settings.DREAMNET_API_KEY_MAX_FAILURES, window_s=API_KEY_FAILURE_WINDOW_S
    )


class SecretsReporterFilter(SafeExceptionReporterFilter):
    """Django's filter hides settings named like API|KEY|SECRET|PASS...; ours also hides the connection URLs that
    carry passwords (DATABASE_URL, REDIS_URL, the cache LOCATION, the channel layer hosts, Django-Q2's redis), so a
    debug error page shows none of them."""

    hidden_settings = re.compile(
        r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE_URL|REDIS_URL|LOCATION|^hosts$|^redis$",
        flags=re.IGNORECASE,
    )


# Upload limits ------------------------------------------------------------------------------------------

MULTIPART_OVERHEAD_BYTES = 64 * 1024  # boundaries, part headers and small form fields around the file


def upload_limit_for(path: str) -> int | None:
    """The largest request body (bytes) an upload endpoint accepts, or None for paths this does not govern."""
    if path.startswith("/api/dreamsnail/commit/file"):
        return settings.DREAMSNAIL_MAX_FILE_BYTES + MULTIPART_OVERHEAD_BYTES
    if path.startswith("/api/mesh/artifacts"):
        return settings.ARTIFACT_MAX_BYTES + MULTIPART_OVERHEAD_BYTES
    return None


class UploadLimitMiddleware:
    """Refuse an upload by its Content-Length before Django reads it.

    Django limits non-file bodies (DATA_UPLOAD_MAX_MEMORY_SIZE) but spools multipart files of any size to disk
    before a view can look at them; the views' own size checks then come too late to spare the disk. A body
    without a Content-Length (chunked) is refused on these paths: uploads must say their size.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        limit = upload_limit_for(request.path) if request.method == "POST" else None
        if limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or -1)
            except ValueError:
                length = -1
            if length < 0:
                return JsonResponse({"detail": "Send the upload with a Content-Length.", "code": "length_required"},
                                    status=411)  # fmt: skip
            if length > limit:
                detail = f"The request body is {length} bytes; this endpoint accepts at most {limit}."
                return JsonResponse({"detail": detail, "code": "too_large"}, status=413)
        return self.get_response(request)
