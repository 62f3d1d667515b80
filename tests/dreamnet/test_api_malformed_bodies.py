"""Every malformed request body answers JSON ``{"detail", "code"}`` with a status the document declares.

Driven over real HTTP against daphne (what ``manage.py serve`` runs): Twisted, under daphne, parsed multipart
bodies itself and answered the ones it could not parse with a bare 400 (no body, no Content-Type) before Django
saw them (``dreamnet/daphne_bodies.py``). Django's own parse errors are answered by the API's exception handlers
(``dreamnet/ninja.py``) and, outside the API's views, by the site's 400 handler (``dreamnet.views.bad_request``).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import override_settings

from dreamnet.apikeys import SCOPES, apikey_create
from tests.conftest import subprocess_env

ROOT = Path(__file__).resolve().parents[2]
MULTIPART = "multipart/form-data; boundary=BOUNDARY"
UPLOADS = ["/api/dreamsnail/commit/file", "/api/dreamstar/ingest", "/api/mesh/artifacts"]

BODIES = {
    # The fuzzing report of issue 24: only the closing delimiter, no part at all.
    "closing-boundary-only": (MULTIPART, b"--BOUNDARY--\r\n"),
    # A part cut off before its end and before the closing delimiter.
    "truncated-part": (
        MULTIPART,
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhalf a fi",
    ),
    # multipart/form-data with no boundary parameter: Django cannot split it at all.
    "missing-boundary": (
        "multipart/form-data",
        b'--X\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--X--',
    ),
    # A body that is not what its Content-Type says.
    "json-as-multipart": (MULTIPART, b'{"digest": "00"}'),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def daphne(django_db_setup, django_db_blocker, tmp_path_factory):
    """A daphne process serving ``dreamnet.asgi:application`` on this run's test database."""
    home = tmp_path_factory.mktemp("daphne-home")
    port = _free_port()
    with django_db_blocker.unblock():
        env = subprocess_env(DREAMNET_HOME=str(home))
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "dreamnet.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("daphne did not start within 60 s")
    yield port
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def key(transactional_db) -> str:
    return apikey_create(name="malformed", scopes=list(SCOPES))[1]


def _post(port: int, path: str, content_type: str, body: bytes, key: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": content_type, "X-DREAMNET-KEY": key})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def _declared(client, path: str) -> set[int]:
    responses = client.get("/api/openapi.json").json()["paths"][path]["post"]["responses"]
    return {int(status) for status in responses}


def _assert_json_error(status: int, content_type: str, body: bytes, declared: set[int]) -> dict:
    assert content_type.startswith("application/json"), (status, content_type, body)
    payload = json.loads(body)
    assert {"detail", "code"} <= set(payload), payload
    assert payload["detail"] and payload["code"], payload
    assert status in declared, (status, payload)
    return payload


@pytest.mark.parametrize("path", UPLOADS)
@pytest.mark.parametrize("case", list(BODIES))
def test_a_malformed_upload_over_daphne_answers_json(daphne, key, client, path, case):
    content_type, body = BODIES[case]
    status, received_type, received = _post(daphne, path, content_type, body, key)
    assert 400 <= status < 500
    payload = _assert_json_error(status, received_type, received, _declared(client, path))
    if case in ("missing-boundary", "truncated-part"):
        assert (status, payload["code"]) == (400, "multipart_malformed")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"algorithm": "sha256", "digest": '),
        (
            "application/json",
            b'--BOUNDARY\r\nContent-Disposition: form-data; name="digest"\r\n\r\n00\r\n--BOUNDARY--\r\n',
        ),
        (MULTIPART, b"--BOUNDARY--\r\n"),
        ("text/plain", b"digest=00"),
    ],
    ids=["truncated-json", "multipart-labelled-json", "multipart-to-a-json-endpoint", "text-to-a-json-endpoint"],
)
def test_a_json_endpoint_refuses_a_body_that_is_not_json_with_json(daphne, key, client, content_type, body):
    path = "/api/dreamsnail/commit"
    status, received_type, received = _post(daphne, path, content_type, body, key)
    assert 400 <= status < 500
    _assert_json_error(status, received_type, received, _declared(client, path))


@pytest.mark.parametrize("path", UPLOADS)
def test_a_body_longer_than_its_content_length_is_cut_there_and_answered_json(daphne, key, client, path):
    """The server reads Content-Length bytes: the part is cut short, and the answer to it is still JSON."""
    body = (
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
        + b"x" * 64
        + b"\r\n--BOUNDARY--\r\n"
    )
    declared = len(body) - 40
    with socket.create_connection(("127.0.0.1", daphne), timeout=30) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-DREAMNET-KEY: {key}\r\nContent-Type: {MULTIPART}\r\n"
            f"Content-Length: {declared}\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(head.encode() + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        status, received_type, received = response.status, response.getheader("Content-Type") or "", response.read()
    _assert_json_error(status, received_type, received, _declared(client, path))


@pytest.mark.parametrize("path", UPLOADS)
@pytest.mark.parametrize("case", ["missing-boundary", "truncated-part"])
def test_a_missing_boundary_or_a_cut_file_through_django_is_400_multipart_malformed(client, key, path, case):
    """The same refusal without daphne (the WSGI handler, as uvicorn hands Django the raw body too). A file part
    cut off before its boundary was dropped silently by Django's parser (``dreamnet/uploads.py``)."""
    content_type, body = BODIES[case]
    response = client.generic("POST", path, data=body, content_type=content_type, headers={"X-DREAMNET-KEY": key})
    assert response.status_code == 400
    assert response.json()["code"] == "multipart_malformed"
    assert "boundary" in response.json()["detail"]


def test_a_whole_upload_still_passes_the_truncation_check(client, key):
    body = (
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nwhole\r\n--BOUNDARY--\r\n"
    )
    response = client.generic(
        "POST", "/api/dreamsnail/commit/file", data=body, content_type=MULTIPART, headers={"X-DREAMNET-KEY": key}
    )
    assert response.status_code == 201, response.content


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_a_json_body_past_the_memory_limit_is_413_too_large(client, key):
    body = json.dumps({"digest": "ab" * 100}).encode()
    response = client.generic("POST", "/api/dreamsnail/verify", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert "413" in client.get("/api/openapi.json").json()["paths"]["/api/dreamsnail/verify"]["post"]["responses"]


def test_a_body_refused_outside_the_api_views_is_json_on_api_paths(client, key):
    """Django's 400 handler (a middleware that read request.POST, a bad Host) answers JSON under /api/."""
    response = client.post("/api/health", HTTP_HOST="bad host!")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "http_error"
    page = client.get("/", HTTP_HOST="bad host!")
    assert page.status_code == 400
    assert not page["Content-Type"].startswith("application/json")


def test_broken_json_is_400_http_error(client, key):
    response = client.generic("POST", "/api/dreamsnail/verify", data=b'{"digest": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "http_error"
