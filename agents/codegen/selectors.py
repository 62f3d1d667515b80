"""Codegen reads."""

from __future__ import annotations

from django.db.models import QuerySet

from agents.codegen.models import CodegenRun, Workspace

ROLES = ["specreader", "architect", "codesmith", "integrator", "qualityguard", "contentcraft"]


def runs_recent(limit: int = 50) -> QuerySet[CodegenRun]:
    return CodegenRun.objects.select_related("mission", "workspace").order_by("-created_at")[:limit]


def run_for_mission(mission_id: int) -> CodegenRun | None:
    # Through the mission's primary key: an id too large for the column then matches nothing instead of raising.
    return CodegenRun.objects.select_related("mission", "workspace").filter(mission__pk=mission_id).first()


def workspaces() -> QuerySet[Workspace]:
    return Workspace.objects.order_by("name")


def run_steps(run: CodegenRun) -> list[dict]:
    """Return the run's roles so far, in order: number, role, summary, cost, finished_at."""
    return [
        {"number": s.number, "role": s.output.get("role", ""), "summary": s.summary, "cost_usd": s.cost_usd,
         "finished_at": s.finished_at}
        for s in run.mission.steps.order_by("number")
    ]  # fmt: skip
