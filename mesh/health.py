"""The mesh_log health probe: the log answers, and checkpoints keep up with appends."""

from __future__ import annotations

from django.utils import timezone

from dreamnet.health import ProbeFailed
from mesh.log import latest_checkpoint, log_size
from mesh.models import LogEntry

# Entries normally get a checkpoint within a second; the scheduled task catches up within a minute.
MAX_UNSIGNED_AGE_S = 120


def probe_mesh_log() -> str:
    size = log_size()
    checkpoint = latest_checkpoint()
    covered = checkpoint.size if checkpoint else 0
    if size == 0:
        return "log is empty"
    if covered < size:
        oldest = LogEntry.objects.filter(index=covered).values_list("created_at", flat=True).first()
        waiting = (timezone.now() - oldest).total_seconds() if oldest else 0
        if waiting > MAX_UNSIGNED_AGE_S:
            raise ProbeFailed(
                f"{size - covered} entries have waited {waiting:.0f} s for a checkpoint "
                "(run `manage.py mesh_checkpoint`, and check the task cluster)"
            )
    return f"{size} entries; checkpoint at size {covered}"
