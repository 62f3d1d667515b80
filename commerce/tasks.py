"""Django-Q2 entry points for commerce: the spot pump and the unpaid-order sweep."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django_q.models import Schedule

from commerce.payments import pending_retry
from commerce.services import CommerceError, orders_expire, spot_refresh
from commerce.subscriptions import briefs_compute_all
from dreamnet.schedules import schedule_every_minute

logger = logging.getLogger(__name__)
SPOT_SCHEDULE = "commerce: refresh spot feed"
EXPIRY_SCHEDULE = "commerce: expire unpaid orders"
BRIEFS_SCHEDULE = "commerce: daily intelligence briefs"
PENDING_SCHEDULE = "commerce: retry pending payment events"


def spot_pump_task(duration_s: float = 55.0) -> int:
    """Refresh the feed every DREAMNET_SPOT_REFRESH_S for about a minute; the schedule starts the next run.

    Django-Q2 schedules run at most once a minute, and spot must be fresher than that.
    """
    refreshed = 0
    deadline = time.monotonic() + duration_s
    while True:
        try:
            spot_refresh()
            refreshed += 1
        except CommerceError as exc:
            logger.error("Spot refresh failed: %s", exc.detail)
        if time.monotonic() + settings.SPOT_REFRESH_S > deadline:
            return refreshed
        time.sleep(settings.SPOT_REFRESH_S)


def orders_expire_task() -> list[str]:
    return [o.number for o in orders_expire()]


def payment_events_retry_task() -> list[str]:
    """Apply again the provider events the inbox could not apply yet (an invoice before its subscription)."""
    return pending_retry()


def briefs_task() -> list[str]:
    return [f"{b.metal} {b.day}" for b in briefs_compute_all()]


def schedules_ensure() -> None:
    Schedule.objects.update_or_create(
        name=BRIEFS_SCHEDULE,
        defaults={"func": "commerce.tasks.briefs_task", "schedule_type": Schedule.HOURLY, "repeats": -1},
    )
    schedule_every_minute(SPOT_SCHEDULE, "commerce.tasks.spot_pump_task")
    schedule_every_minute(EXPIRY_SCHEDULE, "commerce.tasks.orders_expire_task")
    schedule_every_minute(PENDING_SCHEDULE, "commerce.tasks.payment_events_retry_task")
