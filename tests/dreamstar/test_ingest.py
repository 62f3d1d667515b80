"""Ingestion through the service and its mission: every file type, digests, no-op re-ingestion, bad input."""

from __future__ import annotations

import pytest

from agents.dreamstar.models import DreamstarChunk, DreamstarIngestion
from agents.dreamstar.services import Upload, dreamstar_ingest_request
from agents.errors import AgentsError
from agents.models import Mission
from mesh.entries import blake3_hex
from mesh.models import Artifact
from tests.dreamstar.conftest import ingest

pytestmark = pytest.mark.django_db


def test_it_ingests_one_document_of_each_type(ingested, documents):
    assert ingested.status == "succeeded" and ingested.kind == "ingest"
    assert ingested.output["created"] == 4 and ingested.output["failed"] == 0
    rows = {i.name: i for i in DreamstarIngestion.objects.all()}
    assert set(rows) == set(documents)
    for name, content in documents.items():
        assert rows[name].blake3 == blake3_hex(content) and rows[name].artifact.blake3 == rows[name].blake3
        assert rows[name].chunk_count == rows[name].chunks.count() > 0
        assert rows[name].mission_id == ingested.pk
    assert rows["refining.pdf"].media_type == "application/pdf"
    assert [c.heading for c in rows["storage.md"].chunks.all()] == ["Vault storage", "Insurance"]
    assert [c.heading for c in rows["delivery.html"].chunks.all()] == ["Delivery terms", "Returns"]
    assert ingested.steps.count() == 4 and ingested.receipt is not None
    # the mission input carries digests, never the bodies
    assert all(set(s) == {"artifact", "name", "media_type", "kind", "url"} for s in ingested.input["sources"])


def test_reingesting_the_same_content_is_a_no_op(ingested, documents, django_capture_on_commit_callbacks):
    chunks = DreamstarChunk.objects.count()
    with django_capture_on_commit_callbacks(execute=False):
        again = ingest([Upload("renamed.md", documents["storage.md"])])
    assert again.status == "succeeded" and again.output["created"] == 0 and again.output["unchanged"] == 1
    assert DreamstarIngestion.objects.count() == 4 and DreamstarChunk.objects.count() == chunks
    assert again.output["ingestions"] == [DreamstarIngestion.objects.get(name="storage.md").pk]


def test_pasted_text_is_ingested_as_markdown(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        mission = ingest([], text="# Hours\n\nThe desk is open 9 to 5.", text_name="Desk hours")
    ingestion = DreamstarIngestion.objects.get()
    assert mission.status == "succeeded" and ingestion.source_kind == "text" and ingestion.name == "Desk hours"
    assert ingestion.chunks.get().heading == "Hours"


@pytest.mark.parametrize(
    ("upload", "code", "status"),
    [
        (Upload("sheet.xlsx", b"PK\x03\x04"), "unsupported_type", 415),
        (Upload("broken.pdf", b"%PDF-1.7\ntruncated"), "corrupt_file", 422),
        (Upload("binary.txt", b"\x00\x01\x02"), "corrupt_file", 422),
        (Upload("big.txt", b"a" * 2048), "upload_too_large", 413),
    ],
)
def test_it_refuses_bad_files_and_writes_nothing(settings, documents, upload, code, status):
    settings.DREAMSTAR_MAX_UPLOAD_BYTES = 1024
    with pytest.raises(AgentsError) as refused:
        dreamstar_ingest_request(uploads=[Upload("assay.txt", documents["assay.txt"]), upload])
    assert (refused.value.code, refused.value.status) == (code, status)
    assert not Mission.objects.exists() and not Artifact.objects.exists() and not DreamstarIngestion.objects.exists()


def test_it_refuses_urls_while_fetching_is_off():
    with pytest.raises(AgentsError) as refused:
        dreamstar_ingest_request(uploads=[], urls=["https://example.com/terms.html"])
    assert refused.value.code == "fetch_disabled"
    assert not Mission.objects.exists()


def test_it_needs_a_document():
    with pytest.raises(AgentsError) as refused:
        dreamstar_ingest_request(uploads=[], text="   ")
    assert refused.value.code == "documents_required"


def test_it_publishes_the_request(documents, django_capture_on_commit_callbacks):
    from mesh.models import Event

    with django_capture_on_commit_callbacks(execute=True):
        mission = dreamstar_ingest_request(uploads=[Upload("assay.txt", documents["assay.txt"])])
    event = Event.objects.get(topic="dreamstar.ingest.requested")
    assert event.payload["mission"] == mission.pk and event.payload["digests"] == [blake3_hex(documents["assay.txt"])]


def test_a_lost_stored_file_fails_that_document_only(documents, django_capture_on_commit_callbacks):
    from agents.llm.offline import OfflineProvider
    from agents.services import mission_run
    from mesh.services import artifact_path

    with django_capture_on_commit_callbacks(execute=False):
        mission = dreamstar_ingest_request(
            uploads=[Upload("assay.txt", documents["assay.txt"]), Upload("storage.md", documents["storage.md"])]
        )
    artifact_path(blake3_hex(documents["assay.txt"])).unlink()
    mission = mission_run(mission_id=mission.pk, provider=OfflineProvider())
    assert mission.status == "succeeded" and mission.error == "1 of 2 documents could not be ingested."
    assert mission.output["created"] == 1 and mission.output["failed"] == 1
    assert list(DreamstarIngestion.objects.values_list("name", flat=True)) == ["storage.md"]
