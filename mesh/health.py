"""The mesh_log health probe: the log answers, and checkpoints keep up with appends."""

from __future__ import annotations

from django.utils import timezone

from dreamnet.health import ProbeFailed
from mesh.log import latest_checkpoint, log_size

MAX_UNSIGNED_AGE_S = 120


def probe_mesh_log() -> str:
    size = log_size()
    checkpoint = latest_checkpoint()
    if size == 0:
        return "log is empty"
    if checkpoint is None or checkpoint.size < size:
        covered = checkpoint.size if checkpoint else 0
        since = checkpoint.created_at if checkpoint else None
        age = (timezone.now() - since).total_seconds() if since else None
        if age is None or age > MAX_UNSIGNED_AGE_S:
            raise ProbeFailed(
                f"{size - covered} entries are not covered by a checkpoint; the last was signed "
                + (f"{age:.0f} s ago" if age is not None else "never")
                + " (run `manage.py mesh_checkpoint`, and check the task cluster)"
            )
    return f"{size} entries; checkpoint at size {checkpoint.size if checkpoint else 0}"
