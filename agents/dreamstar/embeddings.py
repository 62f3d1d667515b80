"""Optional vectors for hybrid ranking: chunk and query embeddings from an OpenAI-compatible embeddings endpoint.

On only when DREAMNET_DREAMSTAR_EMBEDDING_MODEL names a model; the endpoint is the chat provider's
(OPENAI_BASE_URL, OPENAI_API_KEY). Embedding calls are not metered by the mission budget governor (it prices chat
calls); they are small and bounded by the documents ingested.
"""

from __future__ import annotations

import math

from django.conf import settings

BATCH = 64


class EmbeddingError(RuntimeError):
    """The embeddings endpoint could not be reached or answered badly."""


def embedding_model() -> str:
    """Return the configured embedding model, or "" when vectors are off."""
    return settings.DREAMSTAR_EMBEDDING_MODEL


def embed(texts: list[str]) -> list[list[float]]:
    """Return one vector per text, in order (raises EmbeddingError)."""
    import openai

    if not settings.OPENAI_API_KEY:
        raise EmbeddingError("DREAMNET_DREAMSTAR_EMBEDDING_MODEL is set but OPENAI_API_KEY is not.")
    client = openai.OpenAI(
        api_key=settings.OPENAI_API_KEY, base_url=settings.OPENAI_BASE_URL or None,
        timeout=settings.LLM_TIMEOUT_S, max_retries=settings.LLM_MAX_RETRIES,
    )  # fmt: skip
    vectors: list[list[float]] = []
    try:
        for i in range(0, len(texts), BATCH):
            batch = texts[i : i + BATCH]
            response = client.embeddings.create(model=embedding_model(), input=batch)
            rows = sorted(response.data, key=lambda d: d.index)
            if len(rows) != len(batch):
                raise EmbeddingError(f"Asked for {len(batch)} embeddings, got {len(rows)}.")
            vectors += [list(map(float, row.embedding)) for row in rows]
    except openai.OpenAIError as exc:
        raise EmbeddingError(f"Embeddings failed: {exc}") from exc
    return vectors


def cosine(a: list[float], b: list[float]) -> float:
    """Return the cosine similarity of two vectors (0 when either is zero or their lengths differ)."""
    if len(a) != len(b):
        return 0.0
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


def rrf(rankings: list[list[int]], *, k: int = 60) -> list[tuple[int, float]]:
    """Merge ranked id lists by reciprocal rank fusion; return (id, score) best first (ties: smaller id)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
