"""What the mission services share: the event payload every mission event carries, and queuing a run."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from agents.models import Mission

ZERO = Decimal(0)
RECEIPT_STATUS = {
    Mission.Status.SUCCEEDED: "succeeded",
    Mission.Status.CANCELLED: "cancelled",
    Mission.Status.FAILED: "failed",
    Mission.Status.STOPPED: "failed",
}


def mission_payload(mission: Mission, **extra: Any) -> dict[str, Any]:
    """Return a mission event's payload: ``mission``, ``kind``, ``agent`` and ``status``, then ``extra``."""
    return {"mission": mission.pk, "kind": mission.kind, "agent": mission.agent.slug, "status": mission.status} | extra


def enqueue_after_commit(mission: Mission) -> None:
    """Queue ``agents.tasks.mission_run_task`` for ``mission`` once the caller's transaction commits."""
    from django_q.tasks import async_task

    mission_id = mission.pk
    transaction.on_commit(lambda: async_task("agents.tasks.mission_run_task", mission_id, group="missions"))
