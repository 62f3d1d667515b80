"""A DreamStar collection becomes a Loom corpus: its extracted text, chunks joined without their overlaps."""

from __future__ import annotations

import pytest

from agents.dreamstar.models import DreamstarIngestion
from computejobs.models import ComputeJob
from computejobs.services import job_create
from mesh.models import Artifact
from mesh.services import artifact_read

pytestmark = pytest.mark.django_db


def test_the_collection_text_is_stored_once_and_trains_a_model(ingested, client, olivia):
    client.force_login(olivia)
    response = client.post("/console/dreamstar/loom-corpus")
    assert response.status_code == 302 and response.headers["Location"] == "/console/compute/"
    artifact = Artifact.objects.get(name="dreamstar-corpus.txt")
    text = artifact_read(artifact).decode()
    for ingestion in DreamstarIngestion.objects.all():
        for chunk in ingestion.chunks.all():
            assert chunk.text.strip()[:200] in text  # every chunk's text is in the corpus
    assert sum(len(c.text) for i in DreamstarIngestion.objects.all() for c in i.chunks.all()) >= len(text) - 10
    assert artifact.blake3 in client.get("/console/compute/").content.decode()  # the message names it
    job = job_create(kind="lm_train", params={"corpus_artifact": artifact.blake3, "steps": 5, "dim": 16, "context": 16})
    assert job.params["corpus_chars"] == len(text)


def test_an_empty_collection_is_refused(client, olivia):
    client.force_login(olivia)
    response = client.post("/console/dreamstar/loom-corpus", follow=True)
    assert "DreamStar holds no documents yet" in response.content.decode()
    assert not Artifact.objects.exists() and not ComputeJob.objects.exists()
