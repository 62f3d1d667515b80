from __future__ import annotations

from django.contrib import admin

from reports.models import Report, ReportSchedule


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "company", "period", "status", "narrative_source", "emailed_at", "created_at")
    list_filter = ("type", "narrative_source")
    search_fields = ("company__slug", "company__name", "period", "data_blake3")
    raw_id_fields = ("company", "mission", "schedule", "html", "pdf", "receipt", "created_by")
    readonly_fields = ("figures", "data_blake3", "narrative", "narrative_source", "narrative_model", "html", "pdf",
                       "receipt", "emailed_to", "emailed_at", "created_at")  # fmt: skip

    @admin.display(description="status")
    def status(self, obj: Report) -> str:
        return obj.status


@admin.register(ReportSchedule)
class ReportScheduleAdmin(admin.ModelAdmin):
    list_display = ("company", "type", "cadence", "active", "last_period", "created_at")
    list_filter = ("cadence", "active", "type")
    search_fields = ("company__slug", "company__name")
    raw_id_fields = ("company",)
