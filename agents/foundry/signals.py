"""The foundry's hook on missions: when a mission ends, collect it (evaluate missions) and refresh telemetry."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

logger = logging.getLogger(__name__)


def _mission_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    # mission_finish saves the terminal status with update_fields naming "status"; other saves are not endings.
    if not instance.is_terminal or (update_fields is not None and "status" not in update_fields):
        return
    mission_id = instance.pk

    def after_commit() -> None:
        from agents.foundry.services import mission_ended

        try:
            mission_ended(mission_id=mission_id)
        except Exception:  # the mission has ended either way; a failed collection is logged, not raised
            logger.exception("Foundry could not collect mission %s", mission_id)

    transaction.on_commit(after_commit)


def connect() -> None:
    from agents.models import Mission

    post_save.connect(_mission_saved, sender=Mission, dispatch_uid="foundry_mission_saved")
