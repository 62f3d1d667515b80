"""The outbound HTTP client for peers and webhooks: stdlib urllib, a timeout on every call, no redirects.

Pure module: imports nothing from Django. Redirects are never followed, so a request only ever reaches the
URL the operator registered; a 3xx answer is returned like any other status. Responses are read up to a cap.
"""

from __future__ import annotations

import email.message
import ipaddress
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

USER_AGENT = "DreamNet/1 (+mesh)"
MAX_RESPONSE_BYTES = 1024 * 1024


class Unreachable(OSError):
    """The other side could not be reached or did not answer in time; the message says what failed."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: email.message.Message
    body: bytes
    elapsed_ms: float

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type() if self.headers else ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError for the 3xx, which is returned as a plain response


_opener = urllib.request.build_opener(_NoRedirect)


def check_http_url(url: str, *, base: bool = False) -> str:
    """Return ``url`` stripped of white space if it is an absolute http(s) URL with a host and no credentials.

    With ``base`` (a peer's base URL) a query or fragment is refused and a trailing slash dropped. Raises
    ValueError naming the problem.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError("the URL is empty")
    url = url.strip()
    if len(url) > 500:
        raise ValueError("the URL is longer than 500 characters")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"only http:// and https:// URLs are allowed, not {parts.scheme or 'a relative URL'!r}")
    if not parts.hostname:
        raise ValueError("the URL has no host name")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the URL must not carry a user name or password")
    try:
        parts.port  # noqa: B018 — raises ValueError for a port that is not a number in range
    except ValueError:
        raise ValueError("the URL's port is not a number between 0 and 65535") from None
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise ValueError("the URL contains white space or control characters")
    if not base:
        return url
    if parts.query or parts.fragment:
        raise ValueError("a peer's base URL has no query or fragment (e.g. https://node.example.com)")
    return url.rstrip("/")


def non_public_address(host: str) -> str | None:
    """Return the first address ``host`` names or resolves to that is not on the public internet (loopback,
    private, link-local such as cloud metadata at 169.254.169.254, reserved...), or None when all are public.

    Raises :class:`Unreachable` when the name does not resolve.
    """
    try:
        return None if ipaddress.ip_address(host.strip("[]")).is_global else host
    except ValueError:
        pass  # a name, not an address literal
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise Unreachable(f"{host} does not resolve: {exc}") from exc
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if not ipaddress.ip_address(address).is_global:
            return address
    return None


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float,
    allow_private: bool = True,
) -> Response:
    """Send one request and return the response, whatever its status.

    With ``allow_private=False`` a URL whose host is or resolves to a non-public address is refused (SSRF).
    Raises :class:`Unreachable` when no HTTP response arrives (DNS, refused, TLS, timeout), when the target
    is refused, or when the body exceeds :data:`MAX_RESPONSE_BYTES`.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Unreachable(f"{method} {url} refused: only http:// and https:// URLs are requested")
    if not allow_private:
        address = non_public_address(parts.hostname or "")
        if address is not None:
            raise Unreachable(f"{method} {url} refused: {address} is not a public address")
    # S310: the scheme was just checked, so urllib cannot be pointed at file:// or custom schemes here.
    req = urllib.request.Request(url, data=body, method=method, headers={"User-Agent": USER_AGENT, **(headers or {})})  # noqa: S310
    started = time.monotonic()
    try:
        with _opener.open(req, timeout=timeout) as answer:
            status, answer_headers, data = answer.status, answer.headers, answer.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        status, answer_headers = exc.code, exc.headers
        try:
            data = exc.read(MAX_RESPONSE_BYTES + 1)
        except OSError:
            data = b""
        finally:
            exc.close()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(f"{method} {url} failed: {reason}") from exc
    elapsed_ms = (time.monotonic() - started) * 1000
    if len(data) > MAX_RESPONSE_BYTES:
        raise Unreachable(f"{method} {url} answered more than {MAX_RESPONSE_BYTES} bytes")
    return Response(status=status, headers=answer_headers, body=data, elapsed_ms=elapsed_ms)
