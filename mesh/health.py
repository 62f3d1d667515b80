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


def probe_peers() -> str:
    """Fail while a registered peer is quarantined or unreachable; no peers is healthy (a node may run alone)."""
    from mesh.models import Peer

    peers = list(Peer.objects.values_list("origin", "state", "unreachable_since"))
    if not peers:
        return "no peers registered"
    quarantined = [origin for origin, state, _ in peers if state == Peer.State.QUARANTINED]
    unreachable = [origin for origin, _, since in peers if since is not None]
    if quarantined:
        raise ProbeFailed(f"{len(quarantined)} of {len(peers)} peers quarantined: {', '.join(quarantined[:3])}")
    if unreachable:
        raise ProbeFailed(f"{len(unreachable)} of {len(peers)} peers unreachable: {', '.join(unreachable[:3])}")
    suspect = sum(1 for _, state, _ in peers if state == Peer.State.SUSPECT)
    return f"{len(peers)} peers reachable, {suspect} suspect"
