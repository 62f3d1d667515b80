from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from agents.models import Agent, Mission
from dreamnet.stats import stat


@stat("active_agents", label="active agents")
def active_agents() -> tuple[str, str]:
    count = Agent.objects.filter(status=Agent.Status.ACTIVE).count()
    drafts = Agent.objects.filter(status=Agent.Status.DRAFT).count()
    return str(count), (f"{drafts} more in draft" if drafts else "no drafts")


@stat("missions_24h", label="missions in 24 h")
def missions_24h() -> tuple[str, str]:
    recent = Mission.objects.filter(created_at__gte=timezone.now() - timedelta(hours=24))
    count = recent.count()
    if count == 0:
        return "0", "no missions yet today"
    succeeded = recent.filter(status=Mission.Status.SUCCEEDED).count()
    return str(count), f"{succeeded} succeeded"
