"""/api/dreamstar: multipart ingestion, search, generation, pipeline and history, with specific errors."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agents.dreamstar.models import DreamstarIngestion
from agents.llm.offline import OfflineProvider
from agents.models import Mission
from agents.services import mission_run
from dreamnet.apikeys import apikey_create
from tests.dreamstar.conftest import HTML

pytestmark = pytest.mark.django_db


@pytest.fixture
def headers(db):
    _key, raw = apikey_create(name="dreamstar-bot", scopes=["dreamstar"])
    return {"X-DREAMNET-KEY": raw}


def _files(documents):
    return [SimpleUploadedFile(name, content) for name, content in documents.items()]


def test_an_operator_ingests_a_folder_searches_and_generates(client, headers, documents,
                                                             django_capture_on_commit_callbacks):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/api/dreamstar/ingest", {"files": _files(documents)}, headers=headers)
    assert response.status_code == 202, response.json()
    mission = mission_run(mission_id=response.json()["id"], provider=OfflineProvider())
    assert mission.status == "succeeded" and DreamstarIngestion.objects.count() == 4

    listed = client.get("/api/dreamstar/ingestions", headers=headers).json()
    assert sorted(i["name"] for i in listed) == sorted(documents)
    hits = client.get("/api/dreamstar/search", {"q": "insured against theft"}, headers=headers).json()
    assert hits[0]["heading"] == "Insurance" and hits[0]["document"] == "storage.md"

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/api/dreamstar/generate", {"prompt": "Summarise vault storage and insurance"},
                               content_type="application/json", headers=headers)  # fmt: skip
    assert response.status_code == 202
    mission = mission_run(mission_id=response.json()["id"], provider=OfflineProvider())
    generation = client.get(f"/api/dreamstar/generations/{mission.output['generation']}", headers=headers).json()
    assert generation["citations"] and all(s["document"] for s in generation["sources"])
    assert {s["chunk_id"] for s in generation["sources"] if s["cited"]} == set(generation["citations"])

    pipeline = client.get("/api/dreamstar/pipeline", headers=headers).json()
    assert (pipeline["documents"], pipeline["generations"]) == (4, 1)
    assert pipeline["chunks"] == sum(i["chunk_count"] for i in listed)
    assert pipeline["stages"][0]["missions"] == {"succeeded": 1}
    history = client.get("/api/dreamstar/missions", headers=headers).json()
    assert [m["kind"] for m in history] == ["generate", "ingest"]


def test_pasted_text_is_accepted(client, headers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/api/dreamstar/ingest", {"text": "# Hours\n\nOpen 9 to 5.", "name": "Hours"},
                               headers=headers)  # fmt: skip
    assert response.status_code == 202
    assert Mission.objects.get().input["sources"][0]["kind"] == "text"


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("deck.pptx", b"PK\x03\x04", 415, "unsupported_type"),
        ("broken.pdf", b"%PDF-1.5\n\x00\x01", 422, "corrupt_file"),
        ("huge.md", b"# x\n" + b"y" * 5000, 413, "upload_too_large"),
    ],
)
def test_bad_uploads_get_specific_errors_and_nothing_is_created(client, headers, settings, documents, name,
                                                                content, status, code):  # fmt: skip
    settings.DREAMSTAR_MAX_UPLOAD_BYTES = 4096
    files = [SimpleUploadedFile("assay.txt", documents["assay.txt"]), SimpleUploadedFile(name, content)]
    response = client.post("/api/dreamstar/ingest", {"files": files}, headers=headers)
    assert response.status_code == status and response.json()["code"] == code
    assert not Mission.objects.exists() and not DreamstarIngestion.objects.exists()


def test_a_url_that_is_not_http_is_refused_with_its_code(client, headers, settings):
    settings.DREAMSTAR_ALLOW_FETCH = True
    response = client.post("/api/dreamstar/ingest/urls", {"urls": ["ftp://example.com/a.txt"]},
                           content_type="application/json", headers=headers)  # fmt: skip
    assert response.status_code == 422
    assert response.json() == {"detail": "'ftp://example.com/a.txt' is not an http(s) URL.", "code": "bad_url"}
    assert not Mission.objects.exists()


def test_urls_are_refused_while_fetching_is_off(client, headers):
    response = client.post("/api/dreamstar/ingest", {"urls": "https://example.com/a.html"}, headers=headers)
    assert response.status_code == 422 and response.json()["code"] == "fetch_disabled"
    response = client.post("/api/dreamstar/ingest/urls", {"urls": ["https://example.com/a.html"]},
                           content_type="application/json", headers=headers)  # fmt: skip
    assert response.status_code == 422 and response.json()["code"] == "fetch_disabled"
    assert not Mission.objects.exists()


def test_urls_are_fetched_when_allowed(client, headers, settings, django_capture_on_commit_callbacks):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = HTML.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.DREAMSTAR_ALLOW_FETCH = True
    url = f"http://127.0.0.1:{server.server_address[1]}/terms"
    try:
        with django_capture_on_commit_callbacks(execute=False):
            response = client.post("/api/dreamstar/ingest/urls", {"urls": [url]}, content_type="application/json",
                                   headers=headers)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 202, response.json()
    mission = mission_run(mission_id=response.json()["id"], provider=OfflineProvider())
    ingestion = DreamstarIngestion.objects.get()
    assert mission.status == "succeeded" and ingestion.url == url and ingestion.source_kind == "url"
    assert ingestion.media_type == "text/html" and ingestion.chunks.first().heading == "Delivery terms"


def test_generation_needs_something_ingested(client, headers):
    response = client.post("/api/dreamstar/generate", {"prompt": "Summarise"}, content_type="application/json",
                           headers=headers)  # fmt: skip
    assert response.status_code == 409 and response.json()["code"] == "nothing_ingested"


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/dreamstar/ingest", "/api/dreamstar/ingest/urls", "/api/dreamstar/search"} <= set(paths)
    assert {"413", "415", "422"} <= set(paths["/api/dreamstar/ingest"]["post"]["responses"])


def test_it_needs_the_dreamstar_scope(client, db):
    _key, raw = apikey_create(name="shop", scopes=["commerce"])
    assert client.get("/api/dreamstar/pipeline", headers={"X-DREAMNET-KEY": raw}).status_code == 403
    assert client.get("/api/dreamstar/pipeline").status_code == 401
