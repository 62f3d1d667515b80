"""The pieces every app's JSON API shares: error schemas and ``ApiError``, API-key and session authentication,
scopes, decimal input types, paging bounds, and ``DreamNetAPI`` with its JSON error handlers.

Platform plumbing: this module imports no app, so every app's ``api.py`` can import it and only the site's root
(``dreamnet/api.py``) imports the apps' routers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.security import APIKeyHeader, SessionAuth
from ninja.utils import check_csrf
from pydantic import WithJsonSchema

from dreamnet.apikeys import ApiKeyRejected, apikey_authenticate
from dreamnet.errors import DomainError
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


API_KEY_HEADER = "X-DREAMNET-KEY"


class ApiKeyAuth(APIKeyHeader):
    """Require an active API key in ``X-DREAMNET-KEY``, holding ``scope`` when one is given.

    With ``required=False`` a request without the header is passed on to the next authentication (a session),
    while a request that sends a key is decided by that key alone: a bad key is a 401, never a fall-through.
    """

    param_name = API_KEY_HEADER

    def __init__(self, scope: str | None = None, *, required: bool = True) -> None:
        super().__init__()
        self.scope = scope
        self.required = required

    def authenticate(self, request: HttpRequest, key: str | None):
        if not key and not self.required:
            return None
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


class CsrfSessionAuth(SessionAuth):
    """A signed-in Django session, with Django's CSRF check (the session cookie is an ambient credential).

    django-ninja's ``SessionAuth`` checks CSRF before it knows whether there is a session, so a request with no
    cookies at all fails CSRF instead of falling through to the next authentication. Here CSRF is checked only
    for a signed-in user, and a failure names what to send.
    """

    def __init__(self) -> None:
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not request.user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise ApiError(
                403,
                "csrf_failed",
                "CSRF check failed: a signed-in browser request must send the csrftoken cookie's value in the "
                "X-CSRFToken header. Machine clients send an API key in X-DREAMNET-KEY instead.",
            )
        return request.user


def require_scope(scope: str) -> ApiKeyAuth:
    """Return the auth for routers and operations that need ``scope``."""
    return ApiKeyAuth(scope)


def key_or_session(scope: str) -> list:
    """Return the auth for operations open to an API key with ``scope`` or to a signed-in member.

    The key is tried first and, when the header is present, decides (no CSRF: a key is no ambient credential);
    only a request without a key is authenticated by its session, and then CSRF applies.
    """
    return [ApiKeyAuth(scope, required=False), CsrfSessionAuth()]


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
    - 400 and 413 (``ErrorOut``) on any operation that takes a body: a body that does not parse (bad JSON, a
      broken multipart stream: ``http_error``, ``multipart_malformed``) is refused before validation, and one past
      Django's in-memory limit (``DATA_UPLOAD_MAX_MEMORY_SIZE``) or an upload limit is ``too_large``.
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
                responses.setdefault("413", _error_response("Content Too Large", error_ref))
            if operation.get("security"):
                responses.setdefault("401", _error_response("Unauthorized", error_ref))
                responses.setdefault("403", _error_response("Forbidden", error_ref))
                responses.setdefault("429", _error_response("Too Many Requests", error_ref))
    return schema


def unparseable_body_error(request: HttpRequest, exc: Exception) -> tuple[int, str, str]:
    """Return (status, code, detail) for a request body Django refused to parse, and mark the body unreadable.

    Shared by the API's exception handlers and the site's 400 handler (``dreamnet.views.bad_request``), which
    answers what is raised outside the API's views (a middleware reading ``request.POST``).
    """
    # Reading request.POST again would raise again (Django does the same in its own handler).
    request._mark_post_parse_error()
    if isinstance(exc, MultiPartParserError):
        detail = (
            f"The multipart body could not be parsed ({exc}). Send multipart/form-data with the boundary named in "
            "the Content-Type header, each part opened by --BOUNDARY and the body closed by --BOUNDARY--."
        )
        return 400, "multipart_malformed", detail
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return 413, "too_large", f"The request body is larger than this endpoint accepts ({limit} bytes)."
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return 400, "too_many_fields", f"The request body has too many fields or files: {exc}"
    if isinstance(exc, BadRequest):
        return 400, "http_error", str(exc) or "The request body could not be parsed."
    return 400, "http_error", "The request was refused as malformed (a header or body Django will not accept)."


class DreamNetAPI(NinjaAPI):
    """A NinjaAPI whose every error is JSON ``{"detail", "code"}`` and whose document declares them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        handlers = {
            ApiError: lambda exc: (exc.status, exc.code, exc.detail),
            AuthenticationError: lambda exc: (401, "unauthenticated", "Authentication required."),
            DjangoValidationError: lambda exc: (422, "invalid", " ".join(exc.messages)),
            HttpError: lambda exc: (exc.status_code, "http_error", str(exc.message)),
            Http404: lambda exc: (404, "not_found", str(exc) or "Not found."),
            PermissionDenied: lambda exc: (403, "forbidden", str(exc) or "You may not do that."),
        }
        for exc_class, describe in handlers.items():
            self.add_exception_handler(exc_class, self._handler(describe))
        # A body Django cannot parse raises when ninja first reads request.POST/FILES/body (auth's CSRF check or
        # the parameter parsing); without these Django's handler would answer an HTML page.
        for exc_class in (MultiPartParserError, BadRequest, SuspiciousOperation):
            self.add_exception_handler(exc_class, self._unparseable_body)
        self.add_exception_handler(ApiKeyRejected, self._api_key_rejected)
        self.add_exception_handler(DomainError, self._domain_error)
        self.add_exception_handler(ValidationError, self._validation_error)
        self.add_exception_handler(Throttled, self._throttled)

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None):
        return openapi_document_errors(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))

    def error_response(self, request: HttpRequest, status: int, code: str, detail: str) -> HttpResponse:
        return self.create_response(request, {"detail": detail, "code": code}, status=status)

    def _handler(self, describe):
        def handle(request: HttpRequest, exc: Exception) -> HttpResponse:
            return self.error_response(request, *describe(exc))

        return handle

    def _unparseable_body(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        return self.error_response(request, *unparseable_body_error(request, exc))

    def _api_key_rejected(self, request: HttpRequest, exc: ApiKeyRejected) -> HttpResponse:
        response = self.error_response(request, exc.status, exc.code, exc.detail)
        if exc.status == 429:
            response["Retry-After"] = str(API_KEY_FAILURE_WINDOW_S)
        return response

    def _domain_error(self, request: HttpRequest, exc: DomainError) -> HttpResponse:
        return self.create_response(request, exc.as_body(), status=exc.status)

    def _validation_error(self, request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return self.create_response(request, {"detail": exc.errors, "code": "validation_error"}, status=422)

    def _throttled(self, request: HttpRequest, exc: Throttled) -> HttpResponse:
        wait = int(exc.wait or 1)
        response = self.error_response(request, 429, "rate_limited", f"Too many requests; retry in {wait} s.")
        response["Retry-After"] = str(wait)
        return response
