"""Django-Q2 entry points of the foundry: the nightly evolution run."""

from __future__ import annotations

from typing import Any

from dreamnet.schedules import schedule_daily

NIGHTLY_SCHEDULE = "agents: foundry nightly evolution"


def evolution_nightly_task() -> dict[str, Any]:
    """Collect evaluation runs left uncollected, then breed and evaluate tonight's hybrids (breeding is a no-op
    while DREAMNET_FOUNDRY_NIGHTLY_HYBRIDS is 0)."""
    from agents.foundry.collect import evaluations_collect_pending
    from agents.foundry.services import evolution_nightly

    collected = evaluations_collect_pending()
    return evolution_nightly() | {"collected_runs": collected}


def schedule_ensure() -> None:
    """Ensure the daily schedule, first run at the next 03:00 UTC (kept when it exists); the task itself checks
    whether evolution is on."""
    schedule_daily(NIGHTLY_SCHEDULE, "agents.foundry.tasks.evolution_nightly_task", hour=3)
