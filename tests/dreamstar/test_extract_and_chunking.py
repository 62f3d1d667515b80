"""Extraction (one fixture of each type) and chunk boundaries: pure modules, no database."""

from __future__ import annotations

import itertools

import pytest

from agents.dreamstar.chunking import chunk_text
from agents.dreamstar.extract import ExtractError, extract_text, media_type_for
from tests.dreamstar.conftest import pdf_bytes


def test_it_extracts_each_type(documents):
    md = extract_text(documents["storage.md"], media_type_for("storage.md"))
    assert md.startswith("# Vault storage") and "## Insurance" in md
    html = extract_text(documents["delivery.html"], media_type_for("delivery.html"))
    assert html.splitlines()[0] == "# Delivery terms" and "## Returns" in html
    assert "not text" not in html and "color" not in html and "Ignored" not in html
    assert "armoured courier" in html
    assert extract_text(documents["assay.txt"], "text/plain").startswith("Assay certificates")
    pdf = extract_text(documents["refining.pdf"], media_type_for("refining.pdf"))
    assert "good delivery bars" in pdf and "Refining" in pdf


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (b"%PDF-1.4\n1 0 obj <<>> garbage", "application/pdf"),
        (b"not a pdf at all", "application/pdf"),
        (pdf_bytes([]), "application/pdf"),
        (b"\xff\xfe\x00b\x00i\x00n", "text/plain"),
        (b"caf\xe9 latin-1", "text/markdown"),
        (b"   \n\n ", "text/plain"),
    ],
)
def test_it_refuses_unreadable_documents(content, media_type):
    with pytest.raises(ExtractError):
        extract_text(content, media_type)


def test_it_knows_supported_types_by_extension():
    assert media_type_for("A.PDF") == "application/pdf" and media_type_for("x.htm") == "text/html"
    assert media_type_for("sheet.xlsx") is None and media_type_for("noext") is None


def test_chunks_split_at_headings():
    text = "Intro line.\n\n# One\n\nFirst body.\n\n## Two\n\nSecond body.\n"
    pieces = chunk_text(text, max_chars=500, overlap=50)
    assert [(p.heading, p.text) for p in pieces] == [
        ("", "Intro line."),
        ("One", "First body."),
        ("Two", "Second body."),
    ]
    for p in pieces:
        assert text[p.start : p.end] == p.text


def test_long_sections_are_windows_that_overlap_and_end_on_boundaries():
    sentences = [f"Sentence number {i} talks about bullion lot {i}." for i in range(60)]
    text = "# Long\n\n" + " ".join(sentences)
    pieces = chunk_text(text, max_chars=300, overlap=80)
    assert len(pieces) > 5 and all(len(p.text) <= 300 for p in pieces)
    assert all(p.heading == "Long" for p in pieces)
    for p in pieces:
        assert text[p.start : p.end] == p.text
    for a, b in itertools.pairwise(pieces):
        assert a.text.endswith(".")  # a sentence boundary lay in every window
        assert b.start < a.end and a.end - b.start <= 80  # the windows overlap by at most `overlap`
        assert text[b.start - 1] == " "  # and the next one starts on a word
    covered = "".join(text[p.start : p.end] for p in pieces)
    assert all(s in text and s.split()[2] in covered for s in sentences)
    assert chunk_text(text, max_chars=300, overlap=80) == pieces  # deterministic
