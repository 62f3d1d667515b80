"""/api/media as clients call it: a ``missions`` key over real HTTP, no cookies, no CSRF token; the missions run
offline (renderer, PyAV, espeak-ng) and an image is attached to a product."""

from __future__ import annotations

import pytest

from agents.services import mission_run
from commerce.models import Product
from tests.commerce.conftest import catalog  # noqa: F401  (fixture)


@pytest.fixture
def media(http, make_key, seeded, settings):
    settings.LLM_PROVIDER = "offline"
    settings.LIVEPEER_API_KEY = None
    settings.MEDIA_OFFLINE_FPS = 2
    return http(key=make_key("missions"))


def _ran(client, response) -> dict:
    assert response.status_code == 202, response.text
    mission_run(mission_id=response.json()["id"])
    done = client.get(f"/api/media/{response.json()['id']}")
    assert done.status_code == 200 and done.json()["status"] == "succeeded", done.text
    return done.json()


@pytest.mark.covers("POST /api/media/images", "POST /api/media/{mission_id}/attach")
def test_a_key_generates_an_image_and_attaches_it_to_a_product(media, catalog):  # noqa: F811
    image = _ran(media, media.post("/api/media/images", json={"prompt": "A 1 oz gold bar", "size": "64x64"}))
    assert image["provider"] == "offline" and image["files"][0]["media_type"] == "image/png"
    sku = next(iter(catalog))
    attached = media.post(f"/api/media/{image['id']}/attach", json={"product": sku})
    assert attached.status_code == 200, attached.text
    assert Product.objects.get(sku=sku).image.blake3 == image["files"][0]["blake3"] == attached.json()["image_blake3"]
    missing = media.post(f"/api/media/{image['id']}/attach", json={"product": "no-such-sku"})
    assert (missing.status_code, missing.json()["code"]) == (404, "unknown_product")
    assert not media.cookies


@pytest.mark.covers("POST /api/media/videos", "POST /api/media/transcodes")
def test_a_key_makes_a_video_then_transcodes_it(media):
    video = _ran(media, media.post("/api/media/videos", json={"prompt": "A coin", "size": "64x64", "seconds": 1}))
    source = video["files"][0]["blake3"]
    transcode = _ran(media, media.post("/api/media/transcodes", json={"source": source}))
    assert [f["name"].rsplit("-", 1)[1] for f in transcode["files"]] == ["360p.mp4", "240p.mp4"]
    listed = media.get("/api/media", params={"kind": "transcode"})
    assert [m["id"] for m in listed.json()] == [transcode["id"]]


@pytest.mark.covers("POST /api/media/speech")
def test_a_key_has_a_text_spoken(media):
    speech = _ran(media, media.post("/api/media/speech", json={"text": "Spot gold is up.", "voice": "alloy"}))
    assert speech["files"][0]["media_type"] == "audio/wav"


def test_bad_media_requests_get_specific_errors(media):
    size = media.post("/api/media/images", json={"prompt": "x", "size": "4096x4096"})
    assert (size.status_code, size.json()["code"]) == (422, "unsupported_size")
    seconds = media.post("/api/media/videos", json={"prompt": "x", "seconds": 90})
    assert (seconds.status_code, seconds.json()["code"]) == (422, "unsupported_duration")
    source = media.post("/api/media/transcodes", json={"source": "f" * 64})
    assert (source.status_code, source.json()["code"]) == (422, "unknown_source")
