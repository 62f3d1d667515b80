"""Offline: a structured resource spec becomes a patch that applies to the demo workspace and whose generated
tests pass QualityGuard; the mbox applies with ``git am`` in a fresh clone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from agents.codegen.services import codegen_run_start
from agents.models import Mission
from agents.services import mission_run
from tests.codegen.conftest import SPEC

pytestmark = pytest.mark.django_db


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_a_resource_spec_becomes_a_gated_patch(workspace, tmp_path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = codegen_run_start(workspace="demo", spec=SPEC)
    mission = mission_run(mission_id=run.mission_id)
    run.refresh_from_db()
    assert mission.status == Mission.Status.SUCCEEDED, (mission.error, run.gates)
    assert [g["gate"] for g in run.gates] == ["parse", "ruff", "paths", "stubs", "tests"]
    assert all(g["passed"] for g in run.gates)
    assert "Ran " in run.gates[-1]["output"] and "OK" in run.gates[-1]["output"]
    roles = [s.output["role"] for s in mission.steps.order_by("number")]
    assert roles == ["specreader", "architect", "codesmith", "integrator", "qualityguard", "contentcraft"]
    assert all("offline" in s.summary for s in mission.steps.all() if s.output["role"] in ("specreader", "codesmith"))
    assert mission.cost_usd == 0 and not mission.llm_calls.exists()
    assert "+++ b/apps/supplier/api.py" in run.diff and run.title.startswith("Add the Supplier resource")

    # The diff applies to a clean checkout of the workspace and its tests pass there (workspace tests included).
    clone = tmp_path / "clone"
    _git("clone", "--quiet", workspace.path, str(clone), cwd=tmp_path)
    subprocess.run(["git", "apply", "-"], cwd=clone, input=run.diff, text=True, check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DREAMNET", "DATABASE"))}
    tests = subprocess.run([sys.executable, "manage.py", "test", "--noinput"], cwd=clone, capture_output=True,
                           text=True, env=env)  # fmt: skip
    assert tests.returncode == 0, tests.stderr
    assert "Ran 10 tests" in tests.stderr

    # The mbox is one commit that `git am` applies in a fresh clone.
    fresh = tmp_path / "fresh"
    _git("clone", "--quiet", workspace.path, str(fresh), cwd=tmp_path)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "am"], cwd=fresh,
                   input=run.mbox, text=True, check=True, capture_output=True)  # fmt: skip
    assert _git("log", "-1", "--format=%s", cwd=fresh).strip() == run.title
    assert (fresh / "apps/supplier/models.py").exists()
    assert _git("status", "--porcelain", cwd=fresh) == ""


def test_a_resumed_run_skips_the_roles_already_stored(workspace, django_capture_on_commit_callbacks, monkeypatch):
    from agents.codegen import runner
    from agents.models import MissionStep

    with django_capture_on_commit_callbacks(execute=False):
        run = codegen_run_start(workspace="demo", spec=SPEC)
    real = runner.Team.qualityguard

    def die(self, *args, **kwargs):
        raise SystemExit  # the worker dies before QualityGuard's step is stored

    monkeypatch.setattr(runner.Team, "qualityguard", die)
    with pytest.raises(SystemExit):
        mission_run(mission_id=run.mission_id)
    stored = list(MissionStep.objects.filter(mission_id=run.mission_id).values_list("pk", flat=True))
    assert len(stored) == 4
    monkeypatch.setattr(runner.Team, "qualityguard", real)
    Mission.objects.filter(pk=run.mission_id).update(lease_until=None)
    mission = mission_run(mission_id=run.mission_id)
    assert mission.status == Mission.Status.SUCCEEDED and mission.attempts == 2
    steps = mission.steps.order_by("number")
    assert [s.pk for s in steps][:4] == stored and steps.count() == 6


def test_the_demo_workspace_command(tmp_path, db):
    from django.core.management import call_command

    from agents.codegen.models import Workspace

    call_command("codegen_init_workspace", str(tmp_path / "ws"), "--name", "try-it")
    workspace = Workspace.objects.get(name="try-it")
    assert workspace.allowed_paths == ["apps/"] and (tmp_path / "ws" / ".git").is_dir()
    assert (tmp_path / "ws" / "demo" / "urls.py").exists()


def test_a_new_node_gets_the_demo_workspace_once(db, settings):
    import io

    from django.apps import apps

    from agents.codegen.models import Workspace

    out = io.StringIO()
    apps.get_app_config("agents").serve_setup(out)
    apps.get_app_config("agents").serve_setup(out)
    workspace = Workspace.objects.get()
    assert workspace.name == "demo" and workspace.path.startswith(str(settings.DREAMNET_HOME))
    assert "Workspace 'demo'" in out.getvalue()
