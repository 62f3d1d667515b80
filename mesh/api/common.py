"""The /api/mesh/ router that the mesh API modules add their operations to, and the helpers they share.

One router rather than one per module: every operation stays a direct operation of the router mounted at
/api/mesh/, as the API's route checks and the OpenAPI document expect.
"""

from __future__ import annotations

import base64
import re

from django.http import HttpRequest
from ninja import Router

from dreamnet.ninja import ApiError, ErrorOut

router = Router(tags=["mesh"])
ERRORS_422 = {422: ErrorOut}
MEDIA_TYPE_RE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def single_form_values(request: HttpRequest, *names: str) -> None:
    """Refuse a multipart field sent more than once: Django would silently keep the last one."""
    repeated = [name for name in names if len(request.POST.getlist(name)) > 1 or len(request.FILES.getlist(name)) > 1]
    if repeated:
        raise ApiError(422, "repeated_field", f"Send each of these fields once: {', '.join(repeated)}.")
