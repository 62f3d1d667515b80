"""Reads for the request folder's console page."""

from __future__ import annotations

from agents.watcher.models import RequestFile

EXAMPLE = """---
kind: task
agent: orchestrator
budget_usd: 0.50
---
List today's gold and silver spot prices and the cheapest 1 oz gold coin in the catalog.
"""


def request_file_list(*, limit: int = 100) -> list[RequestFile]:
    """Return the most recent request files, newest first, with their missions."""
    return list(RequestFile.objects.select_related("mission", "mission__agent")[:limit])
