"""Full-text search over ingested chunks ranks the chunk that answers the query first."""

from __future__ import annotations

import pytest

from agents.dreamstar.search import chunk_search

pytestmark = pytest.mark.django_db


def test_a_query_ranks_the_known_chunk_first(ingested):
    hits = chunk_search("who insures the vault against theft?")
    assert hits and hits[0].chunk.heading == "Insurance" and hits[0].chunk.ingestion.name == "storage.md"
    assert hits[0].score >= hits[-1].score


def test_it_finds_text_from_each_document_type(ingested):
    assert chunk_search("armoured courier")[0].chunk.ingestion.name == "delivery.html"
    assert chunk_search("scrap jewellery refinery")[0].chunk.ingestion.name == "refining.pdf"
    assert chunk_search("palladium sponge")[0].chunk.ingestion.name == "assay.txt"


def test_queries_with_no_words_or_no_match_find_nothing(ingested):
    assert chunk_search("   ?! ") == [] and chunk_search('"zzqx" OR') == []
    assert chunk_search("quantum") == []


def test_deleting_an_ingestion_removes_its_chunks_from_the_index(ingested):
    from agents.dreamstar.models import DreamstarIngestion

    DreamstarIngestion.objects.get(name="storage.md").delete()
    assert all(h.chunk.ingestion.name != "storage.md" for h in chunk_search("vault insurance theft"))


def test_the_full_text_index_exists_for_this_database():
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'dreamstar_chunk_fts'")
        else:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'dreamstar_chunk_fts'")
        row = cursor.fetchone()
    assert row is not None and (connection.vendor == "sqlite" or "gin" in row[0].lower())
