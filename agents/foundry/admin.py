"""Admin: evaluation sets with their cases inline (a case's check is validated: a bad one is a field error),
hybrids and evaluations as read-only records, telemetry."""

from __future__ import annotations

from django.contrib import admin

from agents.foundry.models import AgentTelemetry, Evaluation, EvaluationCase, EvaluationSet, Hybrid


class EvaluationCaseInline(admin.TabularInline):
    model = EvaluationCase
    extra = 1
    fields = ["position", "prompt", "check_kind", "check_spec"]


@admin.register(EvaluationSet)
class EvaluationSetAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [EvaluationCaseInline]


@admin.register(Hybrid)
class HybridAdmin(admin.ModelAdmin):
    list_display = ["child", "parent_a", "parent_b", "seed", "generation", "promoted_at", "created_at"]
    readonly_fields = [f.name for f in Hybrid._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ["pk", "hybrid", "evaluation_set", "status", "created_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in Evaluation._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AgentTelemetry)
class AgentTelemetryAdmin(admin.ModelAdmin):
    list_display = ["agent", "source", "success_rate", "mean_cost_usd", "mean_latency_ms", "eval_score",
                    "sample_size", "recorded_at"]  # fmt: skip
    list_filter = ["source"]
