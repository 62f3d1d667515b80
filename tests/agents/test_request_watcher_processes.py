"""Request folder watcher as real processes: three watchers scan one folder at once (every file is taken by
exactly one of them, and each content makes exactly one mission), and the foreground command stops cleanly on
Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
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
    start = str(tmp_path / "start")
    env = subprocess_env(DREAMNET_REQUESTS_DIR=str(folder), DREAMNET_REQUESTS_SETTLE_S="0")
    procs = [
        subprocess.Popen([sys.executable, "-c", RUN, start, str(n)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
        for n in range(WATCHERS)
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("start.ready.*"))) < WATCHERS and time.monotonic() < deadline:
        time.sleep(0.05)
    Path(start + ".go").touch()
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


def test_watch_requests_runs_in_the_foreground_until_ctrl_c(seeded, tmp_path):
    folder = tmp_path / "requests"
    env = subprocess_env(DREAMNET_REQUESTS_DIR=str(folder), DREAMNET_REQUESTS_SETTLE_S="0")
    cmd = [sys.executable, "manage.py", "watch_requests", "--interval", "0.2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (folder / "processing").is_dir() and time.monotonic() < deadline:
            time.sleep(0.05)
        (folder / "drop.yaml.part").write_text("kind: task\nagent: orchestrator\nprompt: Dropped while watching.\n")
        os.rename(folder / "drop.yaml.part", folder / "drop.yaml")  # renamed into place
        while not (folder / "processed" / "drop.yaml").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err.decode()[-2000:]
    mission = Mission.objects.get()
    assert mission.input == {"prompt": "Dropped while watching."}
    text = out.decode()
    assert f"drop.yaml: mission {mission.pk} created" in text and text.rstrip().endswith("Stopped.")
