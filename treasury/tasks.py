"""Django-Q2 entry points for the treasury: run one snapshot; queue the scheduled ones."""

from __future__ import annotations

from dreamnet.schedules import schedule_every_minute
from treasury.models import Snapshot
from treasury.risk import snapshot_risk_store
from treasury.services import snapshot_run, snapshots_due

SNAPSHOT_SCHEDULE = "treasury: scheduled valuation snapshots"


def snapshot_run_task(snapshot_id: int) -> str:
    """Value the snapshot, then measure its risk (the Monte Carlo run happens here, in the worker)."""
    snapshot = snapshot_run(snapshot=Snapshot.objects.get(pk=snapshot_id))
    if snapshot.status == Snapshot.Status.DONE and snapshot.risk is None:
        snapshot_risk_store(snapshot=snapshot)
    return snapshot.status


def snapshots_due_task() -> list[int]:
    return [s.pk for s in snapshots_due()]


def schedules_ensure() -> None:
    schedule_every_minute(SNAPSHOT_SCHEDULE, "treasury.tasks.snapshots_due_task")
