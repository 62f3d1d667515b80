from __future__ import annotations

import pytest
from django.db import connection


@pytest.fixture
def tamper():
    """Return a function that edits sealed rows the way an attacker with database access would.

    On PostgreSQL the append-only triggers refuse UPDATE; a superuser can switch them off for the current
    transaction, which is what this does before running the update.
    """

    def run(queryset, **changes) -> int:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        return queryset.update(**changes)

    return run
