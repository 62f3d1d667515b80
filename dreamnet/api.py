"""The JSON API root: one NinjaAPI at /api/, routers mounted from each app.

Errors are JSON ``{"detail": ..., "code": ...}`` with the right 4xx status; the schemas below put them in
the OpenAPI document.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.security import APIKeyHeader

from dreamnet.apikeys import ApiKeyRejected, apikey_authenticate
from dreamnet.health import health_snapshot


class ErrorOut(Schema):
    detail: str
    code: str


class ValidationErrorOut(Schema):
    detail: list[dict]
    code: str


class ApiError(Exception):
    """Raise from an API view or service to answer ``{"detail", "code"}`` with ``status``."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


class ApiKeyAuth(APIKeyHeader):
    """Require an active API key in ``X-DREAMNET-KEY``, holding ``scope`` when one is given."""

    param_name = "X-DREAMNET-KEY"

    def __init__(self, scope: str | None = None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, key: str | None):
        api_key = apikey_authenticate(raw=key, scope=self.scope)
        request.api_key = api_key
        return api_key


def require_scope(scope: str) -> ApiKeyAuth:
    """Return the auth for routers and operations that need ``scope``."""
    return ApiKeyAuth(scope)


AUTH_ERRORS = {401: ErrorOut, 403: ErrorOut}

api = NinjaAPI(
    title="DreamNet API",
    version="1",
    description=(
        "Machine access to DreamNet: health, commerce, missions, the StarBridge mesh and compute. "
        "Authenticate with an API key in the `X-DREAMNET-KEY` header (create one in the admin or with "
        "`python manage.py apikey create`). Errors are JSON `{detail, code}`."
    ),
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, code: str, detail: str) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "code": code}, status=status)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.detail)


@api.exception_handler(ApiKeyRejected)
def _api_key_rejected(request: HttpRequest, exc: ApiKeyRejected) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.detail)


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", "Authentication required.")


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.errors, "code": "validation_error"}, status=422)


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return _error(request, 422, "invalid", " ".join(exc.messages))


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    wait = int(exc.wait or 1)
    response = _error(request, 429, "rate_limited", f"Too many requests; retry in {wait} s.")
    response["Retry-After"] = str(wait)
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc.message))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", str(exc) or "Not found.")


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "forbidden", str(exc) or "You may not do that.")


# Platform endpoints -------------------------------------------------------------------------------------

platform = Router(tags=["platform"])


class ProbeOut(Schema):
    name: str
    ok: bool
    required: bool
    latency_ms: float
    detail: str


class HealthOut(Schema):
    status: str
    checked_at: str
    environment: str
    probes: list[ProbeOut]


@platform.get("/health", response={200: HealthOut, 503: HealthOut}, summary="Probe every part of the node")
def health(request: HttpRequest):
    """Run the health probes. 200 when every required probe passed (status `ok` or `degraded`), else 503."""
    snapshot = health_snapshot()
    return Status(503 if snapshot["status"] == "down" else 200, snapshot)


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
    from agents.foundry.api import router as foundry_router

    api.add_router("/foundry/", foundry_router)
    from mesh.api import dreamsnail
    from mesh.api import router as mesh_router

    api.add_router("/mesh/", mesh_router)
    api.add_router("/dreamsnail/", dreamsnail)
    from commerce.api import router as commerce_router

    api.add_router("/commerce/", commerce_router)
    from dreamnet.api_compute import router as compute_router

    api.add_router("/compute/", compute_router)


_mount_app_routers()
