"""DreamStar pages: the operator console (ingest, search with and without HTMX, generate), the ingestion and
generation pages, and the public /dreamstar page's live figures."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agents.dreamstar.models import DreamstarChunk, DreamstarGeneration, DreamstarIngestion
from agents.llm.offline import OfflineProvider
from agents.models import Mission
from agents.services import mission_run

pytestmark = pytest.mark.django_db


def test_the_public_page_shows_an_honest_empty_state(client):
    page = client.get("/dreamstar").content.decode()
    assert "Nothing ingested yet" in page and "/console/dreamstar/" in page


def test_the_public_page_counts_what_was_ingested(client, ingested, django_capture_on_commit_callbacks):
    from agents.dreamstar.services import dreamstar_generate_request

    with django_capture_on_commit_callbacks(execute=False):
        mission = dreamstar_generate_request(prompt="vault insurance", fmt="summary")
    mission_run(mission_id=mission.pk, provider=OfflineProvider())
    page = client.get("/dreamstar").content.decode()
    chunks = DreamstarChunk.objects.count()
    assert (DreamstarIngestion.objects.count(), DreamstarGeneration.objects.count()) == (4, 1)
    assert '<strong data-figure="documents">4</strong>' in page
    assert f'<strong data-figure="chunks">{chunks}</strong>' in page
    assert '<strong data-figure="generations">1</strong>' in page
    assert "Nothing ingested yet" not in page


def test_the_console_is_for_operators(client, alice):
    client.force_login(alice)
    assert client.get("/console/dreamstar/").status_code in (302, 403)


def test_an_operator_ingests_searches_and_generates(client, olivia, documents, django_capture_on_commit_callbacks):
    client.force_login(olivia)
    assert "Nothing ingested yet" in client.get("/console/dreamstar/").content.decode()
    files = [SimpleUploadedFile(name, content) for name, content in documents.items()]
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/console/dreamstar/", {"files": files, "text": "", "name": ""})
    mission = Mission.objects.get(kind="ingest")
    assert response.status_code == 302 and response["Location"] == mission.get_absolute_url()
    mission_run(mission_id=mission.pk, provider=OfflineProvider())

    page = client.get("/console/dreamstar/", {"q": "insured against theft"}).content.decode()
    insurance = DreamstarChunk.objects.get(heading="Insurance")
    assert insurance.get_absolute_url() in page and "storage.md" in page
    partial = client.get("/console/dreamstar/", {"q": "armoured courier"}, headers={"HX-Request": "true",
                         "HX-Target": "search-results"}).content.decode()  # fmt: skip
    assert partial.lstrip().startswith('<div id="search-results"') and "delivery.html" in partial

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/console/dreamstar/generate", {"prompt": "vault insurance", "format": "summary"})
    mission = Mission.objects.get(kind="generate")
    assert response.status_code == 302
    mission_run(mission_id=mission.pk, provider=OfflineProvider())
    generation = DreamstarGeneration.objects.get()
    assert generation.get_absolute_url() in client.get(mission.get_absolute_url()).content.decode()
    page = client.get(generation.get_absolute_url()).content.decode()
    assert insurance.get_absolute_url() in page and "cited" in page
    chunk_page = client.get(insurance.ingestion.get_absolute_url()).content.decode()
    assert f'id="chunk-{insurance.pk}"' in chunk_page


def test_bad_uploads_are_form_errors_and_create_nothing(client, olivia):
    client.force_login(olivia)
    response = client.post("/console/dreamstar/", {"files": [SimpleUploadedFile("deck.pptx", b"PK\x03\x04")]})
    assert response.status_code == 422 and "not a supported document type" in response.content.decode()
    response = client.post("/console/dreamstar/generate", {"prompt": "x", "format": "summary"})
    assert response.status_code == 422 and "Nothing is ingested yet" in response.content.decode()
    assert not Mission.objects.exists()
