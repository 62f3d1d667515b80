"""Template context shared by every page: the navigation shell and the node's environment."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    return {
        "dreamnet_env": settings.DREAMNET_ENV,
        "status_push_interval_s": settings.STATUS_PUSH_INTERVAL_S,
    }
