"""Django-Q2 entry points for missions: thin, they take ids."""

from __future__ import annotations

from dreamnet.schedules import schedule_every_minute

RECOVER_SCHEDULE = "agents: recover missions"


def mission_run_task(mission_id: int) -> str | None:
    """Run or resume mission ``mission_id``; return its final status (None when another worker holds it)."""
    from agents.services import mission_run

    mission = mission_run(mission_id=mission_id)
    return mission.status if mission else None


def missions_recover_task() -> int:
    """Queue again missions whose worker died or whose task was lost."""
    from agents.services import missions_recover

    return missions_recover()


def schedule_ensure() -> None:
    schedule_every_minute(RECOVER_SCHEDULE, "agents.tasks.missions_recover_task")
