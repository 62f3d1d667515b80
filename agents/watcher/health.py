"""The request_folder health probe: the folder is usable, and nobody's request waits there unanswered."""

from __future__ import annotations

import os
import time
from itertools import islice
from pathlib import Path

from django.conf import settings

from agents.watcher.services import is_ignored
from dreamnet.health import ProbeFailed

# The scheduled scan runs every minute: a settled file still there after this long has no watcher taking it.
STUCK_AFTER_S = 180
MAX_LISTED = 1000  # the probe runs every few seconds; a flooded folder is not listed in full


def probe_request_folder() -> str:
    directory = Path(settings.REQUESTS_DIR)
    if not directory.is_dir():
        return "no request folder yet (the first scan creates it)"
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ProbeFailed("this node cannot write to the request folder (DREAMNET_REQUESTS_DIR)")
    now = time.time()
    waiting = stuck = 0
    with os.scandir(directory) as entries:
        for entry in islice(entries, MAX_LISTED):
            if is_ignored(entry.name) or not entry.is_file(follow_symlinks=False):
                continue
            waiting += 1
            if now - entry.stat(follow_symlinks=False).st_mtime > settings.REQUESTS_SETTLE_S + STUCK_AFTER_S:
                stuck += 1
    if stuck:
        raise ProbeFailed(
            f"{stuck} request file(s) have waited over {STUCK_AFTER_S // 60} minutes; is the task cluster "
            "(or `manage.py watch_requests`) running?"
        )
    return f"{waiting} request file(s) waiting"
