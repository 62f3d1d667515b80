"""/api/dreamstar as clients call it: a ``dreamstar`` key over real HTTP, no cookies, no CSRF token."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agents.llm.offline import OfflineProvider
from agents.services import mission_run


@pytest.fixture
def dreamstar(http, make_key, seeded):
    return http(key=make_key("dreamstar"))


@pytest.mark.covers("POST /api/dreamstar/ingest", "POST /api/dreamstar/generate")
def test_a_key_uploads_documents_then_generates(dreamstar):
    ingested = dreamstar.post(
        "/api/dreamstar/ingest",
        files=[("files", ("hours.md", b"# Hours\n\nThe vault is open 9 to 5 on weekdays.\n", "text/markdown"))],
        data={"name": "hours"},
    )
    assert ingested.status_code == 202, ingested.text
    mission = mission_run(mission_id=ingested.json()["id"], provider=OfflineProvider())
    assert mission.status == "succeeded"
    generated = dreamstar.post("/api/dreamstar/generate", json={"prompt": "When is the vault open?"})
    assert generated.status_code == 202, generated.text
    assert not dreamstar.cookies


@pytest.fixture
def web_page():
    """A page on loopback for URL ingestion to fetch."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html><body><h1>Delivery terms</h1><p>Insured delivery in five days.</p></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/terms"
    server.shutdown()
    server.server_close()


@pytest.mark.covers("POST /api/dreamstar/ingest/urls")
def test_a_key_ingests_urls(dreamstar, settings, web_page):
    settings.DREAMSTAR_ALLOW_FETCH = True
    queued = dreamstar.post("/api/dreamstar/ingest/urls", json={"urls": [web_page]})
    assert queued.status_code == 202, queued.text
