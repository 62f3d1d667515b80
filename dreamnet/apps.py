from __future__ import annotations

from django.apps import AppConfig


class DreamnetConfig(AppConfig):
    name = "dreamnet"
    verbose_name = "DreamNet platform"

    def ready(self) -> None:
        from dreamnet import security  # noqa: F401  (connects the sign-in lockout signal receivers)
