"""DreamStar fixtures: documents of each type (the PDF is written here, by hand) and an ingest helper."""

from __future__ import annotations

import pytest

from tests.agents.conftest import fake_openai, test_price  # noqa: F401 (fixtures)


def pdf_bytes(lines: list[str]) -> bytes:
    """Return a minimal valid one-page PDF showing ``lines`` in Helvetica (objects, xref and trailer by hand)."""
    ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({escaped}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


MARKDOWN = """# Vault storage

Allocated storage keeps each client's bars segregated in a numbered bay of the Zurich vault.
Every bar is listed by refiner, serial number and fine weight.

## Insurance

Lloyd's underwriters insure the vault's full contents against theft and fire.
"""

HTML = """<!doctype html><html><head><title>Ignored</title><style>p{color:red}</style></head>
<body><h1>Delivery terms</h1><p>Orders above 1 kg ship by armoured courier within five business days.</p>
<script>var x = "not text";</script><h2>Returns</h2><p>Sealed coins may be returned within 14 days.</p></body></html>
"""

TEXT = "Assay certificates accompany every cast bar. Palladium sponge is sold in 1 oz ingots.\n"


@pytest.fixture
def documents() -> dict[str, bytes]:
    return {
        "storage.md": MARKDOWN.encode(),
        "delivery.html": HTML.encode(),
        "assay.txt": TEXT.encode(),
        "refining.pdf": pdf_bytes(["Refining", "The refinery melts scrap jewellery into good delivery bars."]),
    }


def ingest(uploads, **kwargs):
    """Request an ingestion and run its mission here (not on the queue); return the finished mission."""

    from agents.dreamstar.services import dreamstar_ingest_request
    from agents.llm.offline import OfflineProvider
    from agents.services import mission_run

    mission = dreamstar_ingest_request(uploads=uploads, **kwargs)
    return mission_run(mission_id=mission.pk, provider=OfflineProvider())


@pytest.fixture
def ingested(documents, django_capture_on_commit_callbacks):
    """All four fixture documents, ingested."""
    from agents.dreamstar.services import Upload

    with django_capture_on_commit_callbacks(execute=False):
        return ingest([Upload(name, content) for name, content in documents.items()])
