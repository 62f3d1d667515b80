"""Request checks that need the API's own document, so they live beside the API root (site layer).

Repeated query parameters: django-ninja would silently keep the last value of a parameter sent twice, so
``?status=failed&status=succeeded`` would answer for one of them without saying which. The middleware answers
422 naming the parameter, unless the operation declares it a list.
"""

from __future__ import annotations

import functools
import json
import re

from django.http import HttpRequest, JsonResponse

from dreamnet.api import api


@functools.cache
def _api_query_index() -> tuple[tuple[str, re.Pattern, frozenset[str]], ...]:
    """(method, path pattern, names of the array-valued query parameters) for every API operation, from the
    OpenAPI document."""
    index = []
    for path, item in api.get_openapi_schema()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            arrays = frozenset(
                p["name"]
                for p in operation.get("parameters", [])
                if p.get("in") == "query" and "array" in json.dumps(p.get("schema", {}))
            )
            index.append((method.upper(), pattern, arrays))
    return tuple(index)


class SingleQueryValueMiddleware:
    """Refuse an API query parameter sent more than once unless the operation declares it a list.

    django-ninja would silently keep the last value, so ``?status=failed&status=succeeded`` would answer for
    one of them without saying which; a 422 names the parameter instead.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path.startswith("/api/") and request.GET:
            repeated = [key for key in request.GET if len(request.GET.getlist(key)) > 1]
            if repeated:
                arrays = next(
                    (a for m, p, a in _api_query_index() if m == request.method and p.match(request.path)), frozenset()
                )
                single = [key for key in repeated if key not in arrays]
                if single:
                    detail = f"Send each of these query parameters once: {', '.join(single)}."
                    return JsonResponse({"detail": detail, "code": "repeated_parameter"}, status=422)
        return self.get_response(request)
