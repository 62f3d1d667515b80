"""Foundry reads: the traits catalogue, the registry with fitness, hybrids with evaluations, the lineage graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet

from agents.foundry.breeding import prompt_sections
from agents.foundry.models import AgentTelemetry, Evaluation, EvaluationRun, Hybrid
from agents.models import Agent

# Lineage graph geometry (SVG user units).
COLUMN_W, ROW_H, NODE_W, NODE_H, MARGIN = 220, 90, 180, 44, 20


def latest_fitness() -> dict[int, str]:
    """Return agent id → fitness of its most recent collected evaluation run."""
    fitness: dict[int, str] = {}
    runs = EvaluationRun.objects.filter(fitness__isnull=False).order_by("agent_id", "-collected_at")
    for agent_id, value in runs.values_list("agent_id", "fitness"):
        fitness.setdefault(agent_id, str(value))
    return fitness


def traits_catalogue(*, include_retired: bool = False) -> list[dict[str, Any]]:
    """Return every agent's traits: configuration, generation, parents, latest fitness and telemetry by source."""
    agents = Agent.objects.order_by("slug").prefetch_related(
        Prefetch("telemetry", queryset=AgentTelemetry.objects.order_by("source"))
    )
    if not include_retired:
        agents = agents.exclude(status=Agent.Status.RETIRED)
    hybrids = {h.child_id: h for h in Hybrid.objects.select_related("parent_a", "parent_b")}
    fitness = latest_fitness()
    rows = []
    for agent in agents:
        hybrid = hybrids.get(agent.pk)
        rows.append(
            {
                "agent": agent,
                "slug": agent.slug,
                "name": agent.name,
                "status": agent.status,
                "version": agent.version,
                "model": agent.model,
                "temperature": agent.temperature,
                "tools": list(agent.tools),
                "max_tokens": agent.max_tokens,
                "max_turns": agent.max_turns,
                "prompt_sections": len(prompt_sections(agent.system_prompt)),
                "generation": hybrid.generation if hybrid else 0,
                "parents": [hybrid.parent_a.slug, hybrid.parent_b.slug] if hybrid else [],
                "fitness": fitness.get(agent.pk),
                "telemetry": list(agent.telemetry.all()),
            }
        )
    return rows


def _hybrids() -> QuerySet[Hybrid]:
    """Hybrids with everything the API and console show: agents, evaluations (newest first) and their runs."""
    runs = EvaluationRun.objects.select_related("agent", "mission")
    return Hybrid.objects.select_related("child", "parent_a", "parent_b").prefetch_related(
        Prefetch(
            "evaluations",
            queryset=Evaluation.objects.select_related("evaluation_set")
            .order_by("-created_at")
            .prefetch_related(Prefetch("runs", queryset=runs)),
        )
    )


def hybrid_list(*, limit: int = 100) -> QuerySet[Hybrid]:
    return _hybrids()[:limit]


def hybrid_detail(*, hybrid_id: int) -> Hybrid | None:
    return _hybrids().filter(pk=hybrid_id).first()


def evaluation_detail(*, evaluation_id: int) -> Evaluation | None:
    return (
        Evaluation.objects.select_related("hybrid__child", "hybrid__parent_a", "hybrid__parent_b", "evaluation_set")
        .prefetch_related("runs__agent", "runs__mission", "runs__results__case")
        .filter(pk=evaluation_id)
        .first()
    )


@dataclass
class Node:
    slug: str
    name: str
    status: str
    generation: int
    fitness: str | None
    x: int = 0
    y: int = 0
    parents: list[str] = field(default_factory=list)

    @property
    def cx(self) -> int:
        return self.x + NODE_W // 2


@dataclass
class Edge:
    parent: str
    child: str
    x1: int
    y1: int
    x2: int
    y2: int


@dataclass
class Lineage:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int


def lineage_graph() -> Lineage:
    """Return the lineage laid out in layers: generation 0 (agents nobody bred that have children) at the top,
    each generation one row lower, nodes in slug order; edges run from each parent's bottom to its child's top.
    Only agents in some lineage are drawn."""
    hybrids = list(Hybrid.objects.select_related("child", "parent_a", "parent_b").order_by("generation", "pk"))
    fitness = latest_fitness()
    nodes: dict[str, Node] = {}
    generation = {h.child.slug: h.generation for h in hybrids}
    for h in hybrids:
        for agent in (h.parent_a, h.parent_b, h.child):
            if agent.slug not in nodes:
                nodes[agent.slug] = Node(agent.slug, agent.name, agent.status, generation.get(agent.slug, 0),
                                         fitness.get(agent.pk))  # fmt: skip
        nodes[h.child.slug].parents = [h.parent_a.slug, h.parent_b.slug]
    layers: dict[int, list[Node]] = {}
    for node in sorted(nodes.values(), key=lambda n: (n.generation, n.slug)):
        layers.setdefault(node.generation, []).append(node)
    for row, number in enumerate(sorted(layers)):
        for column, node in enumerate(layers[number]):
            node.x, node.y = MARGIN + column * COLUMN_W, MARGIN + row * ROW_H
    edges = [
        Edge(parent, node.slug, nodes[parent].cx, nodes[parent].y + NODE_H, node.cx, node.y)
        for node in nodes.values()
        for parent in node.parents
    ]
    widest = max((len(layer) for layer in layers.values()), default=0)
    width = 2 * MARGIN + max(0, widest * COLUMN_W - (COLUMN_W - NODE_W))
    height = 2 * MARGIN + max(0, len(layers) * ROW_H - (ROW_H - NODE_H))
    return Lineage(sorted(nodes.values(), key=lambda n: (n.generation, n.slug)), edges, width, height)
