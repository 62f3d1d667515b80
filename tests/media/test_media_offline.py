"""Media missions offline: the renderer's PNG, the renderer's MP4, espeak-ng's WAV and local transcodes, each a
receipted .dreamfile artifact decoded back with PyAV (Pillow for the PNG)."""

from __future__ import annotations

import io
from decimal import Decimal

import av
import pytest
from PIL import Image

from agents.media.services import media_request
from agents.models import BudgetEntry, Mission
from agents.services import mission_run
from mesh.models import Artifact
from mesh.services import artifact_read

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _offline(settings):
    settings.LLM_PROVIDER = "offline"
    settings.LIVEPEER_API_KEY = None
    settings.MEDIA_OFFLINE_FPS = 4


def _run(kind: str, **data) -> Mission:
    mission = media_request(kind=kind, data=data, via="test")
    return mission_run(mission_id=mission.pk)


def _content(mission: Mission, index: int = 0) -> bytes:
    return artifact_read(Artifact.objects.get(blake3=mission.output["artifacts"][index]["blake3"]))


def _decode(content: bytes) -> tuple[int, int, float]:
    """Return (video frames, audio samples, seconds) decoded with PyAV."""
    frames = samples = 0
    with av.open(io.BytesIO(content)) as container:
        for frame in container.decode(*container.streams.video, *container.streams.audio):
            if isinstance(frame, av.VideoFrame):
                frames += 1
            else:
                samples += frame.samples
        seconds = float(container.duration or 0) / av.time_base
    return frames, samples, seconds


def test_an_offline_image_is_a_labelled_png_with_a_receipt():
    mission = _run("image", prompt="A gold bar on velvet", size="64x64")
    assert mission.status == Mission.Status.SUCCEEDED, mission.error
    assert (mission.provider, mission.model, mission.cost_usd) == ("offline", "offline-image", Decimal(0))
    assert mission.output["media"]["source"] == "offline"
    image = Image.open(io.BytesIO(_content(mission)))
    assert (image.format, image.size) == ("PNG", (64, 64))
    with av.open(io.BytesIO(_content(mission))) as container:  # PyAV reads it too
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (64, 64)
    assert mission.output["artifacts"][0]["blake3"] in mission.receipt.outputs["artifacts"]
    assert "offline" in artifact_read(mission.artifact).decode()


def test_an_offline_video_is_an_mp4_rendered_frame_by_frame():
    mission = _run("video", prompt="A coin spinning", size="64x64", seconds=1)
    assert mission.status == Mission.Status.SUCCEEDED, mission.error
    assert mission.output["artifacts"][0]["media_type"] == "video/mp4"
    frames, _samples, seconds = _decode(_content(mission))
    assert frames == 4 and seconds == pytest.approx(1.0, abs=0.3)
    assert mission.steps.get(number=1).output["units"] == "1.000"


def test_offline_speech_is_a_wav_from_espeak():
    mission = _run("speech", text="Gold closed higher today.", voice="nova")
    assert mission.status == Mission.Status.SUCCEEDED, mission.error
    content = _content(mission)
    assert content[:4] == b"RIFF" and content[8:12] == b"WAVE"
    _frames, samples, seconds = _decode(content)
    assert samples > 0 and 0.5 < seconds < 10


def test_a_local_transcode_makes_every_rendition_from_a_video():
    video = _run("video", prompt="A bar", size="128x72", seconds=1)
    mission = _run("transcode", source=video.output["artifacts"][0]["blake3"])
    assert mission.status == Mission.Status.SUCCEEDED, mission.error
    assert mission.model == "local-transcode"
    names = [a["name"] for a in mission.output["artifacts"]]
    assert names == [f"mission-{mission.pk}-360p.mp4", f"mission-{mission.pk}-240p.mp4"]
    for index in range(2):
        frames, _samples, _seconds = _decode(_content(mission, index))
        assert frames == 4


def test_unsupported_sizes_durations_and_voices_are_refused_before_anything_runs():
    from agents.errors import AgentsError

    for kind, data, code in [
        ("image", {"prompt": "x", "size": "4096x4096"}, "unsupported_size"),
        ("video", {"prompt": "x", "seconds": 60}, "unsupported_duration"),
        ("speech", {"text": "x", "voice": "darth"}, "unsupported_voice"),
        ("image", {"prompt": "  "}, "prompt_required"),
        ("transcode", {"source": "0" * 64}, "unknown_source"),
    ]:
        with pytest.raises(AgentsError) as refused:
            media_request(kind=kind, data=data)
        assert refused.value.code == code
    assert not Mission.objects.exists() and not BudgetEntry.objects.exists()


def test_without_taichi_the_offline_image_is_procedural_and_says_so(monkeypatch):
    import compute.render

    def no_taichi(*args, **kwargs):
        raise ImportError("Taichi is not installed for Python 3.13")

    monkeypatch.setattr(compute.render, "render_scene", no_taichi)
    mission = _run("image", prompt="A silver round", size="64x64")
    assert mission.status == Mission.Status.SUCCEEDED, mission.error
    assert "procedural" in mission.steps.get(number=1).output["detail"]["generator"]
    assert Image.open(io.BytesIO(_content(mission))).size == (64, 64)


def test_an_operator_cancel_stops_an_offline_video_between_frames(monkeypatch):
    from agents.media import offline

    mission = media_request(kind="video", data={"prompt": "A long clip", "size": "64x64", "seconds": 4})
    real = offline._render

    def render_then_cancel(*args, **kwargs):
        Mission.objects.filter(pk=mission.pk).update(cancel_requested=True)  # an operator presses Cancel
        return real(*args, **kwargs)

    monkeypatch.setattr(offline, "_render", render_then_cancel)
    mission = mission_run(mission_id=mission.pk)
    assert (mission.status, mission.stop_reason) == (Mission.Status.CANCELLED, Mission.StopReason.CANCELLED)
    assert mission.error.startswith("Cancelled by an operator.") and not mission.output.get("artifacts")
    assert BudgetEntry.objects.get(mission=mission).actual_usd == 0
