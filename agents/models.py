"""Agent missions: the agent registry, the price table, the budget ledger, missions, their steps and the LLM
call cassette.

Money is ``Decimal`` in US dollars with six decimal places (LLM calls cost fractions of a cent). The budget row
of a month is the governor's lock: every reservation and settlement takes it ``FOR UPDATE``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse

USD = {"max_digits": 14, "decimal_places": 6}
PRICE = {"max_digits": 12, "decimal_places": 6}


class Agent(models.Model):
    """A configured agent: who it is (slug, role, version) and its traits (model, prompt, tools, limits)."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        ACTIVE = "active"
        RETIRED = "retired"

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    # Traits. An empty model means DREAMNET_LLM_MODEL; the offline provider ignores models.
    model = models.CharField(max_length=100, blank=True)
    fallback_model = models.CharField(
        max_length=100, blank=True, help_text="Cheaper model used once the month's spend passes the soft limit."
    )
    temperature = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    system_prompt = models.TextField(blank=True)
    tools = models.JSONField(default=list, blank=True, help_text="Names of built-in tools the agent may call.")
    max_tokens = models.PositiveIntegerField(default=1024)
    max_turns = models.PositiveIntegerField(default=8)
    monthly_cap_usd = models.DecimalField(
        **USD, null=True, blank=True, help_text="Optional cap on this agent's spend per calendar month."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(condition=models.Q(max_tokens__gte=1), name="agent_max_tokens_positive"),
            models.CheckConstraint(condition=models.Q(max_turns__gte=1), name="agent_max_turns_positive"),
            models.CheckConstraint(
                condition=models.Q(temperature__isnull=True) | models.Q(temperature__gte=0, temperature__lte=2),
                name="agent_temperature_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ModelPrice(models.Model):
    """What a model costs per million tokens from ``effective_from`` on (the latest date not in the future wins)."""

    model = models.CharField(max_length=100)
    provider = models.CharField(max_length=20, default="openai")
    input_per_mtok = models.DecimalField(**PRICE)
    cached_input_per_mtok = models.DecimalField(**PRICE)
    output_per_mtok = models.DecimalField(**PRICE)
    effective_from = models.DateField()
    source = models.CharField(max_length=200, blank=True, help_text="Where the price was read, and when.")

    class Meta:
        ordering = ["model", "-effective_from"]
        constraints = [
            # Also serves the governor's lookup: latest effective_from <= today for one model.
            models.UniqueConstraint(fields=["model", "effective_from"], name="modelprice_one_per_day"),
            models.CheckConstraint(
                condition=models.Q(input_per_mtok__gte=0, cached_input_per_mtok__gte=0, output_per_mtok__gte=0),
                name="modelprice_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} from {self.effective_from}"


class MediaPrice(models.Model):
    """What a media model costs per unit (an image, or a second of video or audio) from ``effective_from`` on.

    The media half of the price table: the governor reserves ``units x usd_per_unit`` before a media call and
    settles what the call produced. The latest row whose date is not in the future wins.
    """

    class Unit(models.TextChoices):
        IMAGE = "image"
        SECOND = "second"

    model = models.CharField(max_length=100)
    provider = models.CharField(max_length=20, default="openai")
    unit = models.CharField(max_length=8, choices=Unit.choices)
    usd_per_unit = models.DecimalField(**PRICE)
    effective_from = models.DateField()
    source = models.CharField(max_length=200, blank=True, help_text="Where the price was read, and when.")

    class Meta:
        ordering = ["model", "-effective_from"]
        constraints = [
            # Also serves the governor's lookup: latest effective_from <= today for one model.
            models.UniqueConstraint(fields=["model", "effective_from"], name="mediaprice_one_per_day"),
            models.CheckConstraint(condition=models.Q(usd_per_unit__gte=0), name="mediaprice_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.model} ${self.usd_per_unit}/{self.unit} from {self.effective_from}"


class Budget(models.Model):
    """One calendar month's envelope (UTC). ``reserved_usd`` + ``spent_usd`` never exceed ``cap_usd``.

    The totals are kept on this row so the governor decides with one locked read; the ledger holds the detail.
    """

    month = models.DateField(unique=True, help_text="First day of the month (UTC).")
    cap_usd = models.DecimalField(**USD)
    soft_limit_pct = models.PositiveSmallIntegerField(default=80)
    reserved_usd = models.DecimalField(**USD, default=Decimal(0))
    spent_usd = models.DecimalField(**USD, default=Decimal(0))
    soft_warned_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.CheckConstraint(condition=models.Q(cap_usd__gte=0), name="budget_cap_not_negative"),
            models.CheckConstraint(
                condition=models.Q(reserved_usd__gte=0, spent_usd__gte=0), name="budget_totals_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(soft_limit_pct__gte=1, soft_limit_pct__lte=100), name="budget_soft_limit_range"
            ),
        ]

    def __str__(self) -> str:
        return f"budget {self.month:%Y-%m}"

    @property
    def committed_usd(self) -> Decimal:
        return self.spent_usd + self.reserved_usd

    @property
    def remaining_usd(self) -> Decimal:
        return max(Decimal(0), self.cap_usd - self.committed_usd)

    @property
    def soft_limit_usd(self) -> Decimal:
        return (self.cap_usd * self.soft_limit_pct / 100).quantize(Decimal("0.000001"))


class BudgetEntry(models.Model):
    """One LLM call's claim on a month: reserved (worst case) before the call, settled (actual) after."""

    class Status(models.TextChoices):
        RESERVED = "reserved"
        SETTLED = "settled"

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="entries")
    mission = models.ForeignKey("Mission", on_delete=models.PROTECT, related_name="budget_entries", null=True)
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="budget_entries", null=True)
    model = models.CharField(max_length=100)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RESERVED)
    reserved_usd = models.DecimalField(**USD)
    actual_usd = models.DecimalField(**USD, null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "budget entries"
        ordering = ["-created_at"]
        indexes = [
            # Serves the per-agent cap check (this month's entries of one agent) and the budget page's breakdown.
            models.Index(fields=["budget", "agent"], name="budgetentry_budget_agent"),
            # Serves the crash recovery of a mission's open reservations.
            models.Index(fields=["mission", "status"], name="budgetentry_mission_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(reserved_usd__gte=0), name="budgetentry_reserved_not_negative"),
            models.CheckConstraint(
                condition=models.Q(status="reserved", actual_usd__isnull=True)
                | models.Q(status="settled", actual_usd__gte=0),
                name="budgetentry_settled_has_actual",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.status} ${self.actual_usd if self.actual_usd is not None else self.reserved_usd}"


class Mission(models.Model):
    """A durable unit of agent work, run by a Django-Q2 task that takes its id."""

    class Kind(models.TextChoices):
        TASK = "task"
        BRIEF = "brief"
        # Kinds run by their own runner (agents/kinds.py) instead of the turn loop.
        EVALUATE = "evaluate"
        MUTATE = "mutate"  # the foundry's LLM rewrite of a bred child's prompt
        INGEST = "ingest"
        GENERATE = "generate"
        CODEGEN = "codegen"
        # Media missions (agents/media): one provider call each, priced per image or per second.
        IMAGE = "image"
        VIDEO = "video"
        SPEECH = "speech"
        TRANSCODE = "transcode"
        REPORT = "report"  # run by reports.runner (registered by the reports app)

    class Status(models.TextChoices):
        QUEUED = "queued"
        AWAITING_APPROVAL = "awaiting_approval"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"
        STOPPED = "stopped"

    class StopReason(models.TextChoices):
        COMPLETED = "completed"
        BUDGET = "budget"
        MAX_TURNS = "max_turns"
        LOOP = "loop"
        TIMEOUT = "timeout"
        CANCELLED = "cancelled"
        ERROR = "error"

    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.STOPPED)

    kind = models.CharField(max_length=10, choices=Kind.choices)
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="missions")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        help_text="The mission that started this one (an evaluation's per-agent runs, for example).",
    )  # fmt: skip
    input = models.JSONField()
    provider = models.CharField(max_length=20)
    model = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    stop_reason = models.CharField(max_length=10, choices=StopReason.choices, blank=True)
    error = models.TextField(blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    turns = models.PositiveIntegerField(default=0)
    forecast_usd = models.DecimalField(**USD, default=Decimal(0))
    budget_usd = models.DecimalField(**USD, null=True, blank=True, help_text="Optional cap for this mission.")
    cost_usd = models.DecimalField(**USD, default=Decimal(0))
    cancel_requested = models.BooleanField(default=False)
    output = models.JSONField(null=True, blank=True)
    artifact = models.ForeignKey("mesh.Artifact", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    receipt = models.ForeignKey("mesh.Receipt", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="missions"
    )
    created_via = models.CharField(max_length=120, blank=True, help_text="'console', or 'api:<key name>'.")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Serves the console list and /api/missions?status=..., newest first.
            models.Index(fields=["status", "-created_at"], name="mission_status_created"),
            # Serves /api/runs/recent (finished missions, newest first).
            models.Index(fields=["-finished_at"], name="mission_finished"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="mission_progress_percent"),
            models.CheckConstraint(condition=models.Q(cost_usd__gte=0), name="mission_cost_not_negative"),
            models.CheckConstraint(
                condition=~models.Q(status__in=["succeeded", "failed", "cancelled", "stopped"])
                | ~models.Q(stop_reason=""),
                name="mission_terminal_has_stop_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"mission {self.pk} ({self.kind}, {self.status})"

    def get_absolute_url(self) -> str:
        return reverse("agents:mission", args=[self.pk])

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class MissionStep(models.Model):
    """One finished step, stored once and never changed: for the turn loop, the model's message and the results
    of the tools it called; for runner kinds, whatever the runner records (``llm_call`` may then be empty)."""

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveIntegerField()
    llm_call = models.OneToOneField("LlmCall", on_delete=models.PROTECT, related_name="step", null=True, blank=True)
    summary = models.CharField(max_length=200)
    output = models.JSONField()
    cost_usd = models.DecimalField(**USD, default=Decimal(0))
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        ordering = ["mission", "number"]
        constraints = [models.UniqueConstraint(fields=["mission", "number"], name="missionstep_unique_number")]

    def __str__(self) -> str:
        return f"mission {self.mission_id} step {self.number}"


class LlmCall(models.Model):
    """The cassette: every LLM call of a mission, numbered. (mission, seq) is unique, so a call that a resumed
    mission would repeat is refused by the database; replay reads these rows instead of the network."""

    class Status(models.TextChoices):
        OK = "ok"
        ERROR = "error"

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="llm_calls")
    seq = models.PositiveIntegerField()
    provider = models.CharField(max_length=20)
    model = models.CharField(max_length=100)
    request = models.JSONField()
    request_blake3 = models.CharField(max_length=64)
    response = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices)
    error = models.TextField(blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    cached_input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(**USD, default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "LLM call"
        ordering = ["mission", "seq"]
        constraints = [models.UniqueConstraint(fields=["mission", "seq"], name="llmcall_unique_seq")]

    def __str__(self) -> str:
        return f"mission {self.mission_id} call {self.seq} ({self.model})"


from agents.codegen.models import *  # noqa: E402, F403  (registers the codegen models)
from agents.dreamstar.models import *  # noqa: E402, F403  (registers the dreamstar models)
from agents.foundry.models import *  # noqa: E402, F403  (registers the foundry models)
from agents.watcher.models import *  # noqa: E402,F403  (registers the watcher models)
