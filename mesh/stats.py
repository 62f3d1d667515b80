from __future__ import annotations

from dreamnet.stats import stat
from mesh.log import latest_checkpoint, log_size


@stat("events_sealed", label="events sealed")
def events_sealed() -> tuple[str, str]:
    size = log_size()
    if size == 0:
        return "0", "no events yet"
    checkpoint = latest_checkpoint()
    return f"{size:,}", (f"checkpoint signed at {checkpoint.size:,}" if checkpoint else "first checkpoint pending")
