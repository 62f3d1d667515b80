"""Admin for agents, prices and budgets (editable) and for missions, steps, calls and the ledger (read-only:
they are records of what happened)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from agents.budget import budget_cap_set, month_of
from agents.foundry.models import Hybrid
from agents.models import (
    Agent,
    Budget,
    BudgetEntry,
    LlmCall,
    MediaPrice,
    Mission,
    MissionStep,
    ModelPrice,
    RequestFile,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "version", "status", "model", "fallback_model", "max_turns", "max_tokens"]
    list_filter = ["status"]
    search_fields = ["slug", "name", "role"]

    def get_readonly_fields(self, request: HttpRequest, obj: Agent | None = None) -> list[str]:
        # A draft hybrid becomes active only by promotion (hybrid_promote: a complete evaluation where it beats
        # both parents, and foundry.hybrid.promoted), never by editing its status here.
        if obj is not None and obj.status == Agent.Status.DRAFT and Hybrid.objects.filter(child=obj).exists():
            return [*self.readonly_fields, "status"]
        return list(self.readonly_fields)


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):
    list_display = ["model", "provider", "input_per_mtok", "cached_input_per_mtok", "output_per_mtok", "effective_from"]
    list_filter = ["provider"]
    search_fields = ["model"]
    date_hierarchy = "effective_from"


@admin.register(MediaPrice)
class MediaPriceAdmin(admin.ModelAdmin):
    list_display = ["model", "provider", "unit", "usd_per_unit", "effective_from", "source"]
    list_filter = ["provider", "unit"]
    search_fields = ["model"]
    date_hierarchy = "effective_from"


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ["month", "cap_usd", "soft_limit_pct", "spent_usd", "reserved_usd", "soft_warned_at"]
    # The totals are the governor's; editing them by hand would break spend <= cap.
    readonly_fields = ["month", "spent_usd", "reserved_usd", "soft_warned_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the governor creates each month's row, starting from the previous month's cap

    def get_readonly_fields(self, request: HttpRequest, obj: Budget | None = None) -> list[str]:
        if obj is not None and obj.month != month_of():
            return [*self.readonly_fields, "cap_usd", "soft_limit_pct"]  # a past month is a record
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Budget, form, change: bool) -> None:
        # Through the governor: it takes the month's row lock and re-arms the soft-limit warning. A past month has
        # no editable field, so there is nothing to save.
        if obj.month == month_of():
            budget_cap_set(cap_usd=obj.cap_usd, soft_limit_pct=obj.soft_limit_pct)


@admin.register(BudgetEntry)
class BudgetEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "mission", "agent", "model", "status", "reserved_usd", "actual_usd"]
    list_filter = ["status", "model"]


class MissionStepInline(admin.TabularInline):
    model = MissionStep
    fields = ["number", "summary", "cost_usd", "finished_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Mission)
class MissionAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "agent", "status", "stop_reason", "turns", "cost_usd", "created_at"]
    list_filter = ["status", "kind", "stop_reason"]
    inlines = [MissionStepInline]


@admin.register(MissionStep)
class MissionStepAdmin(ReadOnlyAdmin):
    list_display = ["mission", "number", "summary", "cost_usd", "finished_at"]


@admin.register(LlmCall)
class LlmCallAdmin(ReadOnlyAdmin):
    list_display = [
        "mission",
        "seq",
        "provider",
        "model",
        "status",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "latency_ms",
    ]
    list_filter = ["provider", "status", "model"]


@admin.register(RequestFile)
class RequestFileAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "name", "format", "status", "code", "mission", "moved_to"]
    list_filter = ["status", "format", "code"]
    search_fields = ["name", "blake3", "claim"]


import agents.dreamstar.admin  # noqa: E402  (registers the dreamstar admin)
import agents.foundry.admin  # noqa: E402,F401  (registers the foundry admin)
from agents.codegen import admin as _codegen_admin  # noqa: E402,F401  (registers the codegen admin)
