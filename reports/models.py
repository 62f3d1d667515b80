"""Reports: one row per report (its type, period, company, the mission that makes it, and what it produced),
and the per-company schedules that request them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse


class Report(models.Model):
    """A report requested on demand or by a schedule and made by a ``report`` mission.

    Its status is the mission's; the figures, narrative, HTML/PDF artifacts and receipt are filled in by the
    mission's runner (``reports.runner``).
    """

    class NarrativeSource(models.TextChoices):
        TEMPLATE = "template", "template (offline, no language model)"
        MODEL = "model", "language model"

    type = models.SlugField(max_length=30)
    company = models.ForeignKey(
        "commerce.Company", on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    period = models.CharField(max_length=30, help_text="2026-11, 2026-W48 or 2026-11-01..2026-11-15.")
    period_start = models.DateField()
    period_end = models.DateField(help_text="The period's last day (inclusive).")
    mission = models.OneToOneField(
        "agents.Mission", on_delete=models.PROTECT, null=True, blank=True, related_name="report"
    )
    schedule = models.ForeignKey(
        "ReportSchedule", on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    email_approvers = models.BooleanField(default=False, help_text="Send the PDF to the company's approvers.")
    figures = models.JSONField(null=True, blank=True)
    data_blake3 = models.CharField(max_length=64, blank=True, help_text="BLAKE3 of the canonical figures JSON.")
    narrative = models.TextField(blank=True)
    narrative_source = models.CharField(max_length=10, choices=NarrativeSource.choices, blank=True)
    narrative_model = models.CharField(max_length=100, blank=True)
    html = models.ForeignKey("mesh.Artifact", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    pdf = models.ForeignKey("mesh.Artifact", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    receipt = models.ForeignKey("mesh.Receipt", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    emailed_to = models.JSONField(default=list, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_via = models.CharField(max_length=120, blank=True, help_text="'page', 'console', 'api:<key>', 'schedule'.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Serves /reports/ (a company's reports, newest first).
            models.Index(fields=["company", "-created_at"], name="report_company_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="report_period_order"
            ),
            # A schedule reports on each of its periods once.
            models.UniqueConstraint(
                fields=["schedule", "period"],
                condition=models.Q(schedule__isnull=False),
                name="report_schedule_period_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} report {self.period}" + (f" for {self.company}" if self.company_id else "")

    def get_absolute_url(self) -> str:
        return reverse("reports:report", args=[self.pk])

    @property
    def status(self) -> str:
        """The mission's status (``queued`` … ``succeeded``); ``queued`` before the mission exists."""
        return self.mission.status if self.mission_id else "queued"

    @property
    def progress(self) -> int:
        return self.mission.progress if self.mission_id else 0


class ReportSchedule(models.Model):
    """Request a company report every month (on the 1st, for the month before) or every week (on Monday, for
    the week before), and e-mail it to the company's approvers."""

    class Cadence(models.TextChoices):
        MONTHLY = "monthly"
        WEEKLY = "weekly"

    company = models.ForeignKey("commerce.Company", on_delete=models.CASCADE, related_name="report_schedules")
    type = models.SlugField(max_length=30)
    cadence = models.CharField(max_length=8, choices=Cadence.choices, default=Cadence.MONTHLY)
    active = models.BooleanField(default=True)
    last_period = models.CharField(max_length=30, blank=True, help_text="The last period a report was requested for.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["company", "type", "cadence"]
        constraints = [
            models.UniqueConstraint(fields=["company", "type", "cadence"], name="reportschedule_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.cadence} {self.type} report for {self.company}"
