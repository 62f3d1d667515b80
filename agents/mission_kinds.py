"""The mission kinds agents offers to other apps through the platform registry (``dreamnet.missions``).

``brief``: a market brief written by the Market Analyst under the budget governor (commerce's daily
intelligence briefs ask for it by name; commerce imports nothing from agents).
"""

from __future__ import annotations

from typing import Any

from agents.llm import provider_name_configured
from agents.models import Mission
from agents.services import mission_create
from dreamnet.missions import MissionKind, MissionStatus, MissionTicket, mission_kind_register

BRIEF_AGENT = "analyst"


def brief_request(*, metals: list[str], audience: str, notes: str = "", via: str = "") -> MissionTicket:
    """Start a ``brief`` mission of the Market Analyst; AgentsError (over budget, no analyst) refuses."""
    data: dict[str, Any] = {"metals": metals, "audience": audience, "notes": notes}
    mission = mission_create(kind="brief", agent_slug=BRIEF_AGENT, via=via, data=data)
    return MissionTicket(id=mission.pk, kind="brief")


def mission_status_of(id: int) -> MissionStatus | None:
    mission = Mission.objects.filter(pk=id).first()
    if mission is None:
        return None
    text = str((mission.output or {}).get("text") or "") if mission.status == Mission.Status.SUCCEEDED else ""
    return MissionStatus(id=mission.pk, state=mission.status, text=text, model=mission.model or "")


def register() -> None:
    """Offer the kinds above (called from AgentsConfig.ready)."""
    mission_kind_register(
        "brief",
        MissionKind(
            request=brief_request,
            status=mission_status_of,
            ready=lambda: provider_name_configured() != "offline",
        ),
    )
