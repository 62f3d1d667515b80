"""The coherence view over stored probe rounds: recording (throttle, retention, rounds kept through a database
outage), /api/health?detail=coherence, the /status heatmap, and `dream health` / `dream whoami`."""

from __future__ import annotations

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone
from typer.testing import CliRunner

from dreamnet import health
from dreamnet.cli import app
from dreamnet.coherence import SERVICES
from dreamnet.models import HealthSample

pytestmark = pytest.mark.django_db


def _store(rounds: int, *, down: tuple[str, ...] = (), every: int = 1, start=None) -> None:
    start = start or timezone.now() - timedelta(minutes=30)
    HealthSample.objects.bulk_create(
        HealthSample(
            checked_at=start + timedelta(seconds=10 * i),
            status="degraded" if down and i % every == 0 else "ok",
            results={name: [not (name in down and i % every == 0), 1.0 + (i % 3)] for name in SERVICES},
        )
        for i in range(rounds)
    )


@pytest.fixture
def no_live_round(settings):
    """Keep the probes run by the request under test out of the history (the stored rounds alone count)."""
    settings.HEALTH_SAMPLE_S = 3600
    cache.add(health.SAMPLED_KEY, 1, timeout=3600)


def test_a_snapshot_stores_one_round_per_sample_interval(client, settings):
    settings.HEALTH_SAMPLE_S = 60
    client.get("/api/health")
    client.get("/api/health")
    assert HealthSample.objects.count() == 1
    sample = HealthSample.objects.get()
    assert set(sample.results) >= set(SERVICES)
    assert sample.results["database"][0] is True
    cache.delete(health.SAMPLED_KEY)  # the interval has passed
    client.get("/api/health")
    assert HealthSample.objects.count() == 2


def test_rounds_older_than_the_history_are_deleted():
    _store(3, start=timezone.now() - timedelta(hours=30))
    health.health_record(health.health_snapshot(record=False), force=True)
    assert HealthSample.objects.count() == 1
    assert HealthSample.objects.get().checked_at > timezone.now() - timedelta(minutes=1)


def test_a_round_the_database_refused_is_written_with_the_next():
    snapshot = health.health_snapshot(record=False)
    with mock.patch.object(HealthSample.objects, "bulk_create", side_effect=DatabaseError("connection refused")):
        assert health.health_record(snapshot, force=True) is True
    assert HealthSample.objects.count() == 0
    health.health_record(health.health_snapshot(record=False), force=True)
    assert HealthSample.objects.count() == 2
    assert not health._PENDING


def test_a_failing_cache_does_not_fail_the_health_check(client, monkeypatch):
    monkeypatch.setattr(health, "_LOCAL_CLAIM", [0.0])
    with mock.patch.object(health.cache, "add", side_effect=ConnectionError("redis is down")):
        assert client.get("/api/health").status_code == 200
        assert HealthSample.objects.count() == 1  # this process throttles alone
        client.get("/api/health")
    assert HealthSample.objects.count() == 1


def test_the_heatmap_partial_says_when_the_history_cannot_be_read(client):
    with mock.patch("dreamnet.views.coherence_view", side_effect=DatabaseError("gone")):
        partial = client.get("/status/coherence", headers={"HX-Request": "true"}).content.decode()
    assert "not answering" in partial


def test_the_schedule_task_records_a_round():
    assert health.health_record_task() is True
    assert HealthSample.objects.count() == 1


def test_api_health_detail_coherence_reports_the_matrix(client, no_live_round):
    _store(40, down=("database", "task_cluster"), every=4)
    response = client.get("/api/health", {"detail": "coherence"})
    assert response.status_code == 200
    coherence = response.json()["coherence"]
    assert coherence["services"] == list(SERVICES)
    assert len(coherence["matrix"]) == 5 and all(len(row) == 5 for row in coherence["matrix"])
    assert abs(sum(coherence["matrix"][i][i] for i in range(5)) - 1) < 1e-5
    assert len(coherence["eigenvalues"]) == 5
    assert 0.2 <= coherence["purity"] <= 1
    assert coherence["entropy"] >= 0
    assert coherence["window"]["rounds"] == 40
    assert coherence["window"]["seconds"] == 3600
    assert coherence["reading"] == "two services fail together: database and task cluster"
    assert coherence["pairs"][0]["services"] == ["database", "task_cluster"]
    assert coherence["source"] == "measured"


def test_api_health_without_detail_has_no_coherence(client):
    assert "coherence" not in client.get("/api/health").json() or client.get("/api/health").json()["coherence"] is None


def test_api_health_refuses_an_unknown_detail(client):
    response = client.get("/api/health", {"detail": "everything"})
    assert response.status_code == 422


def test_the_status_page_shows_the_heatmap_and_polls_it(client, no_live_round):
    _store(30, down=("peers",), every=3)
    page = client.get("/status").content.decode()
    assert 'id="coherence"' in page
    assert 'hx-get="/status/coherence"' in page and 'hx-trigger="every 10s"' in page
    assert "<svg" in page and page.count("<rect") == 25
    assert "failures are independent: peers healthy" in page
    partial = client.get("/status/coherence", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<section id="coherence"')
    assert "<svg" in partial and "<html" not in partial


def test_the_status_page_says_when_there_is_no_history_yet(client, no_live_round):
    page = client.get("/status").content.decode()
    assert "no probe rounds stored in the window yet" in page


def test_dream_health_prints_the_matrix_and_reading(no_live_round):
    _store(20, down=("mesh_log",), every=1)
    result = CliRunner().invoke(app, ["health"])
    assert result.exit_code == 0, result.output  # degraded (no cluster under tests) is not down
    assert "coherence over" in result.output
    assert "reading: down throughout the window: mesh log" in result.output
    assert "purity" in result.output and "entropy" in result.output


def test_dream_health_json_and_exit_code_when_down(settings):
    settings.HEALTH_MIN_FREE_MB = 10**12
    result = CliRunner().invoke(app, ["health", "--json"])
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert body["status"] == "down"
    assert body["coherence"]["services"] == list(SERVICES)


def test_dream_whoami_names_the_node():
    from mesh.identity import node_identity

    result = CliRunner().invoke(app, ["whoami", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["node_id"] == node_identity().node_id
    assert body["verifier_key"] == node_identity().verifier_key
    assert body["database"].split()[0] in {"sqlite", "postgresql"}
