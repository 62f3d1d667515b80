"""Queries per request on the JSON API's list endpoints: as many for ten rows as for five (no N+1), and few.

Each endpoint is called as a client calls it (an API key in X-DREAMNET-KEY) after rows with their related objects
(agent, receipt, artifact, peer, portal, evaluations and runs) are seeded, so a per-row lookup shows as a count that
grows. The commerce catalog, spot and orders endpoints are measured in tests/commerce/test_query_counts.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import mesh
from agents.models import Agent, Mission
from dreamnet.apikeys import SCOPES, apikey_create

pytestmark = pytest.mark.django_db

ROWS = (5, 10)


def _receipt(i: int):
    from mesh.services import receipt_issue

    now = timezone.now()
    return receipt_issue(operation="probe.run", subject=f"probe {i}", inputs={"i": i}, outputs={}, started=now,
                         finished=now, status="succeeded", cost=Decimal(0))  # fmt: skip


def _artifact(i: int):
    from mesh.services import artifact_store

    return artifact_store(content=f"artifact {i}".encode(), name=f"a{i}.txt", media_type="text/plain")


def _agent(i: int) -> Agent:
    return Agent.objects.create(slug=f"probe-{i}", name=f"Probe {i}", role="Seeded for a query count.",
                                status=Agent.Status.ACTIVE)  # fmt: skip


def _mission(i: int, *, kind: str = "task", **extra) -> Mission:
    now = timezone.now()
    fields = {"input": {"prompt": f"job {i}"}, "provider": "offline", "model": "offline",
              "status": Mission.Status.SUCCEEDED, "stop_reason": "completed", "started_at": now, "finished_at": now,
              "receipt": _receipt(i), "artifact": _artifact(i)}  # fmt: skip
    return Mission.objects.create(kind=kind, agent=_agent(i), **(fields | extra))


def _seed_agents(i: int, world: dict) -> None:
    _agent(i)


def _seed_missions(i: int, world: dict) -> None:
    _mission(i)


def _seed_dreamstar_missions(i: int, world: dict) -> None:
    _mission(i, kind="ingest" if i % 2 else "generate", output={"documents": i})


def _ingestion(i: int):
    from agents.dreamstar.models import DreamstarChunk, DreamstarIngestion

    artifact = _artifact(i)
    ingestion = DreamstarIngestion.objects.create(
        source_kind="text", name=f"doc-{i}.md", media_type="text/markdown", blake3=artifact.blake3,
        size=artifact.size, chars=40, chunk_count=2, artifact=artifact, mission=_mission(i, kind="ingest"),
    )  # fmt: skip
    for ordinal in range(2):
        DreamstarChunk.objects.create(ingestion=ingestion, ordinal=ordinal, heading=f"Vault {i}.{ordinal}",
                                      text=f"Allocated bullion storage, bay {i}.", blake3=f"{i:032x}{ordinal:032x}",
                                      start=ordinal * 20, end=ordinal * 20 + 20)  # fmt: skip
    return ingestion


def _seed_ingestions(i: int, world: dict) -> None:
    _ingestion(i)


def _seed_media(i: int, world: dict) -> None:
    artifact = _artifact(i)
    files = [{"blake3": artifact.blake3, "name": artifact.name, "media_type": "image/png", "size": artifact.size}]
    _mission(i, kind="image", input={"prompt": f"bar {i}"}, output={"artifacts": files})


def _hybrid(i: int):
    from agents.foundry.services import hybrid_breed

    parents = ("orchestrator", "analyst")
    hybrid, _created = hybrid_breed(parent_a=parents[0], parent_b=parents[1], seed=f"seed-{i}")
    return hybrid


def _seed_traits(i: int, world: dict) -> None:
    from agents.foundry.services import telemetry_ingest

    hybrid = _hybrid(i)
    telemetry_ingest(agent_slug=hybrid.child.slug, source="probe", success_rate=Decimal("0.9"), sample_size=3)


def _seed_hybrids(i: int, world: dict) -> None:
    from agents.foundry.models import Evaluation, EvaluationRun, EvaluationSet

    hybrid = _hybrid(i)
    evaluation = Evaluation.objects.create(hybrid=hybrid, evaluation_set=EvaluationSet.objects.first(),
                                           status="complete", fitness={hybrid.child.slug: "0.5"})  # fmt: skip
    roles = {"child": hybrid.child, "parent_a": hybrid.parent_a, "parent_b": hybrid.parent_b}
    for n, (role, agent) in enumerate(roles.items()):
        mission = Mission.objects.create(kind="evaluate", agent=agent, input={}, provider="offline", model="offline")
        EvaluationRun.objects.create(evaluation=evaluation, agent=agent, role=role, mission=mission,
                                     fitness=Decimal("0.5"), cost_usd=Decimal(n))  # fmt: skip


def _peer(i: int):
    from mesh.models import Peer

    return Peer.objects.create(url=f"https://node{i}.example", origin=f"node{i}.example/log", verifier_key=f"k{i}",
                               pinned_via="operator", score=0.5, score_at=timezone.now())  # fmt: skip


def _seed_peers(i: int, world: dict) -> None:
    _peer(i)


def _seed_events(i: int, world: dict) -> None:
    mesh.publish("probe.seeded", {"i": i})


def _seed_webhooks(i: int, world: dict) -> None:
    from mesh.models import WebhookSubscription

    WebhookSubscription.objects.create(name=f"hook {i}", url=f"https://hooks{i}.example/in", topics=["order.*"],
                                       secret="s" * 32)  # fmt: skip


def _seed_deliveries(i: int, world: dict) -> None:
    from mesh.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

    if "hook" not in world:
        world["hook"] = WebhookSubscription.objects.create(name="hook", url="https://hooks.example/in",
                                                           topics=["*"], secret="s" * 32)  # fmt: skip
    delivery = WebhookDelivery.objects.create(subscription=world["hook"], event=mesh.publish("probe.hook", {"i": i}),
                                              status="failed", attempts=2)  # fmt: skip
    for number in (1, 2):
        WebhookAttempt.objects.create(delivery=delivery, number=number, started_at=timezone.now(), duration_ms=3.0,
                                      status_code=500, error="Server error")  # fmt: skip
    world["path"] = f"/api/mesh/webhooks/{world['hook'].pk}/deliveries"


def _portal(i: int):
    from mesh.models import Portal

    return Portal.objects.create(portal_id=f"{i:032x}", secret="0" * 64, name=f"portal {i}", path=f"/srv/p{i}",
                                 role="opener", peer=_peer(i), connected=True)  # fmt: skip


def _seed_portals(i: int, world: dict) -> None:
    _portal(i)


def _seed_transfers(i: int, world: dict) -> None:
    from mesh.models import SyncTransfer

    SyncTransfer.objects.create(kind="portal", direction="in", portal=_portal(i), peer_key="a" * 64,
                                manifest_digest="b" * 64, files=1, chunks=1, bytes=10, receipt=_receipt(i))  # fmt: skip


def _seed_jobs(i: int, world: dict) -> None:
    from computejobs.models import ComputeJob

    artifact = _artifact(i)
    ComputeJob.objects.create(kind="montecarlo", params={"paths": 100}, status="succeeded", progress=1.0,
                              result={"mean": i}, receipt_index=i,
                              artifacts=[{"name": artifact.name, "blake3": artifact.blake3,
                                          "media_type": "text/plain"}])  # fmt: skip


def _seed_briefs(i: int, world: dict) -> None:
    from commerce.models import IntelligenceBrief, Metal

    for metal in Metal.values:
        IntelligenceBrief.objects.create(metal=metal, day=date(2026, 1, 1) + timedelta(days=i),
                                         figures={"last": "1", "change_24h": "0", "as_of": "x"},
                                         narrative="Steady.", narrative_source="template")  # fmt: skip


def _seed_wallets(i: int, world: dict) -> None:
    from treasury.models import Wallet

    Wallet.objects.create(company=world["company"], chain="ethereum", address=f"0x{i:040x}", label=f"wallet {i}")


def _seed_snapshots(i: int, world: dict) -> None:
    from treasury.models import Snapshot

    Snapshot.objects.create(company=world["company"], status="done", finished_at=timezone.now(),
                            sources=["simulated"], receipt_index=i)  # fmt: skip


@dataclass(frozen=True)
class Case:
    path: str  # "" when the seed sets world["path"] (one subscription's deliveries)
    seed: Callable[[int, dict], None]
    most: int  # the bound on queries, rows aside
    items: Callable[[object], list] = field(default=lambda body: body)
    grows: bool = True  # False for a list of fixed length (the stats strip counts the rows instead)


CASES = {
    "stats": Case("/api/stats", _seed_missions, 7, grows=False),
    "agents": Case("/api/agents", _seed_agents, 2),
    "missions": Case("/api/missions", _seed_missions, 2),
    "runs-recent": Case("/api/runs/recent", _seed_missions, 1),
    "dreamstar-missions": Case("/api/dreamstar/missions", _seed_dreamstar_missions, 2),
    "dreamstar-ingestions": Case("/api/dreamstar/ingestions", _seed_ingestions, 2),
    "dreamstar-search": Case("/api/dreamstar/search?q=bullion+storage&limit=50", _seed_ingestions, 3),
    "media": Case("/api/media", _seed_media, 2),
    "foundry-traits": Case("/api/foundry/traits", _seed_traits, 5),
    "foundry-hybrids": Case("/api/foundry/hybrids", _seed_hybrids, 4),
    "mesh-peers": Case("/api/mesh/peers", _seed_peers, 2),
    "mesh-events": Case("/api/mesh/events", _seed_events, 2, lambda body: body["events"]),
    "mesh-entries": Case("/api/mesh/entries", _seed_events, 2, lambda body: body["entries"]),
    "mesh-webhooks": Case("/api/mesh/webhooks", _seed_webhooks, 2),
    "mesh-webhook-deliveries": Case("", _seed_deliveries, 4),
    "sync-portals": Case("/api/sync/portals", _seed_portals, 2),
    "sync-transfers": Case("/api/sync/transfers", _seed_transfers, 2),
    "compute-jobs": Case("/api/compute/jobs", _seed_jobs, 2),
    "commerce-intelligence": Case("/api/commerce/intelligence", _seed_briefs, 7, grows=False),
    "treasury-wallets": Case("/api/treasury/wallets", _seed_wallets, 3),
    "treasury-snapshots": Case("/api/treasury/snapshots", _seed_snapshots, 3),
}


@pytest.fixture
def world(alice) -> dict:
    """A company alice buys for, and one API key holding every scope, linked to that company."""
    from commerce.models import Membership
    from commerce.services import company_create, company_key_link

    company = company_create(slug="acme", name="Acme Metals", verified=True)
    Membership.objects.create(company=company, user=alice, role=Membership.Role.BUYER)
    key, raw = apikey_create(name="client", scopes=list(SCOPES))
    company_key_link(api_key=key, slug="acme", username="alice")
    return {"company": company, "headers": {"X-DREAMNET-KEY": raw}}


def _measure(client, path: str, headers: dict, items: Callable) -> tuple[int, int]:
    """Return (queries, rows listed) for one GET, after one warm-up (the key's last-used stamp, first-use caches)."""
    client.get(path, headers=headers)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, response.content
    return len(queries), len(items(response.json()))


@pytest.mark.parametrize("name", list(CASES))
def test_a_list_takes_as_many_queries_for_ten_rows_as_for_five(client, world, name, django_assert_max_num_queries):
    case = CASES[name]
    counts, listed, seeded = [], [], 0
    for rows in ROWS:
        while seeded < rows:
            case.seed(seeded, world)
            seeded += 1
        path = case.path or world["path"]
        queries, length = _measure(client, path, world["headers"], case.items)
        counts.append(queries)
        listed.append(length)
    assert listed[0] >= 1 and (listed[1] > listed[0] or not case.grows), f"{name} listed {listed}: seeding not shown"
    assert counts[0] == counts[1], f"{name}: {counts[0]} queries for {ROWS[0]} rows, {counts[1]} for {ROWS[1]}"
    with django_assert_max_num_queries(case.most):
        client.get(path, headers=world["headers"])


@pytest.mark.parametrize("path", ["/api/changelog", "/api/reports/types", "/api/compute/instances"])
def test_a_list_read_from_code_or_files_takes_at_most_the_key_lookup(
    client, world, path, django_assert_max_num_queries
):
    client.get(path, headers=world["headers"])
    with django_assert_max_num_queries(1):  # the API key; the list itself is code or files
        response = client.get(path, headers=world["headers"])
    assert response.status_code == 200 and response.json()
