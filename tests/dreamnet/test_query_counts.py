"""Queries per request on the status page and the console overview: bounded whatever the history holds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import mesh

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code in (200, 503)
    return len(queries)


def test_the_status_page_reads_a_kept_probe_round(client, settings, django_assert_max_num_queries):
    settings.HEALTH_MAX_AGE_S = 60
    client.get("/status")
    with django_assert_max_num_queries(2):  # the stored rounds for the coherence view; no probe runs
        assert client.get("/status").status_code == 200


def test_the_console_overview_is_bounded_whatever_the_log_holds(client, olivia, django_assert_max_num_queries):
    client.force_login(olivia)
    counts = []
    for events in (5, 40):
        while mesh.services.Event.objects.count() < events:
            mesh.publish("order.paid", {"n": 1})
        counts.append(_queries(client, "/console/"))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(40):
        client.get("/console/")
