"""manage.py dreamstar_ingest FOLDER: an operator ingests a folder of documents."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from agents.dreamstar.models import DreamstarIngestion

pytestmark = pytest.mark.django_db


def test_it_ingests_a_folder(tmp_path, documents, settings, django_capture_on_commit_callbacks):
    settings.LLM_PROVIDER = "offline"
    (tmp_path / "sub").mkdir()
    for name, content in documents.items():
        (tmp_path / "sub" / name if name.endswith(".pdf") else tmp_path / name).write_bytes(content)
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=False):
        call_command("dreamstar_ingest", str(tmp_path), "--now", stdout=out)
    assert "skipped (unsupported type): photo.jpg" in out.getvalue()
    assert "succeeded; 4 new, 0 already ingested, 0 failed" in out.getvalue()
    assert sorted(DreamstarIngestion.objects.values_list("name", flat=True)) == sorted(
        ["assay.txt", "delivery.html", "storage.md", "sub/refining.pdf"]
    )


def test_it_refuses_a_folder_with_nothing_to_ingest(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    with pytest.raises(CommandError, match="No txt, md, html or pdf"):
        call_command("dreamstar_ingest", str(tmp_path), stdout=StringIO())
