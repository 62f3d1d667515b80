"""Hybrid ranking: with an embedding model configured, chunks get vectors at ingestion and a query's vector
ranking is fused with the full-text ranking, so a chunk sharing no word with the query can still come first."""

from __future__ import annotations

import pytest

from agents.dreamstar.embeddings import rrf
from agents.dreamstar.models import DreamstarChunk
from agents.dreamstar.search import chunk_search

pytestmark = pytest.mark.django_db

# A toy "semantic" space: insurance-like words point one way, delivery-like words another.
AXES = (("insur", "underwriter", "coverage", "policy"), ("courier", "ship", "deliver", "freight"))


def _vector(text: str) -> list[float]:
    lowered = text.lower()
    return [float(sum(lowered.count(w) for w in axis)) for axis in AXES] + [0.1]


def _embeddings(body: dict, n: int):
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    data = [{"object": "embedding", "index": i, "embedding": _vector(t)} for i, t in enumerate(inputs)]
    return (
        200,
        {"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": 1, "total_tokens": 1}},
        {},
    )


@pytest.fixture
def vectors_on(fake_openai, settings):
    settings.LLM_PROVIDER = "offline"  # chat stays offline; only embeddings go to the (fake) server
    settings.DREAMSTAR_EMBEDDING_MODEL = "test-embedder"
    fake_openai.script = _embeddings
    return fake_openai


def test_chunks_get_vectors_and_a_wordless_match_ranks_first(vectors_on, documents, django_capture_on_commit_callbacks):
    from agents.dreamstar.services import Upload
    from tests.dreamstar.conftest import ingest

    with django_capture_on_commit_callbacks(execute=False):
        mission = ingest([Upload(name, content) for name, content in documents.items()])
    assert mission.status == "succeeded"
    assert not DreamstarChunk.objects.filter(embedding__isnull=True).exists()
    assert set(DreamstarChunk.objects.values_list("embedding_model", flat=True)) == {"test-embedder"}

    asked = len(vectors_on.requests)
    hits = chunk_search("coverage policy")  # no chunk contains either word
    assert len(vectors_on.requests) == asked + 1 and vectors_on.requests[-1]["input"] == ["coverage policy"]
    assert hits[0].chunk.heading == "Insurance"


def test_without_a_model_the_same_query_finds_nothing(ingested):
    assert chunk_search("coverage policy") == []


def test_a_failing_embedder_falls_back_to_full_text(vectors_on, ingested):
    vectors_on.script = lambda body, n: (500, {"error": {"message": "down"}}, {})
    assert chunk_search("insured against theft")[0].chunk.heading == "Insurance"


def test_rrf_rewards_agreement():
    assert [pk for pk, _ in rrf([[1, 2, 3], [3, 2, 1], [2]])] == [2, 1, 3]
