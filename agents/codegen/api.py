"""/api/codegen: start a CodeGenerationTeam run, follow its roles and gates, download the patch.

Every operation needs an API key with the ``codegen`` scope in ``X-DREAMNET-KEY``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from agents.codegen import selectors
from agents.codegen.services import codegen_run_start
from dreamnet.ninja import AUTH_ERRORS, ApiError, ErrorOut, require_scope

router = Router(tags=["codegen"], auth=require_scope("codegen"))


class RunIn(Schema):
    workspace: str = Field(description="Name of a registered workspace, e.g. `demo`.")
    spec: dict[str, Any] = Field(
        description="A structured resource `{name, fields: [{name, type, required, max_length, unique}], "
        "operations}` or, with a language model configured, a free-form `{request}`."
    )


class FieldError(Schema):
    field: str
    message: str


class SpecErrorOut(Schema):
    detail: str
    code: str
    errors: list[FieldError] = []


class RunOut(Schema):
    mission: int
    status: str
    status_url: str
    pr_url: str


class RoleOut(Schema):
    number: int
    role: str
    summary: str
    cost_usd: Decimal
    finished_at: datetime


class StatusOut(Schema):
    mission: int
    workspace: str
    status: str
    error: str
    current_role: str
    roles: list[RoleOut]
    gates: list[dict[str, Any]]
    gates_passed: bool | None
    review_rounds: int
    cost_usd: Decimal


class PrOut(Schema):
    mission: int
    status: str
    title: str
    description: str
    changelog: str
    diff: str
    mbox: str
    gates: list[dict[str, Any]]
    gates_passed: bool | None
    review_rounds: int
    cost_usd: Decimal
    base_commit: str


@router.post(
    "/run", response={201: RunOut, 404: ErrorOut, 409: ErrorOut, 422: SpecErrorOut, **AUTH_ERRORS},
    summary="Start a codegen run",
)  # fmt: skip
def run_start(request: HttpRequest, payload: RunIn):
    """Start the team on ``workspace`` for ``spec``; follow it with `/status/{mission}`, download `/pr/{mission}`."""
    run = codegen_run_start(
        workspace=payload.workspace, spec=payload.spec, via=f"api:{request.api_key.prefix}"
    )  # fmt: skip
    return Status(
        201,
        {"mission": run.mission_id, "status": run.mission.status, "status_url": f"/api/codegen/status/{run.mission_id}",
         "pr_url": f"/api/codegen/pr/{run.mission_id}"},
    )  # fmt: skip


def _run(mission_id: int):
    run = selectors.run_for_mission(mission_id)
    if run is None:
        raise ApiError(404, "unknown_mission", f"No codegen run has mission id {mission_id}.")
    return run


@router.get("/status/{mission_id}", response={200: StatusOut, 404: ErrorOut, **AUTH_ERRORS}, summary="Run status")
def run_status(request: HttpRequest, mission_id: int):
    """Return the current role, the roles done so far, the gate report so far and the cost."""
    run = _run(mission_id)
    return {
        "mission": run.mission_id, "workspace": run.workspace.name, "status": run.mission.status,
        "error": run.mission.error, "current_role": run.current_role, "roles": selectors.run_steps(run),
        "gates": run.gates, "gates_passed": run.gates_passed, "review_rounds": run.review_rounds,
        "cost_usd": run.mission.cost_usd,
    }  # fmt: skip


@router.get("/pr/{mission_id}", response={200: PrOut, 404: ErrorOut, 409: ErrorOut, **AUTH_ERRORS}, summary="The patch")
def run_pr(request: HttpRequest, mission_id: int):
    """Return the unified diff, the mbox (`git am` applies it), PR title and description, gate report and cost.
    409 ``not_finished`` until the mission has ended."""
    run = _run(mission_id)
    if not run.mission.is_terminal:
        raise ApiError(409, "not_finished", f"Mission {mission_id} is {run.mission.status}; ask again when it ends.")
    return {
        "mission": run.mission_id, "status": run.mission.status, "title": run.title,
        "description": run.description, "changelog": run.changelog_line, "diff": run.diff, "mbox": run.mbox,
        "gates": run.gates, "gates_passed": run.gates_passed, "review_rounds": run.review_rounds,
        "cost_usd": run.mission.cost_usd, "base_commit": run.base_commit,
    }  # fmt: skip
