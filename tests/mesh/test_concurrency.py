"""One sequencer: four processes publishing at once get indexes 0..1999 with no gap or duplicate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mesh import merkle
from mesh.log import log_size, tree_root
from mesh.models import Event, LogEntry
from tests.conftest import subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
WORKERS, EACH = 4, 500
SCRIPT = """
import sys, django
django.setup()
import mesh
worker = int(sys.argv[1])
for i in range(int(sys.argv[2])):
    mesh.publish("load.test", {"worker": worker, "i": i})
"""


def test_concurrent_publishers_get_gapless_unique_indexes():
    env = subprocess_env()
    procs = [
        subprocess.Popen([sys.executable, "-c", SCRIPT, str(w), str(EACH)], cwd=ROOT, env=env, stderr=subprocess.PIPE)
        for w in range(WORKERS)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()[-2000:]

    total = WORKERS * EACH
    assert log_size() == total
    assert sorted(Event.objects.values_list("log_index", flat=True)) == list(range(total))
    per_worker = {
        w: sorted(Event.objects.filter(payload__worker=w).values_list("payload__i", flat=True)) for w in range(WORKERS)
    }
    assert all(values == list(range(EACH)) for values in per_worker.values())
    tree = merkle.MemoryTree(bytes(e.entry) for e in LogEntry.objects.order_by("index"))
    assert tree_root(total) == merkle.root(total, tree)
