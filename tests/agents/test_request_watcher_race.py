"""Request folder watcher under contention: three watcher processes scan one folder at once. Every file is taken
by exactly one of them, and each content makes exactly one mission."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents.models import Mission
from agents.watcher.models import RequestFile
from tests.conftest import subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
WATCHERS = 3
COPIES, CONTENTS = 5, 6
# Each watcher loads Django, says it is ready, then waits for the start signal so the scans overlap.
RUN = """
import os, pathlib, sys, time, django
django.setup()
from django.core.management import call_command
pathlib.Path(sys.argv[1] + ".ready." + sys.argv[2]).touch()
while not os.path.exists(sys.argv[1] + ".go"):
    time.sleep(0.005)
call_command("watch_requests", "--once")
"""


def test_racing_watchers_take_each_file_once(seeded, tmp_path):
    folder = tmp_path / "requests"
    folder.mkdir()
    then = time.time() - 60
    names = []
    for i in range(COPIES * CONTENTS):
        body = {"kind": "task", "agent": "orchestrator", "prompt": f"Request number {i % CONTENTS}."}
        path = folder / f"r{i:02d}.json"
        path.write_text(json.dumps(body))
        os.utime(path, (then, then))
        names.append(path.name)
    signal = str(tmp_path / "start")
    env = subprocess_env(DREAMNET_REQUESTS_DIR=str(folder), DREAMNET_REQUESTS_SETTLE_S="0")
    procs = [
        subprocess.Popen([sys.executable, "-c", RUN, signal, str(n)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
        for n in range(WATCHERS)
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("start.ready.*"))) < WATCHERS and time.monotonic() < deadline:
        time.sleep(0.05)
    Path(signal + ".go").touch()
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]

    prompts = sorted(Mission.objects.values_list("input__prompt", flat=True))
    assert prompts == [f"Request number {i}." for i in range(CONTENTS)]
    rows = RequestFile.objects.all()
    assert sorted(r.name for r in rows) == names  # each file taken exactly once
    assert sorted(r.status for r in rows) == ["duplicate"] * (CONTENTS * (COPIES - 1)) + ["processed"] * CONTENTS
    assert sorted(p.name for p in (folder / "processed").iterdir()) == names
    assert [p for p in folder.iterdir() if p.is_file()] == []
    assert list((folder / "processing").iterdir()) == []
