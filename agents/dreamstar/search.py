"""Full-text search over DreamStar chunks: SQLite FTS5 (BM25) or PostgreSQL full-text (ts_rank_cd).

A query is reduced to its words and matched as *any* of them (OR), ranked by relevance, so a long generation
brief still retrieves the chunks that share most of its rare words. The indexes are built by migration 0004.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection

from agents.dreamstar.models import DreamstarChunk

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
    """Return the chunks that best match ``query``, best first (at most ``limit``); [] for a query with no words."""
    terms = query_terms(query)
    if not terms:
        return []
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
        raise NotImplementedError(f"No full-text search on {connection.vendor}.")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    chunks = DreamstarChunk.objects.select_related("ingestion").in_bulk([row[0] for row in rows])
    return [Hit(chunks[pk], float(score)) for pk, score in rows if pk in chunks]
