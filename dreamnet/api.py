"""The JSON API root: one ``DreamNetAPI`` at /api/, the platform endpoints, and every app's router mounted.

The site layer: the only module that imports the apps' routers. What the routers share (error schemas,
``ApiError``, authentication, scopes, the JSON error handlers) is in ``dreamnet/ninja.py``, which imports no app.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from dreamnet.health import coherence_view, health_current
from dreamnet.ninja import AUTH_ERRORS, ApiKeyAuth, DreamNetAPI, require_scope

api = DreamNetAPI(
    title="DreamNet API",
    version="1",
    description=(
        "Machine access to DreamNet: health, commerce, missions, the StarBridge mesh and compute. "
        "Authenticate with an API key in the `X-DREAMNET-KEY` header (create one in the admin or with "
        "`python manage.py apikey create`). Errors are JSON `{detail, code}`."
    ),
    urls_namespace="api",
)


# Platform endpoints -------------------------------------------------------------------------------------

platform = Router(tags=["platform"])


class ProbeOut(Schema):
    name: str
    ok: bool
    required: bool
    latency_ms: float
    detail: str


class CoherenceWindowOut(Schema):
    seconds: int
    start: str
    end: str
    rounds: int
    first: str | None
    last: str | None


class CoherencePairOut(Schema):
    services: list[str]
    correlation: float


class CoherenceOut(Schema):
    services: list[str]
    matrix: list[list[float]] | None
    healthy_share: list[float] | None
    purity: float | None
    entropy: float | None
    eigenvalues: list[float] | None
    pairs: list[CoherencePairOut]
    window: CoherenceWindowOut
    reading: str
    source: str


class HealthOut(Schema):
    status: str
    checked_at: str
    environment: str
    probes: list[ProbeOut]
    age_s: float = Field(0.0, description="How old this probe round is, in seconds (at most 1 s by default)")
    coherence: CoherenceOut | None = None


@platform.get("/health", response={200: HealthOut, 503: HealthOut}, summary="Probe every part of the node")
def health(request: HttpRequest, detail: Literal["coherence"] | None = None):
    """The node's health probes. 200 when every required probe passed (status `ok` or `degraded`), else 503.

    The probe round is at most DREAMNET_HEALTH_MAX_AGE_MS old (1 s by default; one round per process per interval,
    not one per request); `age_s` says how old it is.

    With `?detail=coherence` the answer adds `coherence`: the 5×5 density matrix of the stored probe history
    (database, channel layer, task cluster, mesh log, peers) over the last DREAMNET_HEALTH_WINDOW_S seconds, with
    its purity, von Neumann entropy (bits), eigenvalues and a one-line reading (docs/operations.md)."""
    snapshot = health_current()
    if detail == "coherence":
        snapshot["coherence"] = coherence_view() if _database_ok(snapshot) else None
    return Status(503 if snapshot["status"] == "down" else 200, snapshot)


def _database_ok(snapshot: dict) -> bool:
    return any(p["name"] == "database" and p["ok"] for p in snapshot["probes"])


class StatOut(Schema):
    name: str
    label: str
    value: str
    detail: str
    ok: bool


@platform.get("/stats", response=list[StatOut], summary="The site's stats strip")
def stats(request: HttpRequest):
    """Figures the system measured (events sealed, spot gold, agents and missions when that app runs); a source
    that cannot answer is reported as unavailable with the reason, never as a made-up number."""
    from dreamnet.stats import stats_snapshot

    return stats_snapshot()


class ChangelogOut(Schema):
    date: str
    changes: list[str]


@platform.get("/changelog", response=list[ChangelogOut], summary="What changed, newest first")
def changelog(request: HttpRequest):
    from dreamnet.site import changelog as read_changelog

    return read_changelog()


class KeyOut(Schema):
    name: str
    prefix: str
    scopes: list[str]


@platform.get("/auth/whoami", response={200: KeyOut, **AUTH_ERRORS}, auth=ApiKeyAuth(), summary="Describe my key")
def whoami(request: HttpRequest):
    """Return the name, prefix and scopes of the API key that signed this request."""
    key = request.api_key
    return {"name": key.name, "prefix": key.prefix, "scopes": key.scopes}


class ClusterOut(Schema):
    cluster_id: str
    host: str
    status: str
    workers: int
    uptime_s: float


class QueueOut(Schema):
    queued: int
    failed_last_24h: int
    succeeded_last_24h: int
    clusters: list[ClusterOut]


@platform.get("/queue", response={200: QueueOut, **AUTH_ERRORS}, auth=require_scope("ops"), summary="Task queue")
def queue(request: HttpRequest):
    """Return Django-Q2 queue depth, the last day's successes and failures, and the running clusters."""
    from dreamnet.selectors import queue_stats

    return queue_stats()


api.add_router("/", platform)


def _mount_app_routers() -> None:
    from agents.api import agents_router, budget_router, missions_router, runs_router

    api.add_router("/agents", agents_router)
    api.add_router("/missions", missions_router)
    api.add_router("/runs", runs_router)
    api.add_router("/budget", budget_router)
    from agents.codegen.api import router as codegen_router

    api.add_router("/codegen", codegen_router)
    from agents.dreamstar.api import router as dreamstar_router

    api.add_router("/dreamstar/", dreamstar_router)
    from agents.foundry.api import router as foundry_router

    api.add_router("/foundry/", foundry_router)
    from agents.media.api import router as media_router

    api.add_router("/media", media_router)
    from mesh.api import dreamsnail_router
    from mesh.api import router as mesh_router

    api.add_router("/mesh/", mesh_router)
    api.add_router("/dreamsnail/", dreamsnail_router)
    from commerce.api import router as commerce_router

    api.add_router("/commerce/", commerce_router)
    from computejobs.api import router as compute_router

    api.add_router("/compute/", compute_router)
    from treasury.api import router as treasury_router

    api.add_router("/treasury/", treasury_router)
    from reports.api import router as reports_router

    api.add_router("/reports", reports_router)

    from mesh.sync.api import router as sync_router

    api.add_router("/sync/", sync_router)


_mount_app_routers()
