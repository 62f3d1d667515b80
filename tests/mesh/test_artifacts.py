"""Artifacts: content-addressed, deduplicated, verified on the way out; the dreamfile command."""

from __future__ import annotations

from io import StringIO

import blake3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from dreamnet.apikeys import apikey_create
from mesh.models import Artifact
from mesh.services import MeshError, artifact_path, artifact_store

pytestmark = pytest.mark.django_db
CONTENT = b"tour 1 5 3 2 4\n" * 100


@pytest.fixture
def key():
    return apikey_create(name="worker", scopes=["mesh"])[1]


def _upload(client, key, content=CONTENT, **extra):
    upload = SimpleUploadedFile("tour.txt", content, content_type="text/plain")
    return client.post("/api/mesh/artifacts", {"file": upload, **extra}, headers={"X-DREAMNET-KEY": key})


def test_upload_download_and_dedupe(client, key):
    first = _upload(client, key, compression="zstd")
    assert first.status_code == 201
    digest = first.json()["blake3"]
    assert digest == blake3.blake3(CONTENT).hexdigest()
    assert _upload(client, key).json()["blake3"] == digest
    assert Artifact.objects.count() == 1
    download = client.get(f"/api/mesh/artifacts/{digest}", headers={"X-DREAMNET-KEY": key})
    assert download.content == CONTENT
    assert download.headers["Content-Type"] == "text/plain"
    meta = client.get(f"/api/mesh/artifacts/{digest}/meta", headers={"X-DREAMNET-KEY": key}).json()
    assert meta["size"] == len(CONTENT)
    assert meta["compression"] == "zstd"
    packed = client.get(f"/api/mesh/artifacts/{digest}/dreamfile", headers={"X-DREAMNET-KEY": key}).content
    assert packed[:4] == b"DRFL"


def test_uploads_above_the_limit_are_413(client, key, settings):
    settings.ARTIFACT_MAX_BYTES = 100
    response = _upload(client, key)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not Artifact.objects.exists()


def test_the_store_itself_refuses_oversized_content_with_413(settings):
    # The API checks the upload's size first; any other caller gets the same answer from the service.
    settings.ARTIFACT_MAX_BYTES = 10
    with pytest.raises(MeshError) as refused:
        artifact_store(content=b"x" * 11, name="big.txt", media_type="text/plain")
    assert (refused.value.status, refused.value.code) == (413, "too_large")
    assert refused.value.as_body() == {"detail": "The artifact is 11 bytes; the limit is 10.", "code": "too_large"}
    assert not Artifact.objects.exists()


def test_a_damaged_file_is_not_served(client, key):
    digest = _upload(client, key).json()["blake3"]
    path = artifact_path(digest)
    data = bytearray(path.read_bytes())
    data[40] ^= 0x01
    path.write_bytes(bytes(data))
    response = client.get(f"/api/mesh/artifacts/{digest}", headers={"X-DREAMNET-KEY": key})
    assert response.status_code == 409
    assert response.json()["code"] == "artifact_damaged"


def test_artifacts_need_the_mesh_scope(client):
    assert _upload(client, apikey_create(name="shop", scopes=["commerce"])[1]).status_code == 403
    assert client.get("/api/mesh/artifacts/" + "0" * 64, headers={}).status_code == 401


def test_the_dreamfile_command_packs_opens_and_verifies(tmp_path):
    source = tmp_path / "frame.png"
    source.write_bytes(b"\x89PNG fake frame bytes" * 50)
    out = StringIO()
    call_command("dreamfile", "pack", str(source), "--zstd", stdout=out)
    packed = tmp_path / "frame.png.dreamfile"
    assert packed.exists()
    call_command("dreamfile", "verify", str(packed), stdout=out)
    assert "valid: frame.png (image/png" in out.getvalue()
    opened = tmp_path / "out.png"
    call_command("dreamfile", "open", str(packed), str(opened), stdout=out)
    assert opened.read_bytes() == source.read_bytes()
    packed.write_bytes(packed.read_bytes() + b"junk")
    with pytest.raises(CommandError):
        call_command("dreamfile", "verify", str(packed), stdout=out)
