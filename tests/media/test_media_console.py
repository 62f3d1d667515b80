"""The media console: launch from the form, the mission page with its players and live status, files served to
operators only, and attaching a generated image to a product whose page then shows it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.media.services import media_request
from agents.models import Mission
from agents.services import mission_run
from commerce.models import Product
from tests.commerce.conftest import catalog  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _offline(settings):
    settings.LLM_PROVIDER = "offline"
    settings.MEDIA_OFFLINE_FPS = 2


def test_an_operator_launches_an_image_and_sees_it(client, olivia):
    client.force_login(olivia)
    response = client.post(reverse("agents:media"), {"kind": "image", "prompt": "A gold coin", "size": "64x64"})
    mission = Mission.objects.get(kind="image")
    assert response.status_code == 302 and response["Location"] == reverse("agents:media-mission", args=[mission.pk])
    running = client.get(response["Location"])
    assert b'hx-trigger="every 1s"' in running.content  # polls while it has not ended
    mission_run(mission_id=mission.pk)
    page = client.get(response["Location"]).content.decode()
    digest = Mission.objects.get(pk=mission.pk).output["artifacts"][0]["blake3"]
    src = reverse("agents:media-file", args=[mission.pk, digest])
    assert f'<img src="{src}"' in page and "offline: made on this node" in page and "every 1s" not in page
    image = client.get(src)
    assert image["Content-Type"] == "image/png" and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert f'src="{src}"' in client.get(reverse("agents:media")).content.decode()


def test_video_and_speech_pages_have_players(client, olivia):
    client.force_login(olivia)
    video = mission_run(mission_id=media_request(kind="video", data={"prompt": "A bar", "size": "64x64",
                                                                      "seconds": 1}).pk)  # fmt: skip
    speech = mission_run(mission_id=media_request(kind="speech", data={"text": "Hello."}).pk)
    assert "<video src=" in client.get(reverse("agents:media-mission", args=[video.pk])).content.decode()
    assert "<audio src=" in client.get(reverse("agents:media-mission", args=[speech.pk])).content.decode()


def test_a_bad_request_is_a_form_error(client, olivia):
    client.force_login(olivia)
    response = client.post(reverse("agents:media"), {"kind": "video", "prompt": "x", "seconds": 30})
    assert response.status_code == 422 and "not supported by the offline provider" in response.content.decode()


def test_files_are_for_operators_only(client, alice, olivia):
    mission = mission_run(mission_id=media_request(kind="image", data={"prompt": "A bar", "size": "64x64"}).pk)
    url = reverse("agents:media-file", args=[mission.pk, mission.output["artifacts"][0]["blake3"]])
    client.force_login(alice)
    assert client.get(url).status_code == 302  # to the sign-in page
    client.force_login(olivia)
    assert client.get(reverse("agents:media-file", args=[mission.pk, "0" * 64])).status_code == 404


def test_an_operator_attaches_the_image_to_a_product(client, olivia, catalog):  # noqa: F811
    client.force_login(olivia)
    mission = mission_run(mission_id=media_request(kind="image", data={"prompt": "A bar", "size": "64x64"}).pk)
    sku = next(iter(catalog))
    response = client.post(reverse("agents:media-attach", args=[mission.pk]), {"product": sku, "index": 0})
    product = Product.objects.get(sku=sku)
    assert response.status_code == 302 and response["Location"] == product.get_absolute_url()
    assert product.image.blake3 == mission.output["artifacts"][0]["blake3"]
    image_url = reverse("commerce:product-image", args=[sku])
    assert f'src="{image_url}"' in client.get(product.get_absolute_url()).content.decode()
    client.logout()
    assert client.get(image_url).content[:4] == b"\x89PNG"  # buyers see it without signing in
    bad = client.post(reverse("agents:media-attach", args=[mission.pk]), {"product": "nope", "index": 0})
    assert bad.status_code == 302  # signed out: to the sign-in page
    client.force_login(olivia)
    bad = client.post(reverse("agents:media-attach", args=[mission.pk]), {"product": "nope", "index": 0})
    assert bad.status_code == 422 and "No product has the SKU" in bad.content.decode()


def test_the_generic_missions_forecast_answers_for_a_media_kind(client, olivia):
    client.force_login(olivia)
    response = client.get(reverse("agents:forecast"), {"kind": "image", "agent": "media-studio", "prompt": "x"})
    assert response.status_code == 200  # a reason or a figure, never a server error
    mission = mission_run(mission_id=media_request(kind="speech", data={"text": "Hello."}).pk)
    assert client.get(mission.get_absolute_url()).status_code == 200
