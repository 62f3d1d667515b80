"""Codegen writes: register a workspace, start a run (a ``codegen`` mission run by the CodeGenerationTeam)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from agents.codegen import gitops
from agents.codegen.gates import path_problem
from agents.codegen.models import CodegenRun, Workspace
from agents.errors import AgentsError

TEAM_AGENT = "codegen-team"


def workspace_register(*, name: str, path: str, allowed_paths: list[str], test_command: str) -> Workspace:
    """Register (or update) the git repository ``path`` as workspace ``name``. Refuses a path that is not a git
    work tree, allowed paths that are absolute or climb out, and an empty test command. Locks nothing: the name is
    unique in the database."""
    root = Path(path).expanduser()
    if not root.is_absolute() or not gitops.is_repo(root):
        raise AgentsError(f"{path!r} is not an absolute path to a git work tree.", code="not_a_repository")
    allowed = [a.strip() for a in allowed_paths if a.strip()]
    if not allowed:
        raise AgentsError("Give at least one allowed path, e.g. apps/.", code="allowed_paths_required")
    for entry in allowed:
        problem = path_problem(entry.rstrip("/") or ".", [entry])
        if problem or entry.startswith("."):
            raise AgentsError(f"Allowed path {entry!r} must be relative and inside the workspace.", code="bad_path")
    if not test_command.strip():
        raise AgentsError("Give the command that runs the workspace's tests.", code="test_command_required")
    workspace, _ = Workspace.objects.update_or_create(
        name=name,
        defaults={"path": str(root.resolve()), "allowed_paths": allowed, "test_command": test_command.strip()},
    )
    return workspace


def codegen_run_start(*, workspace: str, spec: Any, by: User | None = None, via: str = "") -> CodegenRun:
    """Start a codegen mission on ``workspace`` for ``spec`` and create its run record in the same transaction
    (queued after commit, or held for approval by the mission governor). Raises AgentsError (unknown_workspace,
    invalid_spec with per-field ``errors``, freeform_needs_llm, budget refusals); nothing is created then."""
    from agents.services import mission_create

    with transaction.atomic():
        mission = mission_create(
            kind="codegen", agent_slug=TEAM_AGENT, data={"workspace": workspace, "spec": spec}, by=by, via=via
        )
        return CodegenRun.objects.create(
            mission=mission, workspace=Workspace.objects.get(name=mission.input["workspace"]),
            spec=mission.input["spec"],
        )  # fmt: skip
