"""The mission-kind registry: apps ask for missions by kind name; an unknown kind is a clear refusal."""

from __future__ import annotations

import pytest

from dreamnet import missions
from dreamnet.errors import DomainError
from dreamnet.missions import (
    MissionError,
    MissionKind,
    MissionKindUnknown,
    MissionStatus,
    MissionTicket,
    mission_kind_ready,
    mission_kind_register,
    mission_request,
    mission_status,
)


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(missions, "_kinds", {})


def test_a_registered_kind_is_requested_and_read_by_name(registry):
    asked = []

    def request(**params):
        asked.append(params)
        return MissionTicket(id=7, kind="echo")

    mission_kind_register(
        "echo", MissionKind(request=request, status=lambda id: MissionStatus(id=id, state="succeeded", text="hi"))
    )
    assert mission_kind_ready("echo")
    assert mission_request(kind="echo", words=["a"]) == MissionTicket(id=7, kind="echo")
    assert asked == [{"words": ["a"]}]
    status = mission_status(7, kind="echo")
    assert status.succeeded and status.text == "hi"


def test_an_unregistered_kind_is_refused_naming_it_and_the_offered_ones(registry):
    mission_kind_register("echo", MissionKind(request=lambda: None, status=lambda id: None))
    with pytest.raises(MissionKindUnknown, match=r"No app on this node runs 'brief' missions \(offered kinds: echo\)"):
        mission_request(kind="brief")
    with pytest.raises(MissionKindUnknown):
        mission_status(1, kind="brief")


def test_a_runner_refusal_comes_back_as_a_mission_error_with_its_detail(registry):
    def refuse(**params):
        raise DomainError("Over this month's budget.", code="over_budget", status=402)

    mission_kind_register("costly", MissionKind(request=refuse, status=lambda id: None))
    with pytest.raises(MissionError) as exc:
        mission_request(kind="costly")
    assert (exc.value.detail, exc.value.code, exc.value.status) == ("Over this month's budget.", "over_budget", 402)


def test_agents_offers_the_brief_kind():
    assert "brief" in missions._kinds
