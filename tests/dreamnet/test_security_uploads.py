"""Uploads are limited before they are read, typed, and served so they cannot script the site."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dreamnet.apikeys import apikey_create
from mesh.services import artifact_store
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    return apikey_create(name="worker", scopes=["mesh"])[1]


def test_a_public_file_commit_over_its_limit_is_refused_by_its_length(client, settings):
    settings.DREAMSNAIL_MAX_FILE_BYTES = 1024
    body = b"x" * (1024 + 64 * 1024 + 1)
    response = client.post("/api/dreamsnail/commit/file", {"file": SimpleUploadedFile("big.bin", body)})
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_a_file_commit_just_over_the_file_limit_is_413_from_the_view(client, settings):
    settings.DREAMSNAIL_MAX_FILE_BYTES = 1024
    response = client.post("/api/dreamsnail/commit/file", {"file": SimpleUploadedFile("a.bin", b"y" * 1025)})
    assert response.status_code == 413
    ok = client.post("/api/dreamsnail/commit/file", {"file": SimpleUploadedFile("b.bin", b"y" * 1024)})
    assert ok.status_code == 201


def test_an_upload_without_a_length_is_refused(client, key):
    response = client.generic(
        "POST", "/api/mesh/artifacts", data=b"", content_type="multipart/form-data; boundary=x",
        headers={"X-DREAMNET-KEY": key}, CONTENT_LENGTH="",
    )  # fmt: skip
    assert response.status_code == 411
    assert response.json()["code"] == "length_required"


def test_an_artifact_over_the_limit_is_refused_before_it_is_read(client, key, settings):
    settings.ARTIFACT_MAX_BYTES = 2048
    upload = SimpleUploadedFile("big.bin", b"z" * (2048 + 64 * 1024 + 1))
    response = client.post("/api/mesh/artifacts", {"file": upload}, headers={"X-DREAMNET-KEY": key})
    assert response.status_code == 413


@pytest.mark.parametrize("media_type", ["text/html; charset=utf-8\r\nX-Evil: 1", "not a type", "a/" + "b" * 130])
def test_an_artifact_media_type_must_be_a_mime_type(client, key, media_type):
    upload = SimpleUploadedFile("a.txt", b"hello")
    response = client.post(
        "/api/mesh/artifacts", {"file": upload, "media_type": media_type}, headers={"X-DREAMNET-KEY": key}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "bad_media_type"


def test_an_uploaded_file_name_keeps_only_its_last_part_and_fits_the_column(client, key):
    upload = SimpleUploadedFile("../../" + "n" * 300 + ".txt", b"hello")
    response = client.post("/api/mesh/artifacts", {"file": upload}, headers={"X-DREAMNET-KEY": key})
    assert response.status_code == 201
    assert "/" not in response.json()["name"] and len(response.json()["name"]) <= 255


def test_an_html_or_script_artifact_downloads_as_bytes_in_the_console(client, olivia):
    olivia.is_staff = True
    olivia.save()
    client.login(username="olivia", password=PASSWORD)
    page = artifact_store(content=b"<script>alert(1)</script>", name='x".html', media_type="text/html")
    script = artifact_store(content=b"alert(1)", name="x.js", media_type="application/javascript")
    for item in (page, script):
        response = client.get(f"/console/artifacts/{item.blake3}")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "sandbox" in response["Content-Security-Policy"]
    image = artifact_store(content=b"\x89PNG\r\n", name="p.png", media_type="image/png")
    shown = client.get(f"/console/artifacts/{image.blake3}")
    assert shown["Content-Type"] == "image/png"
    assert shown["Content-Disposition"].startswith("inline;")


def test_the_api_download_quotes_the_file_name_and_sandboxes(client, key):
    item = artifact_store(content=b"data", name='we"ird name.txt', media_type="text/plain")
    response = client.get(f"/api/mesh/artifacts/{item.blake3}", headers={"X-DREAMNET-KEY": key})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="we\\"ird name.txt"'
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_repeated_multipart_field_is_refused_not_silently_dropped(client):
    upload = SimpleUploadedFile("a.bin", b"hello")
    response = client.post("/api/dreamsnail/commit/file", {"file": upload, "algorithm": ["sha256", "sha512"]})
    assert response.status_code == 422
    assert response.json()["code"] == "repeated_field"
