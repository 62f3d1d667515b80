"""Codegen workspaces (target git repositories) and codegen runs (one per codegen mission)."""

from __future__ import annotations

from django.db import models
from django.urls import reverse

__all__ = ["CodegenRun", "Workspace"]


class Workspace(models.Model):
    """A git repository the team may patch: where it is, which paths a patch may touch, how its tests run."""

    name = models.SlugField(max_length=60, unique=True)
    path = models.CharField(max_length=500, help_text="Absolute path of the git repository on this node.")
    allowed_paths = models.JSONField(
        default=list, help_text='Relative folders (or files) a patch may write, e.g. ["apps/"].'
    )
    test_command = models.CharField(
        max_length=500, help_text="Run in the checkout's root; {python} stands for DreamNet's own interpreter."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=~models.Q(path=""), name="workspace_path_not_empty")]

    def __str__(self) -> str:
        return self.name


class CodegenRun(models.Model):
    """What a codegen mission produced so far: the role it is in, its gate report, the patch and the PR text."""

    class Role(models.TextChoices):
        SPECREADER = "specreader", "SpecReader"
        ARCHITECT = "architect", "Architect"
        CODESMITH = "codesmith", "CodeSmith"
        INTEGRATOR = "integrator", "Integrator"
        QUALITYGUARD = "qualityguard", "QualityGuard"
        CONTENTCRAFT = "contentcraft", "ContentCraft"
        DONE = "done", "Done"

    mission = models.OneToOneField("agents.Mission", on_delete=models.CASCADE, related_name="codegen")
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="runs")
    spec = models.JSONField()
    current_role = models.CharField(max_length=12, choices=Role.choices, blank=True)
    base_commit = models.CharField(max_length=40, blank=True)
    files = models.JSONField(default=dict, blank=True, help_text="The latest CodeSmith output: {path: content}.")
    gates = models.JSONField(default=list, blank=True, help_text="The latest QualityGuard report, gate by gate.")
    gates_passed = models.BooleanField(null=True)
    review_rounds = models.PositiveSmallIntegerField(default=0)
    diff = models.TextField(blank=True)
    mbox = models.TextField(blank=True)
    title = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    changelog_line = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The console's and a workspace page's "latest runs" list.
            models.Index(fields=["workspace", "-created_at"], name="codegenrun_ws_recent"),
        ]

    def __str__(self) -> str:
        return f"codegen run of mission {self.mission_id}"

    def get_absolute_url(self) -> str:
        return reverse("agents:codegen-run", args=[self.mission_id])
