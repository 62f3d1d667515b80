from __future__ import annotations

from django.apps import AppConfig


class DreamnetConfig(AppConfig):
    name = "dreamnet"
    verbose_name = "DreamNet platform"
