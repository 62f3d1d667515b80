"""Media missions against a local fake of OpenAI's images, speech and videos endpoints (the real openai SDK,
pointed at it by base_url) and of Livepeer Studio: request shapes, per-unit reservations and settlements, and
every fault ending the mission with its reason and nothing spent that was not used."""

from __future__ import annotations

import io
from decimal import Decimal

import av
import pytest
from PIL import Image

from agents.budget import budget_cap_set, budget_for_month
from agents.errors import AgentsError
from agents.media.services import media_request
from agents.models import BudgetEntry, Mission
from agents.services import mission_run
from mesh.models import Artifact, Event
from mesh.services import artifact_read

pytestmark = pytest.mark.django_db


def _run(kind: str, **data) -> Mission:
    return mission_run(mission_id=media_request(kind=kind, data=data, via="test").pk)


def _content(mission: Mission, index: int = 0) -> bytes:
    return artifact_read(Artifact.objects.get(blake3=mission.output["artifacts"][index]["blake3"]))


def _entry(mission: Mission) -> BudgetEntry:
    return BudgetEntry.objects.get(mission=mission)


def test_an_image_is_generated_reserved_per_image_and_settled(fake_media):
    mission = _run("image", prompt="A kilo bar of gold", size="1024x1024", n=2)
    assert mission.status == Mission.Status.SUCCEEDED, mission.error
    sent = fake_media.calls("/v1/images/generations")[0]
    assert sent["body"] == {"model": "gpt-image-1", "prompt": "A kilo bar of gold", "size": "1024x1024", "n": 2}
    assert sent["headers"]["authorization"] == "Bearer sk-test-not-a-real-key"
    entry = _entry(mission)
    assert (entry.reserved_usd, entry.actual_usd, entry.status) == (Decimal("0.50"), Decimal("0.50"), "settled")
    assert mission.cost_usd == Decimal("0.50") == mission.receipt.cost_usd
    assert mission.forecast_usd == Decimal("0.50")
    assert [Image.open(io.BytesIO(_content(mission, i))).format for i in range(2)] == ["PNG", "PNG"]
    assert budget_for_month().reserved_usd == 0 and budget_for_month().spent_usd == Decimal("0.50")


def test_a_refused_prompt_ends_the_mission_and_spends_nothing(fake_media):
    fake_media.mode["images"] = "refuse"
    mission = _run("image", prompt="Something the safety system refuses")
    assert (mission.status, mission.stop_reason) == (Mission.Status.FAILED, Mission.StopReason.ERROR)
    assert mission.error.startswith("The provider refused the prompt:") and "Nothing spent." in mission.error
    assert mission.output["media"]["fault"] == "refused"
    assert (_entry(mission).actual_usd, mission.cost_usd) == (Decimal(0), Decimal(0))
    assert budget_for_month().committed_usd == 0


def test_a_provider_timeout_ends_the_mission_and_spends_nothing(fake_media, settings):
    settings.MEDIA_TIMEOUT_S = 0.3
    fake_media.mode["images"] = "timeout"
    fake_media.delay_s = 1.0
    mission = _run("image", prompt="A slow picture")
    assert (mission.status, mission.stop_reason) == (Mission.Status.FAILED, Mission.StopReason.TIMEOUT)
    assert "did not answer in time" in mission.error
    assert _entry(mission).actual_usd == 0 and mission.cost_usd == 0


def test_a_malformed_image_answer_ends_the_mission_and_spends_nothing(fake_media):
    fake_media.mode["images"] = "malformed"
    mission = _run("image", prompt="A picture")
    assert mission.status == Mission.Status.FAILED
    assert mission.output["media"]["fault"] == "malformed" and "not a readable PNG" in mission.error
    assert _entry(mission).actual_usd == 0 and not Artifact.objects.filter(media_type="image/png").exists()


def test_a_size_the_model_rejects_ends_the_mission_as_unsupported(fake_media, settings, monkeypatch):
    # A size this node lets through but the provider refuses (a model that changed its sizes).
    from agents.media import runner

    monkeypatch.setitem(runner.SIZES, ("image", "openai"), ("1024x1024", "2048x2048"))
    mission = _run("image", prompt="A big picture", size="2048x2048")
    assert mission.status == Mission.Status.FAILED and mission.output["media"]["fault"] == "unsupported"
    assert "does not support" in mission.error and _entry(mission).actual_usd == 0


def test_an_over_budget_request_is_refused_before_anything_is_called(fake_media):
    budget_cap_set(cap_usd=Decimal("0.60"), soft_limit_pct=80)
    with pytest.raises(AgentsError) as refused:
        media_request(kind="image", data={"prompt": "Three pictures", "n": 3})  # 3 x $0.25 > $0.60
    assert refused.value.code == "over_budget" and refused.value.status == 409
    with pytest.raises(AgentsError) as capped:
        media_request(kind="video", data={"prompt": "A clip", "seconds": 4}, budget_usd=Decimal("0.30"))
    assert capped.value.code == "mission_budget_too_small"  # 4 s x $0.10 = $0.40 over its own $0.30 cap
    assert not Mission.objects.exists() and not fake_media.requests


def test_a_budget_spent_before_the_call_stops_the_mission_without_calling(fake_media):
    mission = media_request(kind="image", data={"prompt": "A picture"})
    budget_cap_set(cap_usd=Decimal("0.10"), soft_limit_pct=80)
    mission = mission_run(mission_id=mission.pk)
    assert (mission.status, mission.stop_reason) == (Mission.Status.STOPPED, Mission.StopReason.BUDGET)
    assert not fake_media.requests and not BudgetEntry.objects.exists()


def test_speech_is_reserved_from_the_text_and_settled_per_second(fake_media):
    text = "Gold closed at a record high today. " * 2
    mission = _run("speech", text=text, voice="coral")
    assert mission.status == Mission.Status.SUCCEEDED, mission.error
    sent = fake_media.calls("/v1/audio/speech")[0]["body"]
    assert sent == {"model": "gpt-4o-mini-tts", "voice": "coral", "input": text.strip(), "response_format": "wav"}
    entry = _entry(mission)
    reserved_s = -(-len(text.strip()) // 8) + 2
    assert entry.reserved_usd == Decimal(reserved_s) * Decimal("0.00025")
    assert entry.actual_usd == Decimal(2) * Decimal("0.00025")  # 1.5 s of audio billed as 2 s
    with av.open(io.BytesIO(_content(mission))) as container:
        assert sum(f.samples for f in container.decode(audio=0)) == 36_000


def test_a_malformed_speech_answer_spends_nothing(fake_media):
    fake_media.mode["speech"] = "malformed"
    mission = _run("speech", text="Hello.")
    assert mission.status == Mission.Status.FAILED and mission.output["media"]["fault"] == "malformed"
    assert _entry(mission).actual_usd == 0


def test_a_video_is_created_polled_with_progress_and_downloaded(fake_media, django_capture_on_commit_callbacks):
    fake_media.polls_to_finish = 3
    with django_capture_on_commit_callbacks(execute=True):
        mission = _run("video", prompt="A coin spinning", size="1280x720", seconds=4)
    assert mission.status == Mission.Status.SUCCEEDED, mission.error
    create = fake_media.calls("/v1/videos")[0]
    assert (create["method"], create["body"]) == (
        "POST", {"prompt": "A coin spinning", "model": "sora-2", "seconds": "4", "size": "1280x720"}
    )  # fmt: skip
    assert create["headers"]["content-type"].startswith("multipart/form-data")
    assert len([r for r in fake_media.calls("/v1/videos/video_0001") if r["path"] == "/v1/videos/video_0001"]) == 3
    assert fake_media.calls("/v1/videos/video_0001/content")[0]["path"].endswith("variant=video")
    entry = _entry(mission)
    assert entry.reserved_usd == entry.actual_usd == Decimal("0.40")  # 4 s x $0.10
    progress = [e.payload["progress"] for e in Event.objects.filter(topic="mission.progress").order_by("id")]
    assert progress and progress == sorted(progress) and max(progress) < 100
    with av.open(io.BytesIO(_content(mission))) as container:
        assert len(list(container.decode(video=0))) == 8


def test_a_video_job_the_provider_fails_costs_nothing(fake_media):
    fake_media.mode["videos"] = "fail"
    mission = _run("video", prompt="Something moderated")
    assert mission.status == Mission.Status.FAILED and mission.output["media"]["fault"] == "refused"
    assert _entry(mission).actual_usd == 0


def test_livepeer_transcodes_to_the_renditions_and_is_priced_per_second(fake_media, settings):
    settings.LLM_PROVIDER = "offline"
    video = _run("video", prompt="A bar", size="64x64", seconds=2)
    settings.LIVEPEER_API_KEY = "lp-test-key"
    mission = _run("transcode", source=video.output["artifacts"][0]["blake3"])
    assert mission.status == Mission.Status.SUCCEEDED, mission.error
    assert (mission.provider, mission.model) == ("livepeer", "livepeer")
    upload = fake_media.calls("/api/asset/request-upload")[0]["body"]
    assert upload["staticMp4"] is True and [p["name"] for p in upload["profiles"]] == ["360p", "240p"]
    assert fake_media.calls("/upload/")[0]["method"] == "PUT"
    assert _entry(mission).actual_usd == Decimal(2 * 2) * Decimal("0.0001")  # 2 s x 2 renditions
    for index in range(2):
        with av.open(io.BytesIO(_content(mission, index))) as container:
            assert len(list(container.decode(video=0))) == 16


def test_a_failed_livepeer_asset_ends_the_mission_with_its_reason(fake_media, settings):
    settings.LLM_PROVIDER = "offline"
    video = _run("video", prompt="A bar", size="64x64", seconds=1)
    settings.LIVEPEER_API_KEY = "lp-test-key"
    fake_media.mode["livepeer"] = "fail"
    mission = _run("transcode", source=video.output["artifacts"][0]["blake3"])
    assert mission.status == Mission.Status.FAILED and "invalid video file" in mission.error


def test_a_video_job_left_waiting_is_counted_because_the_provider_bills_it(fake_media, settings):
    settings.MEDIA_VIDEO_MAX_WAIT_S = 0
    fake_media.polls_to_finish = 1000
    mission = _run("video", prompt="A very slow clip", seconds=4)
    assert (mission.status, mission.stop_reason) == (Mission.Status.FAILED, Mission.StopReason.TIMEOUT)
    assert "may still bill it" in mission.error and "Counted $0.400000" in mission.error
    assert _entry(mission).actual_usd == Decimal("0.40") == mission.cost_usd


def _cancel_on_first_poll(monkeypatch) -> None:
    """An operator presses Cancel while the provider works: the first progress report sees it."""
    from agents.media import runner

    reporter = runner._progress_reporter

    def cancelling(mission):
        Mission.objects.filter(pk=mission.pk).update(cancel_requested=True)
        return reporter(mission)

    monkeypatch.setattr(runner, "_progress_reporter", cancelling)


def test_a_video_job_cancelled_after_the_provider_accepted_it_is_counted(fake_media, monkeypatch):
    fake_media.polls_to_finish = 1000
    _cancel_on_first_poll(monkeypatch)
    mission = _run("video", prompt="A clip nobody wants any more", seconds=4)
    assert (mission.status, mission.stop_reason) == (Mission.Status.CANCELLED, Mission.StopReason.CANCELLED)
    assert "video job video_0001 was already accepted" in mission.error and "Counted $0.400000" in mission.error
    assert _entry(mission).actual_usd == Decimal("0.40") == mission.cost_usd
    assert budget_for_month().spent_usd == Decimal("0.40") and budget_for_month().reserved_usd == 0
    assert not fake_media.calls("/v1/videos/video_0001/content")  # nothing downloaded


def test_a_livepeer_transcode_cancelled_after_upload_is_counted(fake_media, settings, monkeypatch):
    settings.LLM_PROVIDER = "offline"
    video = _run("video", prompt="A bar", size="64x64", seconds=2)
    settings.LIVEPEER_API_KEY = "lp-test-key"
    fake_media.polls_to_finish = 1000
    _cancel_on_first_poll(monkeypatch)
    mission = _run("transcode", source=video.output["artifacts"][0]["blake3"])
    assert (mission.status, mission.stop_reason) == (Mission.Status.CANCELLED, Mission.StopReason.CANCELLED)
    assert "Livepeer Studio asset" in mission.error and "may still bill it" in mission.error
    assert _entry(mission).actual_usd == _entry(mission).reserved_usd > 0
