"""The home page's showcase: real frames with the figures they produced, refreshed by a task, swapped live."""

from __future__ import annotations

import pytest

from computejobs.models import ShowcaseFrame
from computejobs.showcase import showcase_refresh
from mesh.models import Event

pytestmark = pytest.mark.django_db


def test_before_any_frame_the_home_page_says_so(client):
    page = client.get("/").content.decode()
    assert "No frame yet" in page
    assert client.get("/showcase/tsp").status_code == 404


def test_a_refresh_draws_a_real_tour_and_states_its_figures(client):
    (frame,) = [f for f in showcase_refresh() if f.kind == "tsp"]
    figures = frame.figures
    assert figures["instance"] == "berlin52"
    assert figures["optimum"] == 7542
    assert figures["length"] >= 7542
    assert figures["gap_percent"] == round((figures["length"] - 7542) / 7542 * 100, 2)
    image = client.get("/showcase/tsp")
    assert image.headers["Content-Type"] == "image/svg+xml"
    assert f"{figures['length']} (" in image.content.decode()
    page = client.get("/").content.decode()
    assert f"/showcase/tsp?v={frame.pk}" in page
    assert f"length {figures['length']:,} · optimum 7,542 · gap {figures['gap_percent']:+.2f} %" in page
    event = Event.objects.get(topic="compute.showcase.updated", public=True, payload__kind="tsp")
    assert event.payload["caption"].startswith(f"instance berlin52 · cities 52 · length {figures['length']:,}")


def test_only_the_last_few_frames_are_kept(monkeypatch):
    from computejobs import showcase

    monkeypatch.setattr(showcase, "PRODUCERS", {"tsp": showcase.PRODUCERS["tsp"]})
    for _ in range(7):
        showcase_refresh()
    assert ShowcaseFrame.objects.filter(kind="tsp").count() == 5


def test_the_physarum_frame_is_a_picture_with_its_figures(client):
    frames = {f.kind: f for f in showcase_refresh()}
    assert frames["physarum"].media_type == "image/png"
    assert frames["physarum"].figures["agents"] == 50_000
    assert client.get("/showcase/physarum").headers["Content-Type"] == "image/png"
