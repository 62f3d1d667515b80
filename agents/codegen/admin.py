"""Admin for codegen workspaces and runs (runs are read-only: they are written by the team)."""

from __future__ import annotations

from django.contrib import admin

from agents.codegen.models import CodegenRun, Workspace


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "path", "test_command", "created_at")
    search_fields = ("name", "path")


@admin.register(CodegenRun)
class CodegenRunAdmin(admin.ModelAdmin):
    list_display = ("mission", "workspace", "current_role", "gates_passed", "review_rounds", "created_at")
    list_filter = ("workspace", "gates_passed")
    readonly_fields = [f.name for f in CodegenRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
