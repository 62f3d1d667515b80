"""Foundry models: telemetry traits per agent, hybrids and their lineage, evaluation sets and evaluations."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from agents.foundry.checks import KINDS, CheckError, check_validate

__all__ = [
    "AgentTelemetry",
    "Evaluation",
    "EvaluationCase",
    "EvaluationResult",
    "EvaluationRun",
    "EvaluationSet",
    "Hybrid",
]

USD = {"max_digits": 14, "decimal_places": 6}
SCORE = {"max_digits": 5, "decimal_places": 4}  # 0.0000 .. 1.0000


class AgentTelemetry(models.Model):
    """An agent's latest telemetry from one source: ``missions`` (DreamNet's own, recomputed when a mission
    ends) or ``external:<name>`` (posted to /api/foundry/ingest)."""

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="telemetry")
    source = models.CharField(max_length=60)
    success_rate = models.DecimalField(**SCORE, null=True, blank=True)
    mean_cost_usd = models.DecimalField(**USD, null=True, blank=True)
    mean_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    eval_score = models.DecimalField(**SCORE, null=True, blank=True)
    sample_size = models.PositiveIntegerField(default=0)
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "agent telemetry"
        ordering = ["agent", "source"]
        constraints = [
            # Also serves the traits catalogue's lookup of an agent's telemetry by source.
            models.UniqueConstraint(fields=["agent", "source"], name="telemetry_one_per_source"),
            models.CheckConstraint(
                condition=Q(success_rate__isnull=True) | Q(success_rate__gte=0, success_rate__lte=1),
                name="telemetry_success_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(eval_score__isnull=True) | Q(eval_score__gte=0, eval_score__lte=1),
                name="telemetry_eval_score_range",
            ),
            models.CheckConstraint(
                condition=Q(mean_cost_usd__isnull=True) | Q(mean_cost_usd__gte=0), name="telemetry_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} · {self.source}"


class Hybrid(models.Model):
    """A child agent bred from two parents with a seed. (parent_a, parent_b, seed) is unique, so breeding the
    same pair with the same seed again returns the same child; parents are stored in slug order."""

    child = models.OneToOneField("agents.Agent", on_delete=models.PROTECT, related_name="hybrid")
    parent_a = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="+")
    parent_b = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="+")
    seed = models.CharField(max_length=100)
    generation = models.PositiveIntegerField()
    mutation = models.JSONField(default=dict, help_text="What crossover took from each parent and what mutated.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_via = models.CharField(max_length=120, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent_a=F("parent_b")), name="hybrid_parents_differ"),
            models.CheckConstraint(
                condition=~Q(child=F("parent_a")) & ~Q(child=F("parent_b")), name="hybrid_not_own_parent"
            ),
            models.CheckConstraint(condition=Q(generation__gte=1), name="hybrid_generation_positive"),
            # Also serves the idempotent lookup of hybridize.
            models.UniqueConstraint(fields=["parent_a", "parent_b", "seed"], name="hybrid_unique_breeding"),
        ]

    def __str__(self) -> str:
        return f"hybrid {self.child_id} (gen {self.generation})"


class EvaluationSet(models.Model):
    """A named set of cases (prompt + check) that children and parents are scored on alike."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class EvaluationCase(models.Model):
    """One case: the prompt the agent answers and the check its answer must pass (see agents/foundry/checks.py)."""

    class Kind(models.TextChoices):
        EXACT = "exact"
        CONTAINS = "contains"
        REGEX = "regex"
        JSON_SCHEMA = "json_schema", "JSON schema"
        NUMERIC = "numeric", "Numeric tolerance"

    evaluation_set = models.ForeignKey(EvaluationSet, on_delete=models.CASCADE, related_name="cases")
    position = models.PositiveIntegerField(default=0)
    prompt = models.TextField()
    check_kind = models.CharField(max_length=12, choices=Kind.choices)
    check_spec = models.JSONField(
        default=dict,
        help_text='exact/contains: {"expected": "..."}; regex: {"pattern": "..."}; json_schema: {"schema": {...}}; '
        'numeric: {"expected": 42, "tolerance": 0.5}.',
    )

    class Meta:
        ordering = ["evaluation_set", "position", "pk"]
        constraints = [models.CheckConstraint(condition=Q(check_kind__in=KINDS), name="evaluationcase_known_kind")]

    def __str__(self) -> str:
        return f"{self.evaluation_set_id}#{self.position} {self.check_kind}"

    def clean(self) -> None:
        if not self.prompt.strip():
            raise ValidationError({"prompt": "A case needs a prompt for the agent to answer."})
        try:
            self.check_spec = check_validate(self.check_kind, self.check_spec)
        except CheckError as exc:
            raise ValidationError({"check_spec": str(exc)}) from exc


class Evaluation(models.Model):
    """A child and both its parents run on one evaluation set, one ``evaluate`` mission each."""

    class Status(models.TextChoices):
        RUNNING = "running"
        COMPLETE = "complete"
        FAILED = "failed"

    hybrid = models.ForeignKey(Hybrid, on_delete=models.CASCADE, related_name="evaluations")
    evaluation_set = models.ForeignKey(EvaluationSet, on_delete=models.PROTECT, related_name="evaluations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    note = models.TextField(blank=True)
    fitness = models.JSONField(default=dict, blank=True, help_text="Agent slug → mean case score, once complete.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_via = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Serves a hybrid's latest evaluation (registry, promotion).
            models.Index(fields=["hybrid", "-created_at"], name="evaluation_hybrid_created"),
        ]

    def __str__(self) -> str:
        return f"evaluation {self.pk} ({self.status})"


class EvaluationRun(models.Model):
    """One agent's run in an evaluation: its mission and, once that ends, its fitness."""

    class Role(models.TextChoices):
        CHILD = "child"
        PARENT_A = "parent_a"
        PARENT_B = "parent_b"

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="runs")
    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="evaluation_runs")
    role = models.CharField(max_length=8, choices=Role.choices)
    mission = models.OneToOneField("agents.Mission", on_delete=models.PROTECT, related_name="evaluation_run")
    fitness = models.DecimalField(**SCORE, null=True, blank=True)
    cost_usd = models.DecimalField(**USD, default=Decimal(0))
    collected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["evaluation", "role"]
        constraints = [models.UniqueConstraint(fields=["evaluation", "role"], name="evaluationrun_one_per_role")]

    def __str__(self) -> str:
        return f"{self.evaluation_id}/{self.role}"


class EvaluationResult(models.Model):
    """One case's result for one agent in one evaluation."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="results")
    case = models.ForeignKey(EvaluationCase, on_delete=models.PROTECT, related_name="results")
    passed = models.BooleanField()
    score = models.DecimalField(**SCORE)
    detail = models.CharField(max_length=300, blank=True)
    output_excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "case"]
        constraints = [
            models.UniqueConstraint(fields=["run", "case"], name="evaluationresult_one_per_case"),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=1), name="evaluationresult_score_range"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} case {self.case_id}: {'pass' if self.passed else 'fail'}"
