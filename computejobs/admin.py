from __future__ import annotations

from django.contrib import admin

from computejobs.models import ComputeJob


@admin.register(ComputeJob)
class ComputeJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "status", "progress", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in ComputeJob._meta.fields]
