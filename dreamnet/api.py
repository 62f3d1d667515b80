"""The JSON API root: one NinjaAPI at /api/, routers mounted from each app.

Errors are JSON ``{"detail": ..., "code": ...}`` with the right 4xx status; the schemas below put them in
the OpenAPI document.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.security import APIKeyHeader
from pydantic import WithJsonSchema

from dreamnet.apikeys import ApiKeyRejected, apikey_authenticate
from dreamnet.health import health_snapshot
from dreamnet.security import (
    API_KEY_FAILURE_WINDOW_S,
    api_key_failure_record,
    api_key_failures_exceeded,
    client_ip,
)


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
        ip = client_ip(request)
        if key and api_key_failures_exceeded(ip):
            raise ApiKeyRejected(
                status=429, code="rate_limited", detail="Too many invalid API keys from your address; retry in 60 s."
            )
        try:
            api_key = apikey_authenticate(raw=key, scope=self.scope)
        except ApiKeyRejected as exc:
            if key and exc.status == 401:
                api_key_failure_record(ip)
            raise
        request.api_key = api_key
        return api_key


def require_scope(scope: str) -> ApiKeyAuth:
    """Return the auth for routers and operations that need ``scope``."""
    return ApiKeyAuth(scope)


AUTH_ERRORS = {401: ErrorOut, 403: ErrorOut}

# A USD amount in a request body: a JSON number or a decimal string. Declared by hand because pydantic documents
# Decimal as any string, which lets the document promise inputs ("abc") the validator refuses.
UsdAmount = Annotated[
    Decimal,
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"}]}
    ),
]

# Any other decimal in a request body (rates, scores), documented the same way.
DecimalIn = UsdAmount

# Paging bound for list endpoints: past it the database would be asked for an offset it cannot hold.
MAX_OFFSET = 10_000_000

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _error_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def openapi_document_errors(schema: dict) -> dict:
    """Declare the error answers every operation can give, so the document matches what the API does.

    - 422 on any operation that takes parameters or a body: either the schema check's
      ``{"detail": [ ...errors ], "code": "validation_error"}`` or a handler's ``{"detail": "...", "code"}``.
      An operation that declared ``422: ErrorOut`` gets the union, since the schema check runs first.
    - 400 (``ErrorOut``) on any operation that takes a body: a body that does not parse (bad JSON, a broken
      multipart stream) is refused before validation.
    - 401, 403 and 429 (``ErrorOut``) on any operation that needs an API key (429: too many invalid keys
      from the client's address, dreamnet/security.py).

    Applied to the whole document, so routers mounted later are covered without declaring these by hand.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorOut", ErrorOut.model_json_schema())
    components.setdefault("ValidationErrorOut", ValidationErrorOut.model_json_schema())
    error_ref = {"$ref": "#/components/schemas/ErrorOut"}
    unprocessable = {"anyOf": [error_ref, {"$ref": "#/components/schemas/ValidationErrorOut"}]}
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if operation.get("parameters") or operation.get("requestBody"):
                described = responses.get("422", {}).get("description") or "Unprocessable Content"
                responses["422"] = _error_response(described, unprocessable)
            if operation.get("requestBody"):
                responses.setdefault("400", _error_response("Bad Request", error_ref))
            if operation.get("security"):
                responses.setdefault("401", _error_response("Unauthorized", error_ref))
                responses.setdefault("403", _error_response("Forbidden", error_ref))
                responses.setdefault("429", _error_response("Too Many Requests", error_ref))
    return schema


class DreamNetAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None):
        return openapi_document_errors(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


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


def _error(request: HttpRequest, status: int, code: str, detail: str) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "code": code}, status=status)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.detail)


@api.exception_handler(ApiKeyRejected)
def _api_key_rejected(request: HttpRequest, exc: ApiKeyRejected) -> HttpResponse:
    response = _error(request, exc.status, exc.code, exc.detail)
    if exc.status == 429:
        response["Retry-After"] = str(API_KEY_FAILURE_WINDOW_S)
    return response


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
    from agents.codegen.api import router as codegen_router

    api.add_router("/codegen", codegen_router)
    from agents.dreamstar.api import router as dreamstar_router

    api.add_router("/dreamstar/", dreamstar_router)
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
