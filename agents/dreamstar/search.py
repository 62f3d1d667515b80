"""Full-text search over DreamStar chunks: SQLite FTS5 (BM25) or PostgreSQL full-text (ts_rank_cd).

A query is reduced to its words and matched as *any* of them (OR), ranked by relevance, so a long generation
brief still retrieves the chunks that share most of its rare words. The indexes are built by migration 0004.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.db import NotSupportedError, connection

from agents.dreamstar.embeddings import EmbeddingError, cosine, embed, embedding_model, rrf
from agents.dreamstar.models import DreamstarChunk

logger = logging.getLogger(__name__)
CANDIDATES = 50  # per ranking, before fusion

MAX_TERMS = 32
_WORD = re.compile(r"\w+", re.UNICODE)
PG_TSVECTOR = "to_tsvector('english', coalesce(c.heading, '') || ' ' || c.text)"


@dataclass(frozen=True)
class Hit:
    chunk: DreamstarChunk
    score: float  # higher is better, comparable only within one result list


def query_terms(query: str) -> list[str]:
    """Return the query's distinct words (lower-cased, in order, at most MAX_TERMS)."""
    seen: list[str] = []
    for word in _WORD.findall(query.lower()):
        if word not in seen:
            seen.append(word)
    return seen[:MAX_TERMS]


def chunk_search(query: str, *, limit: int = 10) -> list[Hit]:
    """Return the chunks that best match ``query``, best first (at most ``limit``); [] for a query with no words.

    Full-text only by default (score: BM25 or ts_rank_cd). With an embedding model configured, the full-text
    ranking and a cosine ranking of the chunks' vectors are merged by reciprocal rank fusion (score: the fused
    score); if the query cannot be embedded, the full-text ranking stands alone.
    """
    terms = query_terms(query)
    if not terms:
        return []
    model = embedding_model()
    pool = max(limit, CANDIDATES) if model else limit
    ranked = _fulltext(terms, pool)
    if model:
        try:
            vector = embed([query])[0]
        except EmbeddingError:
            logger.warning("DreamStar: the query could not be embedded; ranking by full text only", exc_info=True)
        else:
            by_vector = _by_vector(vector, model, pool)
            ranked = rrf([[pk for pk, _ in ranked], by_vector])
    ranked = ranked[:limit]
    chunks = DreamstarChunk.objects.select_related("ingestion").in_bulk([pk for pk, _ in ranked])
    return [Hit(chunks[pk], float(score)) for pk, score in ranked if pk in chunks]


def _by_vector(vector: list[float], model: str, limit: int) -> list[int]:
    """Return the ids of the chunks embedded with ``model`` nearest to ``vector`` (cosine), best first.

    A scan of the stored vectors: fine for an organisation's documents (thousands of chunks), not for millions.
    """
    rows = DreamstarChunk.objects.filter(embedding_model=model).values_list("id", "embedding")
    scored = sorted(((cosine(vector, emb or []), pk) for pk, emb in rows), key=lambda t: (-t[0], t[1]))
    return [pk for score, pk in scored[:limit] if score > 0]


def _fulltext(terms: list[str], limit: int) -> list[tuple[int, float]]:
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT c.id, ts_rank_cd({PG_TSVECTOR}, q) AS score FROM dreamstar_chunk c, "  # noqa: S608 (constant)
            f"to_tsquery('english', %s) q WHERE {PG_TSVECTOR} @@ q ORDER BY score DESC, c.id LIMIT %s"
        )
        # Each word is quoted for to_tsquery and OR-ed; words that are only stop words drop out of the query.
        params: list = [" | ".join("'" + t.replace("'", "") + "'" for t in terms), limit]
    elif connection.vendor == "sqlite":
        sql = (
            "SELECT rowid, -bm25(dreamstar_chunk_fts, 2.0, 1.0) AS score FROM dreamstar_chunk_fts "
            "WHERE dreamstar_chunk_fts MATCH %s ORDER BY bm25(dreamstar_chunk_fts, 2.0, 1.0), rowid LIMIT %s"
        )
        params = [" OR ".join('"' + t.replace('"', "") + '"' for t in terms), limit]
    else:  # pragma: no cover - DreamNet runs on SQLite or PostgreSQL only
        raise NotSupportedError(f"DreamStar search runs on SQLite or PostgreSQL, not {connection.vendor}.")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [(pk, float(score)) for pk, score in rows]
